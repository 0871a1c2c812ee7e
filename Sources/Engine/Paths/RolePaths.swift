import DBPlugin
import Foundation

/// `database/roles/:name` and `database/static-roles/:name` (create, update, read, delete, list).
extension Engine {
    // MARK: Dynamic roles

    func writeRole(_ name: String, _ data: [String: JSONValue]) throws -> EngineResponse? {
        let nameLock = try state.lock(.roleName, name)
        defer { withExtendedLifetime(nameLock) {} }
        if try staticRoles.read(name) != nil {
            throw EngineError.invalid("Role and Static Role names must be unique")
        }
        let existing = try roles.read(name)
        var role = existing ?? DynamicRole(dbName: "")
        if let db = data["db_name"] { role.dbName = try FieldValue.string(db, field: "db_name") }
        guard !role.dbName.isEmpty else { throw EngineError.invalid("database name is required") }
        if let type = data["credential_type"] { role.credentialType = try Self.credentialType(type) }
        role.credentialConfig = try Self.validatedCredentialConfig(
            data["credential_config"], type: role.credentialType, existing: existing?.credentialConfig)
        if let v = data["creation_statements"] { role.creationStatements = try FieldValue.stringSlice(v, field: "creation_statements") }
        if let v = data["revocation_statements"] {
            role.revocationStatements = try FieldValue.stringSlice(v, field: "revocation_statements").filter { !$0.isEmpty }
        }
        if let v = data["rollback_statements"] { role.rollbackStatements = try FieldValue.stringSlice(v, field: "rollback_statements") }
        if let v = data["renew_statements"] { role.renewStatements = try FieldValue.stringSlice(v, field: "renew_statements") }
        if let v = data["default_ttl"] { role.defaultTTL = try DurationField.seconds(v, field: "default_ttl") }
        if let v = data["max_ttl"] { role.maxTTL = try DurationField.seconds(v, field: "max_ttl") }
        try roles.write(name, role)
        // Vault answers 204 and drops unknown fields silently; a typo such as `default_tll` deserves a word.
        return Self.unrecognizedFieldsWarning(data, known: Self.roleFields).map { EngineResponse(data: nil, warnings: [$0]) }
    }

    static let roleFields: Set<String> = [
        "name", "db_name", "creation_statements", "revocation_statements", "rollback_statements", "renew_statements",
        "default_ttl", "max_ttl", "credential_type", "credential_config",
    ]

    static func unrecognizedFieldsWarning(_ data: [String: JSONValue], known: Set<String>) -> String? {
        let unknown = data.keys.filter { !known.contains($0) }.sorted()
        return unknown.isEmpty ? nil : "Endpoint ignored these unrecognized parameters: [\(unknown.joined(separator: " "))]"
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
        let nameLock = try state.lock(.roleName, name)
        defer { withExtendedLifetime(nameLock) {} }
        try roles.delete(name)
        return nil
    }

    func listRoles() throws -> EngineResponse? { .list(try roles.list()) }

    // MARK: Static roles

