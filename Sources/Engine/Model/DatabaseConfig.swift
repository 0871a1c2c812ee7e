import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A connection (`database/config/NAME`): which plugin, how to reach the database, which roles
/// may use it. `connection_details` holds the plugin's parameters, secrets included; reads
/// strip the secrets.
struct DatabaseConfig: Codable, Equatable {
    var pluginName: String
    var pluginVersion: String = ""
    var connectionDetails: [String: JSONValue] = [:]
    var allowedRoles: [String] = []
    var rootRotationStatements: [String] = []
    var passwordPolicy: String = ""
    var verifyConnection: Bool = true
    /// The default of a static role's `skip_import_rotation`. nil: false.
    var skipStaticRoleImportRotation: Bool? = nil
    /// Automated rotation of the root credential (nil: none), as Vault Enterprise's fields.
    var rotationPeriod: Int? = nil
    var rotationSchedule: String? = nil
    var rotationWindow: Int? = nil
    var disableAutomatedRotation: Bool? = nil
    /// When the root password was last rotated by dbsecrets, and when it is next due.
    var lastRootRotation: Date? = nil
    var nextRootRotation: Date? = nil
    /// After a failed automated rotation: when to try again, and why it failed (secrets sanitized).
    var rootRetryAt: Date? = nil
    var rootLastError: String? = nil

    enum CodingKeys: String, CodingKey {
        case pluginName = "plugin_name"
        case pluginVersion = "plugin_version"
        case connectionDetails = "connection_details"
        case allowedRoles = "allowed_roles"
        case rootRotationStatements = "root_credentials_rotate_statements"
        case passwordPolicy = "password_policy"
        case verifyConnection = "verify_connection"
        case skipStaticRoleImportRotation = "skip_static_role_import_rotation"
        case rotationPeriod = "rotation_period"
        case rotationSchedule = "rotation_schedule"
        case rotationWindow = "rotation_window"
        case disableAutomatedRotation = "disable_automated_rotation"
        case lastRootRotation = "last_root_rotation"
        case nextRootRotation = "next_root_rotation"
        case rootRetryAt = "root_retry_at"
        case rootLastError = "root_last_error"
    }

    /// When the root password is rotated on its own: only with a period or a schedule, and not
    /// while `disable_automated_rotation` is set.
    var rootPlan: RotationPlan {
        let period = rotationPeriod ?? 0, schedule = rotationSchedule ?? ""
        return RotationPlan(period: period, schedule: schedule, window: rotationWindow ?? 0,
                            disabled: disableAutomatedRotation == true || (period == 0 && schedule.isEmpty))
    }

    /// A connection with no root credential (Vault Enterprise's `self_managed` connection
    /// parameter): only self-managed static roles can use it.
    var isSelfManaged: Bool {
        connectionDetails["self_managed"].flatMap { try? FieldValue.bool($0, field: "self_managed") } ?? false
    }
}
