import DBPlugin
import Foundation

/// `database/config/:name` (create, update, read, delete, list) and `database/reset/:name`.
extension Engine {
    static let connectionName = PathSegment.name(field: "name", of: .connection, description: "Name of this database connection.")

    static let connectionListPath = PathDeclaration(
        [.literal("config")],
        synopsis: "List the configured database connections.",
        description: "Lists the names of the connections configured at config/NAME.",
        operations: [.list: { engine, _ in try engine.listConnections() }])

    static let connectionPath = PathDeclaration(
        [.literal("config"), connectionName],
        synopsis: "Configure connection details to a database plugin.",
        description: """
        A connection: which plugin speaks to the database, how to reach it and log in, and which roles \
        may use it. Every key besides the fields below is a connection parameter of the plugin (see the \
        plugin's documentation) and is stored in connection_details; a write of an existing connection \
        changes only what it gives. The plugin is initialized with the result, which connects and logs \
        in unless verify_connection is false. The password is never returned by a read.
        """,
        fields: [
            FieldDeclaration("plugin_name", .string,
                             "The plugin that speaks to the database, e.g. postgresql-database-plugin. Required when the connection is created.",
                             suggestions: .pluginNames),
            FieldDeclaration("plugin_version", .string, default: "",
                             "The version of the plugin. Plugins are built in, so only the empty version is accepted."),
            FieldDeclaration("verify_connection", .bool, default: true,
                             "Whether to connect and log in with the connection details before storing them."),
            FieldDeclaration("allowed_roles", .commaList, default: [],
                             "Comma-separated names (or a list) of the roles that may use this connection; * allows every role, a glob such as app-* allows those it matches. Empty allows none."),
            FieldDeclaration("root_rotation_statements", .list, default: [],
                             "The statements that rotate-root runs to change the connection user's password; the plugin's default when empty."),
            FieldDeclaration("password_policy", .string, default: "",
                             "The password policy (sys/policies/password/NAME) for the passwords this connection's roles get, unless a role names its own.",
                             suggestions: .objects(.passwordPolicy)),
            FieldDeclaration("connection_url", .json,
                             "For the SQL plugins: how to reach the database, with {{username}} and {{password}} templates so that the password stays out of it."),
            FieldDeclaration("username", .json, "The user the plugin logs in as (the root user, which rotate-root rotates)."),
            FieldDeclaration("password", .json, "The password of that user. Pass it as password=- or password=@file.", secret: true),
            FieldDeclaration("username_template", .json,
                             "How the plugin names the users it creates, in Vault's template language; each plugin has its default."),
        ],
        takesArbitraryInput: true,
        operations: [
            .write: { engine, request in try engine.writeConnection(request.name, request.fields) },
            .read: { engine, request in try engine.readConnection(request.name) },
            .delete: { engine, request in try engine.deleteConnection(request.name) },
        ])

    static let resetPath = PathDeclaration(
        [.literal("reset"), connectionName],
        synopsis: "Resets a database plugin.",
        description: "Connects and logs in again with the stored configuration of the connection, as Vault's reset re-initializes the plugin from storage.",
        operations: [.write: { engine, request in try engine.resetConnection(request.name) }])

    /// Verifying a connection is a network call, and no lock is held across one except while
    /// rotating: the new configuration is built and verified from a snapshot, then stored under
    /// the lock only if nobody changed the connection meanwhile (else built again from theirs).
    func writeConnection(_ name: String, _ fields: FieldData) throws -> EngineResponse? {
        // A write touches the connection: an interrupted root rotation on it is settled first, so
        // a password written now is never overwritten by that rotation's recovery later. If it
        // cannot be settled yet, the write still applies (it may be the fix: a password that works)
        // and settling is tried again with it.
        var unsettled: String?
        if intents.exists(.rootRotation, name) {
            unsettled = settleRootRotationReportingFailure(name)
        }
        for _ in 0..<3 {
            let existing = try connections.read(name)
            let (config, pluginWarnings) = try verifiedConnection(fields, existing: existing)
            let stored = try withLock(.connection, name) { () -> Bool in
                guard try connections.read(name) == existing else { return false }
                try connections.write(name, config)
                return true
            }
            guard stored else { continue }
            if unsettled != nil { unsettled = settleRootRotationReportingFailure(name) }
            var warnings = (unsettled.map { [$0] } ?? []) + pluginWarnings
            if let url = config.connectionDetails["connection_url"]?.textValue, ConnectionURL.literalPassword(in: url) != nil {
                warnings.insert("Password found in connection_url, use a templated url to enable root rotation and prevent read access to password information.", at: 0)
            }
            return warnings.isEmpty ? nil : EngineResponse(data: nil, warnings: warnings)
        }
        throw EngineError.failed("connection \"\(name)\" kept changing while it was being written; try again")
    }

