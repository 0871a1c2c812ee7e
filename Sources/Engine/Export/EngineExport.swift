import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What recreates this engine elsewhere (Vault, OpenBao, another dbsecrets): the API writes that
/// make its mounts, password policies, connections, roles and static roles, in that order (each
/// refers only to what comes before it). Every object is read back through the engine's own
/// paths, and only the fields its write declares are kept, so each write is one the same path
/// accepts. Leases are not among them: Vault cannot import a lease, so they stay and expire here.
public struct EngineExport: Sendable, Equatable {
    public struct Write: Sendable, Equatable {
        public enum Kind: String, Sendable {
            case mount, passwordPolicy, connection, role, staticRole
        }

        public var kind: Kind
        /// The API path written, e.g. `sys/mounts/database`, `database/config/pg`.
        public var path: String
        public var data: [String: JSONValue]
        /// The secret fields the stored object has and `data` leaves out (the export was not
        /// asked for secrets): they must be supplied to the write.
        public var withheld: [String]
    }

    public var writes: [Write]
    /// Leases alive here, which stay and expire here.
    public var liveLeases: Int
    /// When the last of them expires.
    public var lastExpiry: Date?
    /// Objects no write can recreate from the state alone: self-managed static roles, whose write
    /// needs the account's current password, which only the application has.
    public var notExported: [String] = []
}

extension Engine {
    /// The export of every mount's objects. `withSecrets` puts each connection's stored secrets
    /// (its root password, private keys, AWS secret key) in the writes; otherwise they are listed
    /// in `withheld`.
    public func export(withSecrets: Bool) throws -> EngineExport {
        var writes: [EngineExport.Write] = []
        for name in try listed("sys/policies/password") {
            let policy = try readData("sys/policies/password/\(name)")
            writes.append(.init(kind: .passwordPolicy, path: "sys/policies/password/\(name)", data: policy, withheld: []))
        }
        var mountWrites: [EngineExport.Write] = []
        var notExported: [String] = []
        for mount in try exportedMounts() {
            mountWrites.append(.init(kind: .mount, path: "sys/mounts/" + mount.path.dropLast(), data: mount.data, withheld: []))
            for name in try listed(mount.path + "config") {
                writes.append(try exportedConnection(mount: mount.path, name, withSecrets: withSecrets))
            }
            for name in try listed(mount.path + "roles") {
                writes.append(.init(kind: .role, path: mount.path + "roles/" + name,
                                    data: writable(try readData(mount.path + "roles/" + name), of: Self.rolePath), withheld: []))
            }
            for name in try listed(mount.path + "static-roles") {
                let path = mount.path + "static-roles/" + name
                let read = try readData(path)
                if read["self_managed"] == .bool(true) {
                    notExported.append(path)
                    continue
                }
                writes.append(.init(kind: .staticRole, path: path, data: writable(read, of: Self.staticRolePath), withheld: []))
            }
        }
        var live = 0
        var last: Date?
        let current = now
        try forEachLease(prefix: "") { lease in
            guard !lease.unreadable, lease.expireTime > current else { return }
            live += 1
            last = max(last ?? lease.expireTime, lease.expireTime)
        }
        return EngineExport(writes: mountWrites + writes, liveLeases: live, lastExpiry: last, notExported: notExported)
    }

    /// The database mounts with anything in them, and the data of the write that enables each.
    private func exportedMounts() throws -> [(path: String, data: [String: JSONValue])] {
        let table: [String: JSONValue]
        do {
            table = try readData("sys/mounts")
        } catch let error as EngineError where error.kind == .unsupportedPath {
            // An engine without a mount table serves one mount, database/.
            table = ["database/": ["type": "database", "description": "", "config": ["default_lease_ttl": 0, "max_lease_ttl": 0]]]
        }
        return table.keys.sorted().compactMap { path -> (String, [String: JSONValue])? in
            guard let entry = table[path]?.objectValue, entry["type"] == "database" else { return nil }
            var data: [String: JSONValue] = ["type": "database"]
            if let description = entry["description"]?.stringValue, !description.isEmpty { data["description"] = .string(description) }
            var config: [String: JSONValue] = [:]
            for key in ["default_lease_ttl", "max_lease_ttl"] {
                if let seconds = entry["config"]?.objectValue?[key]?.intValue, seconds > 0 { config[key] = .string("\(seconds)s") }
            }
            if !config.isEmpty { data["config"] = .object(config) }
            return (path, data)
        }.filter { mount in
            (try? ["config", "roles", "static-roles"].contains { !(try listed(mount.path + $0)).isEmpty }) ?? true
        }
    }

    private func exportedConnection(mount: String, _ name: String, withSecrets: Bool) throws -> EngineExport.Write {
        let read = try readData(mount + "config/" + name)
        var data = read.filter { $0.key != "connection_details" && $0.key != "root_credentials_rotate_statements" }
        data = writable(data, of: Self.connectionPath)
        for (key, value) in read["connection_details"]?.objectValue ?? [:] { data[key] = value }
        if let statements = read["root_credentials_rotate_statements"] { data["root_rotation_statements"] = statements }
        let stored = try storedConnection(mount: mount, name)
        var withheld: [String] = []
        for key in DatabaseConfigSecrets.keys {
            guard let secret = stored?.connectionDetails[key], secret != .null, secret != .string("") else { continue }
            if withSecrets { data[key] = secret } else { withheld.append(key) }
        }
        return .init(kind: .connection, path: mount + "config/" + name, data: data, withheld: withheld)
    }

    /// The connection as stored, secrets and all, from its mount's storage.
    private func storedConnection(mount: String, _ name: String) throws -> DatabaseConfig? {
        let path = mount + "config/" + name
        guard let (resolved, _) = Self.mount(of: path, in: try resolvedMounts()) else { return nil }
        guard let entry = resolved.entry else { return try connections.read(try validName(name)) }
        return try onMount(entry, locking: false, gone: { Self.noRoute(path) }) { try $0.connections.read(try validName(name)) }
    }

    /// The fields of `data` that the write of `declaration` takes, less those that say nothing (at
    /// their default, empty, or a zero that means "not set"): a fresh write gets them anyway, and
    /// a target without the feature (Vault's community edition and automated root rotation)
    /// would refuse them.
    private func writable(_ data: [String: JSONValue], of declaration: PathDeclaration) -> [String: JSONValue] {
        let fields = Dictionary(declaration.dataFields.map { ($0.name, $0) }) { first, _ in first }
        return data.filter { key, value in
            guard let field = fields[key], value != field.defaultValue else { return false }
            switch value {
            case .null, .string(""): return false
            case .array(let items): return !items.isEmpty
            case .int(0): return field.defaultValue != nil
            default: return true
            }
        }
    }

    private func listed(_ path: String) throws -> [String] {
        try handle(EngineRequest(.list, path))?.data?["keys"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    private func readData(_ path: String) throws -> [String: JSONValue] {
        try handle(EngineRequest(.read, path))?.data ?? [:]
    }
}
