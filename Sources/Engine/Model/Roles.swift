import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A dynamic role (`database/roles/NAME`): how to create, renew and revoke short-lived users.
struct DynamicRole: Codable, Equatable {
    var dbName: String
    var creationStatements: [String] = []
    var revocationStatements: [String] = []
    var rollbackStatements: [String] = []
    var renewStatements: [String] = []
    var defaultTTL: Int = 0
    var maxTTL: Int = 0
    var credentialType: CredentialType = .password
    var credentialConfig: [String: JSONValue] = [:]

    enum CodingKeys: String, CodingKey {
        case dbName = "db_name"
        case creationStatements = "creation_statements"
        case revocationStatements = "revocation_statements"
        case rollbackStatements = "rollback_statements"
        case renewStatements = "renew_statements"
        case defaultTTL = "default_ttl"
        case maxTTL = "max_ttl"
        case credentialType = "credential_type"
        case credentialConfig = "credential_config"
    }
}

/// A static role (`database/static-roles/NAME`): one long-lived database user whose password
/// the engine rotates. The current password lives here and nowhere else.
struct StaticRole: Codable, Equatable {
    var dbName: String
    var username: String
    var rotationStatements: [String] = []
    var rotationPeriod: Int = 0
    var rotationSchedule: String = ""
    var rotationWindow: Int = 0
    var credentialType: CredentialType = .password
    var credentialConfig: [String: JSONValue] = [:]
    var password: String = ""
    var lastVaultRotation: Date?
    var nextVaultRotation: Date?
    /// After a failed rotation: when to try again, and what went wrong (secrets sanitized).
    var retryAt: Date?
    var lastError: String?
    var failedAttempts: Int = 0
    /// Rotated only on request (`rotate-role`), never on a schedule. nil: false.
    var disableAutomatedRotation: Bool? = nil
    /// Created without rotating: the operator's password was stored as it was (shown by reads).
    var skipImportRotation: Bool? = nil
    /// The account changes its own password, logging in with `password`: no root credential is used.
    var selfManaged: Bool? = nil
    /// Zero-downtime rotation: each rotation keeps the password before it valid beside the new one.
    var retainPreviousPassword: Bool? = nil
    /// Seconds the retained password stays valid after a rotation; nil or 0: until the next rotation.
    var previousPasswordGrace: Int? = nil
    /// The password the last rotation retained, and when it stops being valid (nil: at the next
    /// rotation). The database holds it beside `password` until then.
    var previousPassword: String? = nil
    var previousPasswordExpiry: Date? = nil

    enum CodingKeys: String, CodingKey {
        case dbName = "db_name"
        case username
        case rotationStatements = "rotation_statements"
        case rotationPeriod = "rotation_period"
        case rotationSchedule = "rotation_schedule"
        case rotationWindow = "rotation_window"
        case credentialType = "credential_type"
        case credentialConfig = "credential_config"
        case password
        case lastVaultRotation = "last_vault_rotation"
        case nextVaultRotation = "next_vault_rotation"
        case retryAt = "retry_at"
        case lastError = "last_error"
        case failedAttempts = "failed_attempts"
        case disableAutomatedRotation = "disable_automated_rotation"
        case skipImportRotation = "skip_import_rotation"
        case selfManaged = "self_managed"
        case retainPreviousPassword = "retain_previous_password"
        case previousPasswordGrace = "previous_password_grace"
        case previousPassword = "previous_password"
        case previousPasswordExpiry = "previous_password_expiry"
    }

    var isManualOnly: Bool { disableAutomatedRotation == true }
    var isSelfManaged: Bool { selfManaged == true }
    var retainsPreviousPassword: Bool { retainPreviousPassword == true }

    /// When the role's password is rotated on its own.
    var plan: RotationPlan {
        RotationPlan(period: rotationPeriod, schedule: rotationSchedule, window: rotationWindow, disabled: isManualOnly)
    }
}

public enum CredentialType: String, Codable, Sendable, CaseIterable {
    case password
    case rsaPrivateKey = "rsa_private_key"
    case clientCertificate = "client_certificate"
}
