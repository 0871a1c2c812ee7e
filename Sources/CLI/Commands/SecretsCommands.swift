import Basics
import DBPlugin
import Engine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `secrets enable|list|disable|tune|move`: Vault's commands for mounts, over `sys/mounts`,
/// `sys/mounts/PATH/tune` and `sys/remount`. Only the database engine can be enabled.
enum SecretsCommands {
    static let group = Command(
        path: ["secrets"], synopsis: "Interact with secrets engines",
        usage: "dbsecrets secrets <subcommand> [options] [args]",
        description: """
        This command groups subcommands for interacting with the database secrets engine's mounts. \
        The engine answers at database/ without any enable (so scripts written before mounts keep \
        running); enable it at other paths to keep several sets of connections and roles apart.
        """,
        examples: [("Enable the database secrets engine at postgres/:", "dbsecrets secrets enable -path=postgres database"),
                   ("List the mounts:", "dbsecrets secrets list")],
        positional: .subcommands,
        run: { _ in throw CommandFailure.usage("") })

    static let description = FlagSpec(name: "description", kind: .string, group: "Command Options",
                                      usage: "Human-friendly description for the purpose of this engine.")
    static let path = FlagSpec(name: "path", kind: .string, group: "Command Options",
                               usage: "Place where the secrets engine will be accessible. This must be unique cross all secrets engines. This defaults to the \"type\" of the secrets engine.")
    static let defaultLeaseTTL = FlagSpec(name: "default-lease-ttl", kind: .duration, group: "Command Options",
                                          usage: "The default lease TTL for this secrets engine: what a role without default_ttl gives. If unspecified, this defaults to the system's 768h; system resets it.")
    static let maxLeaseTTL = FlagSpec(name: "max-lease-ttl", kind: .duration, group: "Command Options",
                                      usage: "The maximum lease TTL for this secrets engine, which bounds every role's max_ttl. If unspecified, this defaults to the system's 768h; system resets it.")
    static let forceNoCache = FlagSpec(name: "force-no-cache", kind: .bool, group: "Command Options",
                                       usage: "Accepted and stored for compatibility with Vault; dbsecrets caches nothing.")
    static let pluginName = FlagSpec(name: "plugin-name", kind: .string, group: "Command Options",
                                     usage: "With the type plugin: the name of the engine, database.")
    static let pluginVersion = FlagSpec(name: "plugin-version", kind: .string, group: "Command Options",
                                        usage: "Select the semantic version of the plugin to enable; only the built-in one exists.")
    static let options = FlagSpec(name: "options", kind: .list, group: "Command Options",
                                  usage: "Key-value pair provided as key=value for the mount options. This can be specified multiple times.")
    static let local = FlagSpec(name: "local", kind: .bool, group: "Command Options",
                                usage: "Accepted and shown for compatibility with Vault; there is no replication.")
    static let sealWrap = FlagSpec(name: "seal-wrap", kind: .bool, group: "Command Options",
                                   usage: "Accepted and shown for compatibility with Vault; there is no seal.")
    static let externalEntropyAccess = FlagSpec(name: "external-entropy-access", kind: .bool, group: "Command Options",
                                                usage: "Accepted and shown for compatibility with Vault.")
    static let version = FlagSpec(name: "version", kind: .string, group: "Command Options",
                                  usage: "Select the version of the engine to run. Not supported by the database engine.")
    /// Vault's flags that change nothing here; accepted so that scripts that pass them run.
    static let ignored = ["audit-non-hmac-request-keys", "audit-non-hmac-response-keys", "listing-visibility",
                          "passthrough-request-headers", "allowed-response-headers"].map {
        FlagSpec(name: $0, kind: .list, group: "Command Options", usage: "Accepted for compatibility with Vault; it changes nothing here.")
    }