    func writeStaticRole(_ name: String, _ data: [String: JSONValue]) throws -> EngineResponse? {
        let nameLock = try state.lock(.roleName, name)
        defer { withExtendedLifetime(nameLock) {} }
        let roleLock = try state.lock(.staticRole, name)
        defer { withExtendedLifetime(roleLock) {} }
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
        if let db = data["db_name"] { role.dbName = try FieldValue.string(db, field: "db_name") }
        guard !role.dbName.isEmpty else { throw EngineError.invalid("database name is a required field") }

        // Vault fails an update that omits `username` (it compares "" to the stored name); we keep
        // the stored one instead, and still refuse a different one.
        let username = try data["username"].map { try FieldValue.string($0, field: "username") } ?? ""
        if let existing {
            if !username.isEmpty && username != existing.username {
                throw EngineError.invalid("cannot update static account username")
            }
        } else {
            guard !username.isEmpty else { throw EngineError.invalid("username is a required field to create a static account") }
            role.username = username
        }

        let schedule = try data["rotation_schedule"].map { try FieldValue.string($0, field: "rotation_schedule") } ?? ""
        let periodGiven = data["rotation_period"] != nil
        let windowGiven = data["rotation_window"] != nil
        if !schedule.isEmpty && periodGiven {
            throw EngineError.invalid("mutually exclusive fields rotation_period and rotation_schedule were both specified; only one of them can be provided")
        }
        if existing == nil && schedule.isEmpty && !periodGiven {
            throw EngineError.invalid("one of rotation_schedule or rotation_period must be provided to create a static account")
        }
        if periodGiven {
            let period = try DurationField.seconds(data["rotation_period"]!, field: "rotation_period")
            guard period >= 5 else { throw EngineError.invalid("rotation_period must be 5 seconds or more") }
            if windowGiven { throw EngineError.invalid("rotation_window is invalid with use of rotation_period") }
            role.rotationPeriod = period
            role.rotationSchedule = ""
            role.rotationWindow = 0
        } else if !schedule.isEmpty {
            do {
                _ = try CronSchedule(schedule)
            } catch {
                throw EngineError.invalid("could not parse rotation_schedule: \(error)")
            }
            if windowGiven {
                let window = try DurationField.seconds(data["rotation_window"]!, field: "rotation_window")
                guard window >= 3600 else {
                    throw EngineError.invalid("rotation_window is invalid: rotation_window must be 3600 seconds or more")
                }
                role.rotationWindow = window
            }
            role.rotationSchedule = schedule
            role.rotationPeriod = 0
        } else if windowGiven {
            guard !role.rotationSchedule.isEmpty else {
                throw EngineError.invalid("rotation_window is invalid with use of rotation_period")
            }
            let window = try DurationField.seconds(data["rotation_window"]!, field: "rotation_window")
            guard window >= 3600 else {
                throw EngineError.invalid("rotation_window is invalid: rotation_window must be 3600 seconds or more")
            }
            role.rotationWindow = window
        }
        if let v = data["rotation_statements"] { role.rotationStatements = try FieldValue.stringSlice(v, field: "rotation_statements") }
        if let type = data["credential_type"] { role.credentialType = try Self.credentialType(type) }
        role.credentialConfig = try Self.validatedCredentialConfig(
            data["credential_config"], type: role.credentialType, existing: existing?.credentialConfig)

        if let existing {
            // An update never rotates; a changed period or schedule re-plans the next rotation.
            if periodGiven || !schedule.isEmpty, let last = existing.lastVaultRotation {
                role.nextVaultRotation = nextRotation(of: role, after: last)
            }
            try staticRoles.write(name, role)
        } else {
            // Vault must learn the password: a new static role rotates at once, and is stored
            // only if that succeeds.
            role = try rotateStaticAccount(name, role, isCreate: true)
        }
        if let warning = Self.unrecognizedFieldsWarning(data, known: Self.staticRoleFields) { warnings.append(warning) }
        return EngineResponse(data: nil, warnings: warnings)
    }

    static let staticRoleFields: Set<String> = [
        "name", "db_name", "username", "rotation_period", "rotation_schedule", "rotation_window",
        "rotation_statements", "credential_type", "credential_config",
    ]

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
        let nameLock = try state.lock(.roleName, name)
        defer { withExtendedLifetime(nameLock) {} }
        let roleLock = try state.lock(.staticRole, name)
        defer { withExtendedLifetime(roleLock) {} }
        try staticRoles.delete(name)
        // Deleting a role forgets it, passwords of an interrupted rotation included.
        try intents.delete(.staticRotation, name)
        return nil
    }

    func listStaticRoles() throws -> EngineResponse? { .list(try staticRoles.list()) }

    // MARK: Shared field handling

    static func strings(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }

    static func credentialType(_ value: JSONValue) throws -> CredentialType {
        let text = value.textValue ?? ""
        guard let type = CredentialType(rawValue: text) else {
            throw EngineError.invalid("invalid credential_type \"\(text)\"")
        }
        return type
    }

    /// Vault validates and normalizes `credential_config` against the credential type on every
    /// write (§8 of the reference).
    static func validatedCredentialConfig(_ value: JSONValue?, type: CredentialType,
                                          existing: [String: JSONValue]?) throws -> [String: JSONValue] {
        guard let value else {
            switch type {
            case .password: return existing ?? [:]
            case .rsaPrivateKey: return existing?.isEmpty == false ? existing! : ["format": "pkcs8", "key_bits": 2048]
            case .clientCertificate:
                if let existing, !existing.isEmpty { return existing }
                throw EngineError.invalid("credential_config validation failed: missing required common_name_template")
            }
        }
        let config = try FieldValue.keyValuePairs(value, field: "credential_config")
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
