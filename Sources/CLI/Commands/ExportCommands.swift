import Basics
import DBPlugin
import Engine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `dbsecrets export`: the way out to a Vault or OpenBao cluster. Prints what recreates this
/// engine there (mounts, password policies, connections, roles, static roles) as `vault`
/// commands, or as the API writes in JSON.
enum ExportCommands {
    static let withSecrets = FlagSpec(
        name: "with-secrets", kind: .bool, group: "Command Options",
        usage: "Put each connection's stored secrets (its root password, keys) in the export. Without it, each connection's write reads its password from stdin (password=-).")

    static let export = Command(
        path: ["export"], synopsis: "Print what recreates this engine in Vault, OpenBao or dbsecrets",
        usage: "dbsecrets export [options]",
        description: """
        Prints the commands that recreate this engine elsewhere: 'vault secrets enable' for each mount, \
        then 'vault write' for every password policy, connection, role and static role, in an order \
        in which each refers only to what exists already. They run unchanged against Vault, against \
        OpenBao (VAULT=bao sh export.sh) and against dbsecrets (VAULT=dbsecrets sh export.sh). \
        -format=json prints the same writes as API requests instead.

        Root passwords are left out unless -with-secrets is given: each connection's write then \
        reads its password from stdin (password=-). Leases are not exported (Vault cannot import \
        them): the export says how many are live; they expire here, so keep an agent or the server \
        running here until the last one has.
        """,
        examples: [("Move to a Vault cluster:", "dbsecrets export -with-secrets > export.sh && VAULT_ADDR=https://vault:8200 sh export.sh")],
        flags: [withSecrets, CommonFlags.format, CommonFlags.stateDir],
        printsScript: true,
        run: { inv in
            try inv.expectArguments(0)
            let exported: EngineExport
            do {
                exported = try inv.makeEngine().export(withSecrets: inv.arguments.bool("with-secrets"))
            } catch let error as EngineError {
                throw CommandFailure.engine("Error exporting: ", error)
            }
            switch inv.format {
            case .json: inv.terminal.out(json(exported))
            case .table: inv.terminal.out(script(exported))
            case .yaml, .raw: throw CommandFailure.usage("export prints -format=script (the default) or -format=json")
            }
            if inv.arguments.bool("with-secrets") && exported.writes.contains(where: { $0.kind == .connection }) {
                inv.terminal.err("The export holds root passwords: keep it as private as the state folder.\n")
            }
            return 0
        })

    static let all = [export]

    // MARK: Script

    static func script(_ exported: EngineExport) -> String {
        var text = """
        #!/bin/sh
        # dbsecrets export: recreates this engine in Vault, OpenBao or dbsecrets. Set VAULT_ADDR and
        # VAULT_TOKEN for the target, then run it: sh export.sh (Vault), VAULT=bao sh export.sh
        # (OpenBao), or VAULT=dbsecrets sh export.sh (dbsecrets, on the state folder it uses).
        #
        # \(leaseNote(exported))
        # The target rotates the password of each static role when it creates the role: applications
        # read it there from then on, and the static role is deleted here (dbsecrets delete PATH) so
        # that two engines do not rotate one account.
        set -eu
        if [ -n "${VAULT:-}" ]; then vault() { "$VAULT" "$@"; }; fi

        """
        for write in exported.writes {
            text += "\n" + command(write)
        }
        for path in exported.notExported {
            text += "\n# Not exported: \(path) is self-managed; write it by hand with the account's current password (self_managed_password=-).\n"
        }
        return text
    }

    static func leaseNote(_ exported: EngineExport) -> String {
        guard exported.liveLeases > 0 else { return "Leases: none is live here." }
        let last = exported.lastExpiry.map { ", the last at \(Timestamp.format($0))" } ?? ""
        return "Leases: \(exported.liveLeases) live here, not exported (Vault cannot import leases). They expire here\(last):\n"
            + "# keep 'dbsecrets agent' or 'dbsecrets server' running here until then."
    }

