import DBPlugin
import Foundation

/// `database/config/:name` (create, update, read, delete, list) and `database/reset/:name`.
extension Engine {
    /// Keys of a config write that belong to the engine; everything else is a connection
    /// parameter handed to the plugin.
    static let connectionEngineFields: Set<String> = [
        "name", "plugin_name", "plugin_version", "verify_connection", "allowed_roles",
        "root_rotation_statements", "password_policy",
    ]

    /// Verifying a connection is a network call, and no lock is held across one except while
    /// rotating: the new configuration is built and verified from a snapshot, then stored under
    /// the lock only if nobody changed the connection meanwhile (else built again from theirs).
    func writeConnection(_ name: String, _ data: [String: JSONValue]) throws -> EngineResponse? {
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
            let (config, pluginWarnings) = try verifiedConnection(data, existing: existing)
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
    private func verifiedConnection(_ data: [String: JSONValue], existing: DatabaseConfig?) throws -> (DatabaseConfig, [String]) {
        var config = existing ?? DatabaseConfig(pluginName: "")
        if let plugin = data["plugin_name"] { config.pluginName = try FieldValue.string(plugin, field: "plugin_name") }
        guard !config.pluginName.isEmpty else { throw EngineError.invalid("empty plugin name") }
        if let version = data["plugin_version"] {
            let text = try FieldValue.string(version, field: "plugin_version")
            if !text.isEmpty {
                guard Self.isSemanticVersion(text) else {
                    throw EngineError.invalid("version \"\(text)\" is not a valid semantic version")
                }
                // Plugins are built in; there is no catalog of other versions to pin.
                throw EngineError.invalid("error creating database object: plugin not found in the catalog: \(config.pluginName), version=\(text.hasPrefix("v") ? text : "v" + text)")
            }
        }
        if let verify = data["verify_connection"] { config.verifyConnection = try FieldValue.bool(verify, field: "verify_connection") }
        if let roles = data["allowed_roles"] { config.allowedRoles = try FieldValue.commaStringSlice(roles, field: "allowed_roles") }
        if let statements = data["root_rotation_statements"] {
            config.rootRotationStatements = try FieldValue.stringSlice(statements, field: "root_rotation_statements")
        }
        if let policy = data["password_policy"] { config.passwordPolicy = try FieldValue.string(policy, field: "password_policy") }

        let parameters = data.filter { !Self.connectionEngineFields.contains($0.key) }
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