    static let enable = Command(
        path: ["secrets", "enable"], synopsis: "Enable a secrets engine",
        usage: "dbsecrets secrets enable [options] TYPE",
        description: """
        Enables the database secrets engine (TYPE database) at -path, by default database/. Its \
        paths are then served under that path (PATH/config/NAME, PATH/roles/NAME, PATH/creds/NAME \
        and the others), with connections, roles and leases of their own; lease ids start with the path.

        The engine also answers at database/ without being enabled. Enabling database/ while it holds \
        nothing makes that mount explicit (so a script that starts with secrets enable database runs \
        unchanged); once it holds connections or roles, enabling it again fails as a second enable \
        does in Vault.
        """,
        examples: [("Enable the database secrets engine:", "dbsecrets secrets enable database"),
                   ("Enable it at postgres/ with leases of at most 30 minutes:",
                    "dbsecrets secrets enable -path=postgres -max-lease-ttl=30m database")],
        flags: [description, path, defaultLeaseTTL, maxLeaseTTL, forceNoCache, pluginName, pluginVersion, options,
                local, sealWrap, externalEntropyAccess, version] + ignored + CommonFlags.request,
        run: { try runEnable($0) })

    static let list = Command(
        path: ["secrets", "list"], synopsis: "List enabled secrets engines",
        usage: "dbsecrets secrets list [options]",
        description: """
        Lists the enabled secrets engines: their path, type, accessor and description; -detailed \
        adds their TTLs, options and UUIDs. sys/ is listed too, and database/ once it holds \
        something (or was enabled explicitly).
        """,
        examples: [("List the mounts:", "dbsecrets secrets list"),
                   ("Find out whether database/ is enabled:", "dbsecrets secrets list -format=json | jq 'has(\"database/\")'")],
        flags: [CommonFlags.detailed, CommonFlags.format] + CommonFlags.request,
        run: { try runList($0) })

    static let disable = Command(
        path: ["secrets", "disable"], synopsis: "Disable a secret engine",
        usage: "dbsecrets secrets disable [options] PATH",
        description: """
        Disables the secrets engine at PATH: every lease it issued is revoked first (its database \
        users dropped), then its connections, roles and static roles are deleted. If any lease \
        cannot be revoked, nothing is deleted and the error lists the leases that failed; revoke \
        them with lease revoke -force -prefix PATH/ if they are gone for good. A disable that was \
        interrupted is finished by the next command that touches the mount, or by tidy.
        """,
        examples: [("Disable the engine at postgres/:", "dbsecrets secrets disable postgres/")],
        flags: CommonFlags.request,
        run: { try runDisable($0) })

    static let tune = Command(
        path: ["secrets", "tune"], synopsis: "Tune a secrets engine configuration",
        usage: "dbsecrets secrets tune [options] PATH",
        description: """
        Changes the lease TTLs, the description or the options of the secrets engine at PATH. The \
        TTLs bound the roles' TTLs as in Vault: a role without default_ttl gets the mount's \
        default_lease_ttl, and no lease outlives the mount's max_lease_ttl (the system's 768h where \
        the mount has none). Leases already issued take the new TTLs when next renewed.
        """,
        examples: [("Leases of at most one day at database/:", "dbsecrets secrets tune -max-lease-ttl=24h database/")],
        flags: [defaultLeaseTTL, maxLeaseTTL, description, options, pluginVersion, version] + ignored + CommonFlags.request,
        run: { try runTune($0) })

    static let move = Command(
        path: ["secrets", "move"], synopsis: "Move a secrets engine to a new path",
        usage: "dbsecrets secrets move [options] SOURCE DESTINATION",
        description: """
        Moves the secrets engine at SOURCE to DESTINATION. Every lease of SOURCE is revoked first, as \
        Vault does (if any cannot be, nothing moves and the error lists them); the connections, \
        roles and static roles move with the engine.
        """,
        examples: [("Move database/ to postgres/:", "dbsecrets secrets move database/ postgres/")],
        flags: CommonFlags.request,
        run: { try runMove($0) })

    static let all = [group, enable, list, disable, tune, move]

    // MARK: enable

