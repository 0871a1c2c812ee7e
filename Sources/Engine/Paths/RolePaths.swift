import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `database/roles/:name` and `database/static-roles/:name` (create, update, read, delete, list).
extension Engine {
    static let roleListPath = PathDeclaration(
        [.literal("roles")],
        synopsis: "List the dynamic roles.",
        description: "Lists the names of the roles at roles/NAME.",
        operations: [.list: { engine, _ in try engine.listRoles() }])

    static let rolePath = PathDeclaration(
        [.literal("roles"), .name(field: "name", of: .role, description: "Name of the role.")],
        synopsis: "Manage the roles that can be created with this backend.",
        description: """
        A dynamic role: the statements that create a database user for each creds/NAME request and \
        drop it when its lease ends, and how long the lease lasts. In the statements, {{name}} is the \
        generated username, {{password}} its password and {{expiration}} the time the lease ends; for \
        Redis they are a JSON list of ACL rules. A write of an existing role changes only what it gives.
        """,
        fields: [dbNameField] + [
            FieldDeclaration("creation_statements", .list, default: [],
                             "The statements that create and configure a user; the plugin's default when it has one."),
            FieldDeclaration("revocation_statements", .list, default: [],
                             "The statements that revoke the user when its lease ends; the plugin's default (drop the user and what it was granted) when empty."),
            FieldDeclaration("rollback_statements", .list, default: [],
                             "The statements that undo a creation that failed part-way, where the plugin supports it."),
            FieldDeclaration("renew_statements", .list, default: [],
                             "The statements that move the user's expiry when its lease is renewed; the plugin's default when empty."),
            FieldDeclaration("default_ttl", .duration, default: 0,
                             "How long a lease lasts unless renewed; 0 means the system default of 768h."),
            FieldDeclaration("max_ttl", .duration, default: 0,
                             "How long a lease may last with renewals, from its issue; 0 means the system maximum of 768h."),
        ] + credentialFields,
        operations: [
            .write: { engine, request in try engine.writeRole(request.name, request.fields) },
            .read: { engine, request in try engine.readRole(request.name) },
            .delete: { engine, request in try engine.deleteRole(request.name) },
        ])

    static let staticRoleListPath = PathDeclaration(
        [.literal("static-roles")],
        synopsis: "List the static roles.",
        description: "Lists the names of the static roles at static-roles/NAME.",
        operations: [.list: { engine, _ in try engine.listStaticRoles() }])

