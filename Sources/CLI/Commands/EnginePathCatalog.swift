import Engine

/// The paths `read`, `write`, `list` and `delete` reach, declared once for shell completion and
/// the man page. The engine routes them itself; this is what users are told about them.
struct EnginePath: Sendable {
    /// Everything up to the object's name, e.g. `database/roles/`.
    var prefix: String
    /// The name's placeholder in documentation, e.g. `NAME`.
    var placeholder: String
    /// What follows the name, e.g. `/generate`.
    var suffix = ""
    /// Operations on `prefix + NAME + suffix`.
    var operations: [EngineRequest.Operation]
    /// Whether `list` works on the prefix itself.
    var listable = false
    var names: NameSource
    var description: String
    /// The data keys `write` takes here, offered by completion as `key=`.
    var fields: [String] = []

    enum NameSource: Sendable {
        case objects(Command.NameKind)
        case leaseID
    }

    var documentedPath: String { prefix + placeholder + suffix }

    /// Whether `path` (sanitized) names an object here.
    func matches(_ path: String) -> Bool {
        guard path.hasPrefix(prefix) else { return false }
        let rest = path.dropFirst(prefix.count)
        if rest.isEmpty { return false }
        if case .leaseID = names { return true }
        return suffix.isEmpty ? !rest.contains("/") : rest.hasSuffix(suffix) && !rest.dropLast(suffix.count).contains("/")
    }
}

enum EnginePathCatalog {
    static let all: [EnginePath] = [
        EnginePath(prefix: "database/config/", placeholder: "NAME", operations: [.read, .write, .delete], listable: true,
                   names: .objects(.connection),
                   description: "A connection: the plugin, how to reach the database, and which roles may use it. Plugins take their own parameters too. The password is never returned.",
                   fields: ["plugin_name", "plugin_version", "connection_url", "username", "password", "allowed_roles", "verify_connection",
                            "root_rotation_statements", "password_policy", "username_template"]),
        EnginePath(prefix: "database/reset/", placeholder: "NAME", operations: [.write], names: .objects(.connection),
                   description: "Connects and authenticates with the stored configuration of the connection."),
        EnginePath(prefix: "database/rotate-root/", placeholder: "NAME", operations: [.write], names: .objects(.connection),
                   description: "Changes the password of the connection's own user and stores the new one."),
        EnginePath(prefix: "database/roles/", placeholder: "NAME", operations: [.read, .write, .delete], listable: true,
                   names: .objects(.role),
                   description: "A dynamic role: the statements that create and drop its users, and their lease times.",
                   fields: ["db_name", "creation_statements", "revocation_statements", "rollback_statements", "renew_statements",
                            "default_ttl", "max_ttl", "credential_type", "credential_config"]),
        EnginePath(prefix: "database/creds/", placeholder: "NAME", operations: [.read], names: .objects(.role),
                   description: "Creates a database user for the role and returns its username and password with a lease."),
        EnginePath(prefix: "database/static-roles/", placeholder: "NAME", operations: [.read, .write, .delete], listable: true,
                   names: .objects(.staticRole),
                   description: "A static role: an existing database user whose password is rotated every rotation_period or on rotation_schedule.",
                   fields: ["db_name", "username", "rotation_period", "rotation_schedule", "rotation_window", "rotation_statements",
                            "credential_type", "credential_config"]),
        EnginePath(prefix: "database/static-creds/", placeholder: "NAME", operations: [.read], names: .objects(.staticRole),
                   description: "The static role's username and current password, rotated first if the rotation is due."),
        EnginePath(prefix: "database/rotate-role/", placeholder: "NAME", operations: [.write], names: .objects(.staticRole),
                   description: "Rotates the static role's password now."),
        EnginePath(prefix: "sys/policies/password/", placeholder: "NAME", operations: [.read, .write, .delete], listable: true,
                   names: .objects(.passwordPolicy),
                   description: "A password policy: its HCL text, with length and rule \"charset\" blocks.",
                   fields: ["policy"]),
        EnginePath(prefix: "sys/policies/password/", placeholder: "NAME", suffix: "/generate", operations: [.read],
                   names: .objects(.passwordPolicy),
                   description: "Generates a password from the policy."),
        EnginePath(prefix: "sys/leases/lookup/", placeholder: "PREFIX", operations: [], listable: true, names: .leaseID,
                   description: "Lists the next segment of the lease ids under PREFIX. Writing lease_id=ID to sys/leases/lookup looks the lease up."),
        EnginePath(prefix: "sys/leases/renew/", placeholder: "ID", operations: [.write], names: .leaseID,
                   description: "Renews the lease ID (or lease_id=ID), by increment=DURATION if given.",
                   fields: ["lease_id", "increment"]),
        EnginePath(prefix: "sys/leases/revoke/", placeholder: "ID", operations: [.write], names: .leaseID,
                   description: "Revokes the lease ID (or lease_id=ID).",
                   fields: ["lease_id"]),
        EnginePath(prefix: "sys/leases/revoke-prefix/", placeholder: "PREFIX", operations: [.write], names: .leaseID,
                   description: "Revokes every lease whose id starts with PREFIX."),
        EnginePath(prefix: "sys/leases/revoke-force/", placeholder: "PREFIX", operations: [.write], names: .leaseID,
                   description: "Forgets every lease whose id starts with PREFIX, even when the database refuses to drop its user."),
    ]

    /// Where `write` stores an object of a kind, as the shortcut commands do.
    static func home(of kind: Command.NameKind) -> EnginePath? {
        all.first { path in
            if case .objects(kind) = path.names, path.suffix.isEmpty, path.operations.contains(.write), !path.fields.isEmpty { return true }
            return false
        }
    }

    /// Prefixes worth offering for an operation, each once.
    static func prefixes(for operation: EngineRequest.Operation) -> [String] {
        var seen: Set<String> = []
        return all.filter { operation == .list ? $0.listable : $0.operations.contains(operation) }
            .map(\.prefix)
            .filter { seen.insert($0).inserted }
    }
}