    static func command(_ write: EngineExport.Write) -> String {
        switch write.kind {
        case .mount:
            let path = String(write.path.dropFirst("sys/mounts/".count))
            var flags = ["-path=" + quoted(path)]
            if let description = write.data["description"]?.stringValue { flags.append("-description=" + quoted(description)) }
            for (key, flag) in [("default_lease_ttl", "-default-lease-ttl"), ("max_lease_ttl", "-max-lease-ttl")] {
                if let ttl = write.data["config"]?.objectValue?[key]?.stringValue { flags.append(flag + "=" + ttl) }
            }
            return "vault secrets enable \(flags.joined(separator: " ")) database\n"
        case .connection where !write.withheld.isEmpty:
            return connectionReadingStdin(write)
        default:
            return "vault write \(quoted(write.path)) - <<'EOF'\n\(GoJSON.compact(.object(write.data)))\nEOF\n"
        }
    }

    /// A connection without its secrets: `key=value` arguments, and the first secret from stdin
    /// (others from files, named in the comment).
    static func connectionReadingStdin(_ write: EngineExport.Write) -> String {
        let name = write.path.split(separator: "/").last.map(String.init) ?? write.path
        var arguments = [write.withheld[0] + "=-"]
        var comment = "# The \(write.withheld[0]) of connection \(name) is not in this export: this write reads it from stdin."
        for other in write.withheld.dropFirst() {
            let file = "\(name).\(other)"
            arguments.append(quoted("\(other)=@\(file)"))
            comment += "\n# Its \(other) is read from the file \(file): put it there first."
        }
        let declaration = Engine.builtinMounts.first { $0.backend.name == "database" }?.backend.declaration(matching: "config/" + name)
        for key in write.data.keys.sorted() {
            switch write.data[key]! {
            case .null: continue
            case .string(let text) where text.isEmpty: continue
            case .array(let items) where items.isEmpty: continue
            case .array(let items) where items.allSatisfy({ $0.stringValue != nil }):
                let strings = items.compactMap(\.stringValue)
                if declaration?.field(named: key)?.type == .commaList {
                    arguments.append(quoted("\(key)=\(strings.joined(separator: ","))"))
                } else {
                    arguments += strings.map { quoted("\(key)=\($0)") }
                }
            case .array, .object:
                arguments.append(quoted("\(key)=\(GoJSON.compact(write.data[key]!))"))
            case let value:
                arguments.append(quoted("\(key)=\(value.textValue ?? "")"))
            }
        }
        return comment + "\nvault write \(quoted(write.path)) \(arguments.joined(separator: " "))\n"
    }

    /// A word for sh: single-quoted unless it is plain.
    static func quoted(_ text: String) -> String {
        if !text.isEmpty && text.unicodeScalars.allSatisfy({ PercentEncoding.isASCIIAlphanumeric($0) || "-_./=:@,".unicodeScalars.contains($0) }) {
            return text
        }
        return "'" + text.replacingEvery("'", with: "'\\''") + "'"
    }

    // MARK: JSON

    static func json(_ exported: EngineExport) -> String {
        let writes: [JSONValue] = exported.writes.map { write in
            .object(["kind": .string(write.kind.rawValue), "method": "POST", "path": .string(write.path),
                     "data": .object(write.data), "withheld": .array(write.withheld.map { .string($0) })])
        }
        return GoJSON.encode(pairs: [
            ("writes", .array(writes)),
            ("live_leases", .int(exported.liveLeases)),
            ("leases_expire_by", exported.lastExpiry.map { .string(Timestamp.format($0)) } ?? .null),
            ("not_exported", .array(exported.notExported.map { .string($0) })),
            ("note", .string("Leases are not exported: Vault cannot import them. They expire here; keep an agent or the server running here until then.")),
        ]) + "\n"
    }
}