    static let staticRolePath = PathDeclaration(
        [.literal("static-roles"), .name(field: "name", of: .staticRole, description: "Name of the static role.")],
        synopsis: "Manage the static roles that can be created with this backend.",
        description: """
        A static role: one existing database user whose password the engine rotates every \
        rotation_period, or on rotation_schedule within rotation_window, or only on rotate-role with \
        disable_automated_rotation. Creating it rotates the password at once, so that the engine knows \
        it, unless skip_import_rotation stores the password given; static-creds/NAME returns it. A \
        self-managed role (self_managed_password) rotates by logging in as the account itself, without \
        the connection's root credential. With retain_previous_password, each rotation keeps the \
        previous password valid beside the new one (until the next rotation, or previous_password_grace) \
        where the database can. An update never rotates; the username cannot change. Deleting the \
        role leaves the user in the database.
        """,
        fields: [dbNameField] + [
            FieldDeclaration("username", .string,
                             "The existing database user whose password is rotated. Required when the role is created."),
            FieldDeclaration("rotation_period", .duration,
                             "How often the password is rotated, 5 seconds or more. One of rotation_period and rotation_schedule is required."),
            FieldDeclaration("rotation_schedule", .string,
                             "When the password is rotated, as a five-field cron expression in UTC (minute hour day month weekday)."),
            FieldDeclaration("rotation_window", .duration,
                             "With rotation_schedule: how long after each scheduled time a rotation may still start, 1h or more; a rotation missed by longer waits for the next."),
            FieldDeclaration("rotation_statements", .list, default: [],
                             "The statements that change the user's password, with {{name}} and {{password}}; the plugin's default when empty."),
            FieldDeclaration("disable_automated_rotation", .bool, default: false,
                             "Rotate only on rotate-role: no rotation_period or rotation_schedule is needed, and static-creds shows no ttl."),
            FieldDeclaration("skip_import_rotation", .bool,
                             "When the role is created: store password as the account's current one instead of rotating at once; the first rotation is at the first due time. Default: the connection's skip_static_role_import_rotation."),
            FieldDeclaration("password", .string,
                             "The account's current password, with skip_import_rotation (checked by logging in as the account where the plugin can), or for a role on a self-managed connection. On an update: the account's password now, stored without rotating. Pass it as password=- or password=@file.",
                             secret: true),
            FieldDeclaration("self_managed_password", .string,
                             "Makes the role self-managed: the account's current password, with which the engine logs in as the account to change its own password (PostgreSQL, MySQL, MariaDB); the connection's root credential is never used for it.",
                             secret: true),
            FieldDeclaration("retain_previous_password", .bool, default: false,
                             "Zero-downtime rotation: each rotation keeps the previous password valid beside the new one, until the next rotation or previous_password_grace (Redis, ElastiCache, MySQL 8.0.14 or later; refused elsewhere)."),
            FieldDeclaration("previous_password_grace", .duration,
                             "With retain_previous_password: how long the previous password stays valid after a rotation; 0 means until the next rotation."),
        ] + credentialFields,
        operations: [
            .write: { engine, request in try engine.writeStaticRole(request.name, request.fields) },
            .read: { engine, request in try engine.readStaticRole(request.name) },
            .delete: { engine, request in try engine.deleteStaticRole(request.name) },
        ])

    static let dbNameField = FieldDeclaration(
        "db_name", .string, "The connection (config/NAME) the role uses. Required when the role is created.",
        suggestions: .objects(.connection))

    static let credentialFields = [
        FieldDeclaration("credential_type", .string, default: "password",
                         "The kind of credential: password, rsa_private_key or client_certificate (only password can be issued by the plugins here).",
                         suggestions: .choices(CredentialType.allCases.map(\.rawValue))),
        FieldDeclaration("credential_config", .keyPairs,
                         "Settings of the credential type, e.g. password_policy=NAME for passwords, key_bits and format for RSA keys."),
    ]

    // MARK: Dynamic roles

    func writeRole(_ name: String, _ fields: FieldData) throws -> EngineResponse? {
        try withLock(.roleName, name) { try writeRoleLocked(name, fields) }
    }

    private func writeRoleLocked(_ name: String, _ fields: FieldData) throws -> EngineResponse? {
        if try staticRoles.read(name) != nil {
            throw EngineError.invalid("Role and Static Role names must be unique")
        }
        let existing = try roles.read(name)
        var role = existing ?? DynamicRole(dbName: "")
        if let db = fields.string("db_name") { role.dbName = db }
        guard !role.dbName.isEmpty else { throw EngineError.invalid("database name is required") }
        if let type = fields.string("credential_type") { role.credentialType = try Self.credentialType(type) }
        role.credentialConfig = try Self.validatedCredentialConfig(
            fields.pairs("credential_config"), type: role.credentialType, existing: existing?.credentialConfig)
        if let v = fields.strings("creation_statements") { role.creationStatements = v }
        if let v = fields.strings("revocation_statements") { role.revocationStatements = v.filter { !$0.isEmpty } }
        if let v = fields.strings("rollback_statements") { role.rollbackStatements = v }
        if let v = fields.strings("renew_statements") { role.renewStatements = v }
        if let v = fields.int("default_ttl") { role.defaultTTL = v }
        if let v = fields.int("max_ttl") { role.maxTTL = v }
        try roles.write(name, role)
        return nil
    }