    static func runEnable(_ inv: Invocation) throws -> Int32 {
        try inv.expectArguments(1)
        let engineType = inv.positionals[0].trimmingWhitespace()
        let flagPath = inv.arguments.string("path") ?? ""
        var mountPath = flagPath.isEmpty ? (engineType == "plugin" ? inv.arguments.string("plugin-name") ?? "" : engineType) : flagPath
        if !mountPath.hasSuffix("/") { mountPath += "/" }
        let defaultTTL = try ttlFlag(inv, "default-lease-ttl"), maxTTL = try ttlFlag(inv, "max-lease-ttl")
        var options = try optionPairs(inv)
        if let version = inv.arguments.string("version"), Int(version) ?? 0 > 0 { options["version"] = version }
        let pluginVersion = inv.arguments.string("plugin-version") ?? ""
        let forceNoCache = inv.arguments.bool("force-no-cache")

        var apiConfig: [(String, JSONValue)] = [
            ("options", .null), ("default_lease_ttl", .string(goDuration(defaultTTL))),
            ("max_lease_ttl", .string(goDuration(maxTTL))), ("force_no_cache", .bool(forceNoCache)),
        ]
        if !pluginVersion.isEmpty { apiConfig.append(("plugin_version", .string(pluginVersion))) }
        let optionsJSON: JSONValue = options.isEmpty ? .null : .object(options.mapValues { .string($0) })
        let api = VaultAPIRequest(method: "POST", path: "sys/mounts/" + mountPath, body: .pairs([
            ("type", .string(engineType)), ("description", .string(inv.arguments.string("description") ?? "")),
            ("config", .object(Dictionary(uniqueKeysWithValues: apiConfig))), ("local", .bool(inv.arguments.bool("local"))),
            ("seal_wrap", .bool(inv.arguments.bool("seal-wrap"))),
            ("external_entropy_access", .bool(inv.arguments.bool("external-entropy-access"))), ("options", optionsJSON),
        ]))
        var config: [String: JSONValue] = ["force_no_cache": .bool(forceNoCache)]
        if let defaultTTL { config["default_lease_ttl"] = .string(defaultTTL < 0 ? "system" : String(defaultTTL)) }
        if let maxTTL { config["max_lease_ttl"] = .string(maxTTL < 0 ? "system" : String(maxTTL)) }
        if !pluginVersion.isEmpty { config["plugin_version"] = .string(pluginVersion) }
        var data: [String: JSONValue] = [
            "type": .string(engineType), "description": .string(inv.arguments.string("description") ?? ""),
            "config": .object(config), "local": .bool(inv.arguments.bool("local")),
            "seal_wrap": .bool(inv.arguments.bool("seal-wrap")),
            "external_entropy_access": .bool(inv.arguments.bool("external-entropy-access")),
        ]
        if let name = inv.arguments.string("plugin-name") { data["plugin_name"] = .string(name) }
        if !options.isEmpty { data["options"] = .object(options.mapValues { .string($0) }) }
        _ = try inv.send(api, EngineRequest(.write, "sys/mounts/" + mountPath, data: data), errorPrefix: "Error enabling: ")
        var thing = (engineType == "plugin" ? inv.arguments.string("plugin-name") ?? "" : engineType)
            + (engineType == "plugin" ? " plugin" : " secrets engine")
        if !pluginVersion.isEmpty { thing += " version " + pluginVersion }
        inv.terminal.out("Success! Enabled the \(thing) at: \(mountPath)\n")
        return 0
    }

    /// A TTL flag: nil when not given, -1 for `system` (Vault's CLI turns that into -1s), else seconds.
    static func ttlFlag(_ inv: Invocation, _ name: String) throws -> Int? {
        guard let text = inv.arguments.string(name) else { return nil }
        if text == "system" { return -1 }
        do {
            return try DurationField.seconds(.string(text), field: name)
        } catch let error as EngineError {
            throw CommandFailure.usage("invalid value \"\(text)\" for flag -\(name): \(error.message)")
        }
    }

