import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A state file read without `JSONDecoder`, for the records a short command reads
/// (`RecordStore.decode`): the decoder's generic machinery builds type metadata at its first use
/// in a process, a fifth of a `read`'s start-up. It reads what the synthesized decoder reads, for
/// the shapes this dbsecrets writes: required keys present with their JSON types, optional ones
/// absent, null or of their type, times as `Timestamp` writes them. Anything else (an older
/// shape, a damaged file) makes a reader answer nil, and the file takes `JSONDecoder`'s path,
/// with its errors.
struct QuickRecord {
    private let object: [String: JSONValue]

    /// nil unless the file is a JSON object of the current `format_version`.
    init?(_ data: Data) {
        guard case .object(let object)? = try? JSONParser.parse(data),
              object["format_version"] == .int(StateCoding.formatVersion) else { return nil }
        self.object = object
    }

    func string(_ key: String) -> String? { object[key]?.stringValue }

    func int(_ key: String) -> Int? {
        if case .int(let value)? = object[key] { return value }
        return nil
    }

    func bool(_ key: String) -> Bool? {
        if case .bool(let value)? = object[key] { return value }
        return nil
    }

    func time(_ key: String) -> Date? { string(key).flatMap(Timestamp.parse) }

    func strings(_ key: String) -> [String]? {
        guard case .array(let items)? = object[key] else { return nil }
        let strings = items.compactMap(\.stringValue)
        return strings.count == items.count ? strings : nil
    }

    /// A `[String: JSONValue]` field. A whole number written with a fraction or an exponent
    /// (`1.0`) is one JSONValue's decoder reads as `.int` and the parser as `.double`: such a
    /// file takes the decoder's path.
    func values(_ key: String) -> [String: JSONValue]? {
        guard case .object(let values)? = object[key], !values.values.contains(where: Self.holdsWholeDouble) else { return nil }
        return values
    }

    func credentialType(_ key: String) -> CredentialType? { string(key).flatMap(CredentialType.init(rawValue:)) }

    /// An optional field: `.some(nil)` when absent or null, `.some(value)` when `read` reads it,
    /// nil when it holds another type.
    func optional<T>(_ key: String, _ read: (QuickRecord) -> (String) -> T?) -> T?? {
        guard let value = object[key], value != .null else { return .some(nil) }
        return read(self)(key).map { .some($0) }
    }

    private static func holdsWholeDouble(_ value: JSONValue) -> Bool {
        switch value {
        case .double(let d): return d == d.rounded()
        case .array(let items): return items.contains(where: holdsWholeDouble)
        case .object(let members): return members.values.contains(where: holdsWholeDouble)
        default: return false
        }
    }
}

extension DynamicRole {
    static func decodeQuickly(_ data: Data) -> DynamicRole? {
        guard let r = QuickRecord(data), let dbName = r.string("db_name"),
              let creation = r.strings("creation_statements"), let revocation = r.strings("revocation_statements"),
              let rollback = r.strings("rollback_statements"), let renew = r.strings("renew_statements"),
              let defaultTTL = r.int("default_ttl"), let maxTTL = r.int("max_ttl"),
              let credentialType = r.credentialType("credential_type"), let credentialConfig = r.values("credential_config")
        else { return nil }
        return DynamicRole(dbName: dbName, creationStatements: creation, revocationStatements: revocation,
                           rollbackStatements: rollback, renewStatements: renew, defaultTTL: defaultTTL, maxTTL: maxTTL,
                           credentialType: credentialType, credentialConfig: credentialConfig)
    }
}