    func readRole(_ name: String) throws -> EngineResponse? {
        guard let role = try roles.read(name) else { return nil }
        var data: [String: JSONValue] = [
            "db_name": .string(role.dbName),
            "creation_statements": Self.strings(role.creationStatements),
            "revocation_statements": Self.strings(role.revocationStatements),
            "rollback_statements": Self.strings(role.rollbackStatements),
            "renew_statements": Self.strings(role.renewStatements),
            "default_ttl": .int(role.defaultTTL),
            "max_ttl": .int(role.maxTTL),
            "credential_type": .string(role.credentialType.rawValue),
        ]
        if !role.credentialConfig.isEmpty { data["credential_config"] = Self.readable(role.credentialConfig) }
        return EngineResponse(data: data)
    }

    /// A client-certificate role's CA private key is kept, never read back.
    static func readable(_ credentialConfig: [String: JSONValue]) -> JSONValue {
        .object(credentialConfig.filter { $0.key != "ca_private_key" })
    }

    /// Existing leases stay valid: revocation falls back to what the lease embeds.
    func deleteRole(_ name: String) throws -> EngineResponse? {
        try withLock(.roleName, name) { try roles.delete(name) }
        return nil
    }

    func listRoles() throws -> EngineResponse? { .list(try roles.list()) }

    // MARK: Static roles

    func writeStaticRole(_ name: String, _ fields: FieldData) throws -> EngineResponse? {
        try withLock(.roleName, name) {
            try withLock(.staticRole, name) { try writeStaticRoleLocked(name, fields) }
        }
    }