    static func optionPairs(_ inv: Invocation) throws -> [String: String] {
        var options: [String: String] = [:]
        for pair in inv.arguments.lists["options"] ?? [] {
            guard let eq = pair.firstIndex(of: "=") else {
                throw CommandFailure.usage("invalid value \"\(pair)\" for flag -options: invalid key/value pair \"\(pair)\": format must be key=value")
            }
            options[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        return options
    }

    /// Go's `time.Duration.String()` of whole seconds: `0s`, `30m0s`, `1h0m0s`, `-1s`.
    static func goDuration(_ seconds: Int?) -> String {
        guard let seconds, seconds != 0 else { return "0s" }
        let sign = seconds < 0 ? "-" : "", s = Int(clamping: seconds.magnitude)
        let h = s / 3600, m = (s % 3600) / 60, sec = s % 60
        if h > 0 { return "\(sign)\(h)h\(m)m\(sec)s" }
        if m > 0 { return "\(sign)\(m)m\(sec)s" }
        return "\(sign)\(sec)s"
    }

    // MARK: list

    static func runList(_ inv: Invocation) throws -> Int32 {
        try inv.expectArguments(0)
        let response = try inv.send(VaultAPIRequest(method: "GET", path: "sys/mounts"), EngineRequest(.read, "sys/mounts"),
                                    errorPrefix: "Error listing secrets engines: ")
        let mounts = (response?.data ?? [:]).compactMapValues(\.objectValue)
        let paths = mounts.keys.sorted()
        switch inv.format {
        case .json, .yaml:
            let output = JSONValue.object(mounts.mapValues { .object($0) })
            if inv.format == .json {
                inv.terminal.out(GoJSON.encode(.object(paths.map { ($0, mountOutput(mounts[$0]!)) })) + "\n")
            } else {
                inv.terminal.out(YAMLText.encode(output))
            }
        case .table, .raw:
            var rows: [[String]]
            if inv.arguments.bool("detailed") {
                rows = [["Path", "Plugin", "Accessor", "Default TTL", "Max TTL", "Force No Cache", "Replication", "Seal Wrap",
                         "External Entropy Access", "Options", "Description", "UUID", "Version", "Running Version",
                         "Running SHA256", "Deprecation Status"]]
                for path in paths {
                    let m = mounts[path]!
                    let config = m["config"]?.objectValue ?? [:]
                    let type = m["type"]?.textValue ?? ""
                    func ttl(_ key: String) -> String {
                        if type == "system" { return "" }
                        let value = config[key]?.intValue ?? 0
                        return value == 0 ? "system" : String(value)
                    }
                    let options = m["options"]?.objectValue.map { o in
                        "map[" + o.keys.sorted().map { "\($0):\(o[$0]?.textValue ?? "")" }.joined(separator: " ") + "]"
                    } ?? "map[]"
                    rows.append([path, type, text(m["accessor"]), ttl("default_lease_ttl"), ttl("max_lease_ttl"),
                                 text(config["force_no_cache"]), m["local"]?.boolValue == true ? "local" : "replicated",
                                 text(m["seal_wrap"]), text(m["external_entropy_access"]), options, text(m["description"]),
                                 text(m["uuid"]), text(m["plugin_version"]), text(m["running_plugin_version"]),
                                 text(m["running_sha256"]), text(m["deprecation_status"])])
                }
            } else {
                rows = [["Path", "Type", "Accessor", "Description"]]
                for path in paths {
                    let m = mounts[path]!
                    rows.append([path, text(m["type"]), text(m["accessor"]), text(m["description"])])
                }
            }
            rows.insert(rows[0].map { String(repeating: "-", count: $0.count) }, at: 1)
            inv.terminal.out(Columns.format(rows, empty: "n/a"))
        }
        return 0
    }

    private static func text(_ value: JSONValue?) -> String { value?.textValue ?? "" }

    /// One mount as Vault's `api.MountOutput` encodes it: its fields in the struct's order.
    static func mountOutput(_ m: [String: JSONValue]) -> GoJSON.Ordered {
        let config = m["config"]?.objectValue ?? [:]
        func field(_ key: String, _ absent: JSONValue) -> (String, GoJSON.Ordered) { (key, .value(m[key] ?? absent)) }
        return .object([
            field("uuid", ""), field("type", ""), field("description", ""), field("accessor", ""),
            ("config", .object([("default_lease_ttl", .value(config["default_lease_ttl"] ?? 0)),
                                ("max_lease_ttl", .value(config["max_lease_ttl"] ?? 0)),
                                ("force_no_cache", .value(config["force_no_cache"] ?? false))])),
            field("options", .null), field("local", false), field("seal_wrap", false), field("external_entropy_access", false),
            field("plugin_version", ""), field("running_plugin_version", ""), field("running_sha256", ""),
            field("deprecation_status", ""),
        ])
    }

    // MARK: disable, tune, move

    static func runDisable(_ inv: Invocation) throws -> Int32 {
        try inv.expectArguments(1)
        let path = sanitizePath(inv.positionals[0]) + "/"
        _ = try inv.send(VaultAPIRequest(method: "DELETE", path: "sys/mounts/" + path), EngineRequest(.delete, "sys/mounts/" + path),
                         errorPrefix: "Error disabling secrets engine at \(path): ")
        inv.terminal.out("Success! Disabled the secrets engine (if it existed) at: \(path)\n")
        return 0
    }

    static func runTune(_ inv: Invocation) throws -> Int32 {
        try inv.expectArguments(1)
        let path = sanitizePath(inv.positionals[0]) + "/"
        let defaultTTL = try ttlFlag(inv, "default-lease-ttl"), maxTTL = try ttlFlag(inv, "max-lease-ttl")
        var options = try optionPairs(inv)
        if let version = inv.arguments.string("version"), Int(version) ?? 0 > 0 { options["version"] = version }
        // Vault's ttlToAPI: "" leaves a TTL as it is, "system" resets it.
        func apiTTL(_ seconds: Int?) -> String {
            guard let seconds, seconds != 0 else { return "" }
            return seconds < 0 ? "system" : goDuration(seconds)
        }
        var body: [(String, JSONValue)] = [
            ("options", options.isEmpty ? .null : .object(options.mapValues { .string($0) })),
            ("default_lease_ttl", .string(apiTTL(defaultTTL))),
        ]
        var data: [String: JSONValue] = [:]
        if let description = inv.arguments.string("description") {
            body.append(("description", .string(description)))
            data["description"] = .string(description)
        }
        body += [("max_lease_ttl", .string(apiTTL(maxTTL))), ("force_no_cache", false)]
        if let version = inv.arguments.string("plugin-version") {
            body.append(("plugin_version", .string(version)))
            data["plugin_version"] = .string(version)
        }
        if let defaultTTL, defaultTTL != 0 { data["default_lease_ttl"] = .string(defaultTTL < 0 ? "system" : String(defaultTTL)) }
        if let maxTTL, maxTTL != 0 { data["max_lease_ttl"] = .string(maxTTL < 0 ? "system" : String(maxTTL)) }
        if !options.isEmpty { data["options"] = .object(options.mapValues { .string($0) }) }
        _ = try inv.send(VaultAPIRequest(method: "POST", path: "sys/mounts/\(path)tune", body: .pairs(body)),
                         EngineRequest(.write, "sys/mounts/\(path)tune", data: data),
                         errorPrefix: "Error tuning secrets engine \(path): ")
        inv.terminal.out("Success! Tuned the secrets engine at: \(path)\n")
        return 0
    }

    static func runMove(_ inv: Invocation) throws -> Int32 {
        if inv.positionals.count < 2 { throw CommandFailure.usage("Not enough arguments (expected 2, got \(inv.positionals.count))") }
        if inv.positionals.count > 2 { throw CommandFailure.usage("Too many arguments (expected 2, got \(inv.positionals.count))") }
        let source = inv.positionals[0].hasSuffix("/") ? inv.positionals[0] : inv.positionals[0] + "/"
        let destination = inv.positionals[1].hasSuffix("/") ? inv.positionals[1] : inv.positionals[1] + "/"
        let body: [String: JSONValue] = ["from": .string(source), "to": .string(destination)]
        let response = try inv.send(VaultAPIRequest(method: "POST", path: "sys/remount", body: .object(body)),
                                    EngineRequest(.write, "sys/remount", data: body),
                                    errorPrefix: "Error moving secrets engine \(source) to \(destination): ")
        let id = response?.data?["migration_id"]?.textValue ?? ""
        inv.terminal.out("Started moving secrets engine \(source) to \(destination), with migration ID \(id)\n")
        inv.terminal.out("Success! Finished moving secrets engine \(source) to \(destination), with migration ID \(id)\n")
        return 0
    }
}

/// columnize as Vault's tables use it: cells padded to the widest of their column plus four
/// spaces, the last column unpadded; an empty cell is `empty` (Vault's `n/a`).
enum Columns {
    static func format(_ rows: [[String]], empty: String = "") -> String {
        guard let first = rows.first else { return "" }
        let cells = rows.map { $0.map { cell -> String in
            let trimmed = cell.trimmingWhitespace()
            return trimmed.isEmpty ? empty : trimmed
        } }
        let widths = (0..<first.count).map { c in cells.map { $0[c].count }.max() ?? 0 }
        return cells.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 4)
            }.joined()
        }.joined(separator: "\n") + "\n"
    }
}