    /// Settles an interrupted root rotation of `name`; nil when done, else why not.
    private func settleRootRotationReportingFailure(_ name: String) -> String? {
        do {
            try withLock(.connection, name) { try settleIntent(.rootRotation, name, mode: .recovery) }
            return nil
        } catch {
            return ErrorText.of(error)
        }
    }

    /// Applies a write's fields to the stored connection (create: defaults; update: only what is
    /// given) and initializes the plugin with the result, verifying the connection if asked.
    private func verifiedConnection(_ fields: FieldData, existing: DatabaseConfig?) throws -> (DatabaseConfig, [String]) {
        var config = existing ?? DatabaseConfig(pluginName: "")
        if let plugin = fields.string("plugin_name") { config.pluginName = plugin }
        guard !config.pluginName.isEmpty else { throw EngineError.invalid("empty plugin name") }
        if let text = fields.string("plugin_version") {
            if !text.isEmpty {
                guard Self.isSemanticVersion(text) else {
                    throw EngineError.invalid("version \"\(text)\" is not a valid semantic version")
                }
                // Plugins are built in; there is no catalog of other versions to pin.
                throw EngineError.invalid("error creating database object: plugin not found in the catalog: \(config.pluginName), version=\(text.hasPrefix("v") ? text : "v" + text)")
            }
        }
        if let verify = fields.bool("verify_connection") { config.verifyConnection = verify }
        if let roles = fields.strings("allowed_roles") { config.allowedRoles = roles }
        if let statements = fields.strings("root_rotation_statements") { config.rootRotationStatements = statements }
        if let policy = fields.string("password_policy") { config.passwordPolicy = policy }

        // Everything that is not the engine's own field is the plugin's connection parameter.
        let parameters = fields.others.merging(fields.jsonFields) { _, declared in declared }
        try Self.refuseUnsupportedConnectionParameters(parameters)
        if existing == nil {
            config.connectionDetails = parameters
        } else {
            config.connectionDetails.merge(parameters) { _, new in new }
        }

        guard let plugin = environment.plugins.makePlugin(named: config.pluginName) else {
            throw EngineError.invalid("error creating database object: plugin not found in the catalog: \(config.pluginName)")
        }
        defer { plugin.close() }
        var sanitizer = SecretSanitizer()
        sanitizer.add(connection: config.connectionDetails)
        do {
            let response = try plugin.initialize(InitializeRequest(config: config.connectionDetails, verifyConnection: config.verifyConnection))
            config.connectionDetails = response.config
            return (config, response.warnings)
        } catch {
            throw EngineError.invalid("error creating database object: \(sanitizer.clean(error))")
        }
    }

    func readConnection(_ name: String) throws -> EngineResponse? {
        guard let config = try connections.read(name) else { return nil }
        var details = config.connectionDetails
        for key in DatabaseConfigSecrets.keys { details.removeValue(forKey: key) }
        if let url = details["connection_url"]?.textValue {
            details["connection_url"] = .string(ConnectionURL.redacted(url))
        }
        return EngineResponse(data: [
            "plugin_name": .string(config.pluginName),
            "plugin_version": .string(config.pluginVersion),
            "connection_details": .object(details),
            "allowed_roles": .array(config.allowedRoles.map { .string($0) }),
            "root_credentials_rotate_statements": .array(config.rootRotationStatements.map { .string($0) }),
            "password_policy": .string(config.passwordPolicy),
            "verify_connection": .bool(config.verifyConnection),
        ])
    }

    /// Deleting a connection forgets it, passwords of an interrupted root rotation included.
    func deleteConnection(_ name: String) throws -> EngineResponse? {
        try withLock(.connection, name) {
            try connections.delete(name)
            try intents.delete(.rootRotation, name)
            return nil
        }
    }

    func listConnections() throws -> EngineResponse? {
        .list(try connections.list())
    }

    /// Vault closes the cached plugin and re-initializes it from storage with verification; with
    /// no long-lived process, that is a verified connect with the stored configuration.
    func resetConnection(_ name: String) throws -> EngineResponse? {
        try withPlugin(connection: name) { _ in nil }
    }

    static func isSemanticVersion(_ text: String) -> Bool {
        let core = text.hasPrefix("v") ? String(text.dropFirst()) : text
        let main = core.split(separator: "-", maxSplits: 1).first.map(String.init) ?? core
        let numbers = main.split(separator: "+").first?.split(separator: ".") ?? []
        return (1...3).contains(numbers.count) && numbers.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}