    private func writeStaticRoleLocked(_ name: String, _ fields: FieldData) throws -> EngineResponse? {
        if try roles.read(name) != nil {
            throw EngineError.invalid("Role and Static Role names must be unique")
        }
        // A write touches the role: an interrupted rotation (or creation) on it is settled first.
        // If it cannot be yet, the write still applies and the intent stays for the next command.
        var warnings: [String] = []
        do {
            try settleIntent(.staticRotation, name, mode: .recovery)
        } catch let error as EngineError {
            warnings.append(error.message)
        }
        let existing = try staticRoles.read(name)
        var role = existing ?? StaticRole(dbName: "", username: "")
        if let db = fields.string("db_name") { role.dbName = db }
        guard !role.dbName.isEmpty else { throw EngineError.invalid("database name is a required field") }

        // Vault fails an update that omits `username` (it compares "" to the stored name); we keep
        // the stored one instead, and still refuse a different one.
        let username = fields.string("username") ?? ""
        if let existing {
            if !username.isEmpty && username != existing.username {
                throw EngineError.invalid("cannot update static account username")
            }
        } else {
            guard !username.isEmpty else { throw EngineError.invalid("username is a required field to create a static account") }
            role.username = username
        }
        // Rotating the connection's own user would change the password the engine logs in with
        // behind its back and lock it out (Vault issue 21857): that user is rotate-root's.
        if let root = try connections.read(role.dbName)?.connectionDetails["username"]?.textValue, root == role.username {
            throw EngineError.invalid("username \"\(role.username)\" is the user of connection \"\(role.dbName)\" itself: a static role rotating it would lock the engine out of the database; rotate it with rotate-root")
        }

        let wasManualOnly = existing?.isManualOnly ?? false
        if let disabled = fields.bool("disable_automated_rotation") { role.disableAutomatedRotation = disabled ? true : nil }
        var plan = role.plan
        try plan.apply(period: fields.isGiven("rotation_period") ? fields.int("rotation_period") ?? 0 : nil,
                       schedule: fields.string("rotation_schedule"),
                       window: fields.isGiven("rotation_window") ? fields.int("rotation_window") ?? 0 : nil,
                       requireOne: existing == nil && !role.isManualOnly)
        if !role.isManualOnly && plan.period == 0 && plan.schedule.isEmpty {
            throw EngineError.invalid("one of rotation_schedule or rotation_period must be provided to rotate a static account automatically")
        }
        let replanned = plan != role.plan || wasManualOnly != role.isManualOnly
        (role.rotationPeriod, role.rotationSchedule, role.rotationWindow) = (plan.period, plan.schedule, plan.window)
        if let v = fields.strings("rotation_statements") { role.rotationStatements = v }
        if let type = fields.string("credential_type") { role.credentialType = try Self.credentialType(type) }
        role.credentialConfig = try Self.validatedCredentialConfig(
            fields.pairs("credential_config"), type: role.credentialType, existing: existing?.credentialConfig)

        if let retain = fields.bool("retain_previous_password") { role.retainPreviousPassword = retain ? true : nil }
        if let grace = fields.int("previous_password_grace") {
            guard role.retainsPreviousPassword else {
                throw EngineError.invalid("previous_password_grace applies only with retain_previous_password=true")
            }
            role.previousPasswordGrace = grace > 0 ? grace : nil
        }
        let given = try Self.accountPassword(fields)
        if fields.string("self_managed_password") != nil { role.selfManaged = true }
        if fields.isGiven("skip_import_rotation") && existing != nil {
            throw EngineError.invalid("skip_import_rotation applies only when the static role is created; to store the account's current password without rotating, write password")
        }

        if let existing {
            if let given {
                // The operator says what the account's password is now: checked, and stored as it
                // is (a password changed behind the engine's back, or a self-managed role to repair).
                let verified = try checkStaticRole(name, role, password: given, newlyRetaining: role.retainsPreviousPassword && !existing.retainsPreviousPassword,
                                                   warnings: &warnings)
                role.password = given
                role.lastError = nil
                role.retryAt = nil
                if verified { try intents.delete(.staticRotation, name) }
            } else if role.isSelfManaged != existing.isSelfManaged || (role.retainsPreviousPassword && !existing.retainsPreviousPassword) {
                _ = try checkStaticRole(name, role, password: nil, newlyRetaining: true, warnings: &warnings)
            }
            // An update never rotates; a changed plan re-plans the next rotation.
            if replanned { role.nextVaultRotation = role.plan.next(after: existing.lastVaultRotation ?? now) }
            try staticRoles.write(name, role)
            return warnings.isEmpty ? nil : EngineResponse(data: nil, warnings: warnings)
        }

        guard let config = try connections.read(role.dbName) else { throw Self.missingConnection(role.dbName) }
        if config.isSelfManaged && given != nil { role.selfManaged = true }
        if config.isSelfManaged && !role.isSelfManaged { throw Self.selfManagedConnectionNeedsPassword(role.dbName) }
        let skip = fields.bool("skip_import_rotation") ?? config.skipStaticRoleImportRotation ?? false
        if skip {
            guard let given else {
                throw EngineError.invalid("skip_import_rotation needs the account's current password: give it as password=- (stdin) or password=@FILE")
            }
            // Adopting the account as it is: nothing changes in the database, so no intent; the
            // first rotation is at the first due time.
            _ = try checkStaticRole(name, role, password: given, newlyRetaining: role.retainsPreviousPassword, warnings: &warnings)
            role.password = given
            role.skipImportRotation = true
            role.nextVaultRotation = role.plan.next(after: now)
            try staticRoles.write(name, role)
            return warnings.isEmpty ? nil : EngineResponse(data: nil, warnings: warnings)
        }
        if given != nil && !role.isSelfManaged {
            throw EngineError.invalid("password is used only with skip_import_rotation=true, or for a self-managed role; without them the role's first rotation sets the password")
        }
        if let given {
            _ = try checkStaticRole(name, role, password: given, newlyRetaining: role.retainsPreviousPassword, warnings: &warnings)
            role.password = given
        } else if role.retainsPreviousPassword {
            _ = try checkStaticRole(name, role, password: nil, newlyRetaining: true, warnings: &warnings)
        }
        // Vault must learn the password: a new static role rotates at once, and is stored only if
        // that succeeds.
        role = try rotateStaticAccount(name, role, isCreate: true)
        return warnings.isEmpty ? nil : EngineResponse(data: nil, warnings: warnings)
    }

