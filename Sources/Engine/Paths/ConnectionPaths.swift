import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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
            FieldDeclaration("skip_static_role_import_rotation", .bool, default: false,
                             "The default of skip_import_rotation for the static roles created on this connection."),
            FieldDeclaration("rotation_period", .duration,
                             "Rotate the root credential automatically this often (5s or more; 0 turns it off), in tidy and agent passes, as rotate-root does."),
            FieldDeclaration("rotation_schedule", .string,
                             "Rotate the root credential automatically on this five-field cron schedule in UTC (\"\" turns it off)."),
            FieldDeclaration("rotation_window", .duration,
                             "With rotation_schedule: how long after each scheduled time the root rotation may still start, 1h or more."),
            FieldDeclaration("disable_automated_rotation", .bool, default: false,
                             "Keep rotation_period or rotation_schedule stored but do not rotate the root credential on it."),
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
        if let skip = fields.bool("skip_static_role_import_rotation") { config.skipStaticRoleImportRotation = skip ? true : nil }
        try applyRootRotationFields(fields, to: &config)

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

    /// Automated root rotation, Vault Enterprise's fields and errors. A changed plan is planned
    /// again from now.
    private func applyRootRotationFields(_ fields: FieldData, to config: inout DatabaseConfig) throws {
        let given = ["rotation_period", "rotation_schedule", "rotation_window", "disable_automated_rotation"].filter(fields.isGiven)
        guard !given.isEmpty else { return }
        let before = config.rootPlan
        var plan = RotationPlan(period: config.rotationPeriod ?? 0, schedule: config.rotationSchedule ?? "",
                                window: config.rotationWindow ?? 0, disabled: false)
        var period = fields.isGiven("rotation_period") ? fields.int("rotation_period") ?? 0 : nil
        let schedule = fields.string("rotation_schedule")
        let window = fields.isGiven("rotation_window") ? fields.int("rotation_window") ?? 0 : nil
        if window != nil && period != nil { throw EngineError.invalid("rotation_window does not apply to period") }
        if window != nil && (schedule ?? plan.schedule).isEmpty {
            throw EngineError.invalid("cannot use rotation_window without rotation_schedule")
        }
        if period == 0 { (plan.period, period) = (0, nil) }
        if schedule == "" { (plan.schedule, plan.window) = ("", 0) }
        try plan.apply(period: period, schedule: schedule, window: window, requireOne: false)
        config.rotationPeriod = plan.period > 0 ? plan.period : nil
        config.rotationSchedule = plan.schedule.isEmpty ? nil : plan.schedule
        config.rotationWindow = plan.window > 0 ? plan.window : nil
        if let disabled = fields.bool("disable_automated_rotation") { config.disableAutomatedRotation = disabled ? true : nil }
        if !config.rootPlan.disabled && config.isSelfManaged {
            throw EngineError.invalid("a self-managed connection has no root credential to rotate")
        }
        if config.rootPlan != before {
            config.nextRootRotation = config.rootPlan.next(after: now)
            config.rootRetryAt = nil
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
        ].merging(rootRotationFields(config)) { _, new in new })
    }

    /// Vault Enterprise's automated root rotation keys (newer Vault returns them in every edition),
    /// and ours: when it is next due, when it last ran, and why it last failed.
    private func rootRotationFields(_ config: DatabaseConfig) -> [String: JSONValue] {
        var data: [String: JSONValue] = [
            "skip_static_role_import_rotation": .bool(config.skipStaticRoleImportRotation == true),
            "rotation_period": .int(config.rotationPeriod ?? 0),
            "rotation_schedule": .string(config.rotationSchedule ?? ""),
            "rotation_window": .int(config.rotationWindow ?? 0),
            "disable_automated_rotation": .bool(config.disableAutomatedRotation == true),
        ]
        if let due = rootRotationDue(of: config) { data["next_root_rotation"] = .string(Timestamp.format(due)) }
        if let last = config.lastRootRotation { data["last_root_rotation"] = .string(Timestamp.format(last)) }
        if let error = config.rootLastError, config.rootRetryAt != nil || !config.rootPlan.disabled {
            data["last_root_rotation_error"] = .string(error)
        }
        return data
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