extension DatabaseConfig {
    static func decodeQuickly(_ data: Data) -> DatabaseConfig? {
        guard let r = QuickRecord(data), let pluginName = r.string("plugin_name"), let pluginVersion = r.string("plugin_version"),
              let details = r.values("connection_details"), let allowedRoles = r.strings("allowed_roles"),
              let rootStatements = r.strings("root_credentials_rotate_statements"), let policy = r.string("password_policy"),
              let verify = r.bool("verify_connection"),
              let skipImport = r.optional("skip_static_role_import_rotation", QuickRecord.bool),
              let period = r.optional("rotation_period", QuickRecord.int), let schedule = r.optional("rotation_schedule", QuickRecord.string),
              let window = r.optional("rotation_window", QuickRecord.int),
              let disabled = r.optional("disable_automated_rotation", QuickRecord.bool),
              let lastRotation = r.optional("last_root_rotation", QuickRecord.time), let nextRotation = r.optional("next_root_rotation", QuickRecord.time),
              let retryAt = r.optional("root_retry_at", QuickRecord.time), let lastError = r.optional("root_last_error", QuickRecord.string)
        else { return nil }
        return DatabaseConfig(pluginName: pluginName, pluginVersion: pluginVersion, connectionDetails: details, allowedRoles: allowedRoles,
                              rootRotationStatements: rootStatements, passwordPolicy: policy, verifyConnection: verify,
                              skipStaticRoleImportRotation: skipImport, rotationPeriod: period, rotationSchedule: schedule,
                              rotationWindow: window, disableAutomatedRotation: disabled, lastRootRotation: lastRotation,
                              nextRootRotation: nextRotation, rootRetryAt: retryAt, rootLastError: lastError)
    }
}

extension StaticRole {
    static func decodeQuickly(_ data: Data) -> StaticRole? {
        guard let r = QuickRecord(data), let dbName = r.string("db_name"), let username = r.string("username"),
              let statements = r.strings("rotation_statements"), let period = r.int("rotation_period"),
              let schedule = r.string("rotation_schedule"), let window = r.int("rotation_window"),
              let credentialType = r.credentialType("credential_type"), let credentialConfig = r.values("credential_config"),
              let password = r.string("password"), let failedAttempts = r.int("failed_attempts"),
              let lastRotation = r.optional("last_vault_rotation", QuickRecord.time),
              let nextRotation = r.optional("next_vault_rotation", QuickRecord.time),
              let retryAt = r.optional("retry_at", QuickRecord.time), let lastError = r.optional("last_error", QuickRecord.string),
              let manualOnly = r.optional("disable_automated_rotation", QuickRecord.bool),
              let skipImport = r.optional("skip_import_rotation", QuickRecord.bool),
              let selfManaged = r.optional("self_managed", QuickRecord.bool),
              let retain = r.optional("retain_previous_password", QuickRecord.bool),
              let grace = r.optional("previous_password_grace", QuickRecord.int),
              let previous = r.optional("previous_password", QuickRecord.string),
              let previousExpiry = r.optional("previous_password_expiry", QuickRecord.time)
        else { return nil }
        return StaticRole(dbName: dbName, username: username, rotationStatements: statements, rotationPeriod: period,
                          rotationSchedule: schedule, rotationWindow: window, credentialType: credentialType,
                          credentialConfig: credentialConfig, password: password, lastVaultRotation: lastRotation,
                          nextVaultRotation: nextRotation, retryAt: retryAt, lastError: lastError, failedAttempts: failedAttempts,
                          disableAutomatedRotation: manualOnly, skipImportRotation: skipImport, selfManaged: selfManaged,
                          retainPreviousPassword: retain, previousPasswordGrace: grace, previousPassword: previous,
                          previousPasswordExpiry: previousExpiry)
    }
}

extension Lease {
    /// A listing reads 100,000 of these.
    static func decodeQuickly(_ data: Data) -> Lease? {
        guard let r = QuickRecord(data), let id = r.string("id"), let role = r.string("role"), let dbName = r.string("db_name"),
              let username = r.string("username"), let issueTime = r.time("issue_time"), let expireTime = r.time("expire_time"),
              let revokeAttempts = r.int("revoke_attempts"), let irrevocable = r.bool("irrevocable"),
              let statements = r.optional("revocation_statements", QuickRecord.strings),
              let lastRenewal = r.optional("last_renewal", QuickRecord.time), let lastError = r.optional("last_error", QuickRecord.string),
              let nextAttempt = r.optional("next_revoke_attempt", QuickRecord.time) else { return nil }
        return Lease(id: id, role: role, dbName: dbName, username: username, revocationStatements: statements,
                     issueTime: issueTime, expireTime: expireTime, lastRenewal: lastRenewal, revokeAttempts: revokeAttempts,
                     lastError: lastError, nextRevokeAttempt: nextAttempt, irrevocable: irrevocable)
    }
}