    /// The account password a write gives, as `self_managed_password` (Vault Enterprise 1.18) or
    /// `password` (its newer name); both at once must agree.
    private static func accountPassword(_ fields: FieldData) throws -> String? {
        let selfManaged = fields.string("self_managed_password"), password = fields.string("password")
        if let selfManaged, let password, selfManaged != password {
            throw EngineError.invalid("password and self_managed_password differ; give the account's current password once")
        }
        guard let given = selfManaged ?? password else { return nil }
        guard !given.isEmpty else { throw EngineError.invalid("the account's password cannot be empty") }
        return given
    }

    /// Asks the database, before a role is stored, what the role needs of it: the features it uses
    /// (self-managed rotation, two passwords) and, when `password` is given, that the account logs
    /// in with it. Returns whether the login was confirmed; a plugin that cannot tell adds a warning.
    private func checkStaticRole(_ name: String, _ role: StaticRole, password: String?, newlyRetaining: Bool,
                                 warnings: inout [String]) throws -> Bool {
        if role.isSelfManaged && role.retainsPreviousPassword {
            throw EngineError.invalid("retain_previous_password is not supported for self-managed static roles")
        }
        let config = try settledConnection(role.dbName)
        return try withPlugin(config: config, verify: false) { session -> Bool in
            func supports(_ feature: PluginFeature) throws -> Bool {
                do { return try session.plugin.supports(feature) } catch { throw session.failure(error) }
            }
            if role.isSelfManaged, try !supports(.selfManagedPassword) {
                throw EngineError.invalid("self-managed static roles are not supported by \(config.pluginName) (PostgreSQL, MySQL and MariaDB have them)")
            }
            if newlyRetaining, try !supports(.twoPasswords) {
                throw EngineError.invalid("retain_previous_password needs a database that keeps two passwords per account (Redis, ElastiCache, MySQL 8.0.14 or later); the database of connection \(role.dbName) (\(config.pluginName)) keeps one")
            }
            guard let password else { return false }
            var sanitizer = session.sanitizer
            sanitizer.add(password)
            let answer: Bool?
            do {
                answer = try session.plugin.checkPassword(username: role.username, password: password)
            } catch {
                throw EngineError.failed("cannot check the password of \(role.username): \(sanitizer.clean(error))")
            }
            switch answer {
            case true?: return true
            case false?: throw EngineError.invalid("the password given does not log in as \(role.username)")
            case nil:
                warnings.append("the password of \(role.username) could not be checked (\(config.pluginName) cannot log in as the account); it is stored as given")
                return false
            }
        }
    }

    func readStaticRole(_ name: String) throws -> EngineResponse? {
        guard let role = try staticRoles.read(name) else { return nil }
        var data: [String: JSONValue] = [
            "db_name": .string(role.dbName),
            "username": .string(role.username),
            "rotation_statements": Self.strings(role.rotationStatements),
            "credential_type": .string(role.credentialType.rawValue),
        ]
        Self.addRotationFields(role, to: &data)
        if let last = role.lastVaultRotation { data["last_vault_rotation"] = .string(Timestamp.format(last)) }
        if !role.credentialConfig.isEmpty { data["credential_config"] = Self.readable(role.credentialConfig) }
        data["skip_import_rotation"] = .bool(role.skipImportRotation == true)
        data["disable_automated_rotation"] = .bool(role.isManualOnly)
        if role.isSelfManaged { data["self_managed"] = true }
        data["retain_previous_password"] = .bool(role.retainsPreviousPassword)
        if role.retainsPreviousPassword {
            data["previous_password_grace"] = .int(role.previousPasswordGrace ?? 0)
            if role.previousPassword != nil {
                data["previous_password_valid_until"] = .string(role.previousPasswordExpiry.map(Timestamp.format) ?? "next rotation")
            }
        }
        return EngineResponse(data: data)
    }

    static func addRotationFields(_ role: StaticRole, to data: inout [String: JSONValue]) {
        if role.rotationSchedule.isEmpty {
            data["rotation_period"] = .int(role.rotationPeriod)
        } else {
            data["rotation_schedule"] = .string(role.rotationSchedule)
            if role.rotationWindow > 0 { data["rotation_window"] = .int(role.rotationWindow) }
        }
    }

    /// The database user is never touched: deleting a static role only forgets it.
    func deleteStaticRole(_ name: String) throws -> EngineResponse? {
        try withLock(.roleName, name) {
            try withLock(.staticRole, name) {
                try staticRoles.delete(name)
                // Deleting a role forgets it, passwords of an interrupted rotation included.
                try intents.delete(.staticRotation, name)
            }
        }
        return nil
    }

    func listStaticRoles() throws -> EngineResponse? { .list(try staticRoles.list()) }

    // MARK: Shared field handling

    static func strings(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }

    static func credentialType(_ text: String) throws -> CredentialType {
        guard let type = CredentialType(rawValue: text) else {
            throw EngineError.invalid("invalid credential_type \"\(text)\"")
        }
        return type
    }

    /// Vault validates and normalizes `credential_config` against the credential type on every
    /// write (§8 of the reference).
    static func validatedCredentialConfig(_ config: [String: String]?, type: CredentialType,
                                          existing: [String: JSONValue]?) throws -> [String: JSONValue] {
        guard let config else {
            switch type {
            case .password: return existing ?? [:]
            case .rsaPrivateKey: return existing?.isEmpty == false ? existing! : ["format": "pkcs8", "key_bits": 2048]
            case .clientCertificate:
                if let existing, !existing.isEmpty { return existing }
                throw EngineError.invalid("credential_config validation failed: missing required common_name_template")
            }
        }
        func fail(_ message: String) -> EngineError { .invalid("credential_config validation failed: \(message)") }
        switch type {
        case .password:
            var out: [String: JSONValue] = [:]
            if let policy = config["password_policy"], !policy.isEmpty { out["password_policy"] = .string(policy) }
            return out
        case .rsaPrivateKey:
            let bits = Int(config["key_bits"] ?? "2048") ?? -1
            guard [2048, 3072, 4096].contains(bits) else { throw fail("invalid key_bits: \(config["key_bits"] ?? "")") }
            let format = config["format"] ?? "pkcs8"
            guard format.lowercased() == "pkcs8" else { throw fail("invalid format: \(format)") }
            return ["format": .string(format), "key_bits": .int(bits)]
        case .clientCertificate:
            let keyType = config["key_type"] ?? ""
            let allowedBits: [String: [Int]] = ["rsa": [2048, 3072, 4096], "ec": [224, 256, 384, 521], "ed25519": [0]]
            guard let bitsChoices = allowedBits[keyType] else { throw fail("invalid key_type") }
            let defaultBits = keyType == "rsa" ? 2048 : (keyType == "ec" ? 256 : 0)
            let bits = Int(config["key_bits"] ?? String(defaultBits)) ?? -1
            guard bitsChoices.contains(bits) else { throw fail("invalid key_bits") }
            let signatureBits = Int(config["signature_bits"] ?? "256") ?? -1
            guard [256, 384, 512].contains(signatureBits) else { throw fail("invalid signature_bits") }
            guard let cn = config["common_name_template"], !cn.isEmpty else { throw fail("missing required common_name_template") }
            guard let ca = config["ca_cert"], !ca.isEmpty else { throw fail("missing required ca_cert") }
            guard let key = config["ca_private_key"], !key.isEmpty else { throw fail("missing required ca_private_key") }
            var out: [String: JSONValue] = ["key_type": .string(keyType), "signature_bits": .int(signatureBits),
                                            "common_name_template": .string(cn), "ca_cert": .string(ca),
                                            "ca_private_key": .string(key)]
            if bits > 0 { out["key_bits"] = .int(bits) }
            return out
        }
    }
}
