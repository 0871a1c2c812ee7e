import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The messages between dbsecrets and a plugin running as its own process, one JSON object per
/// line each way: the plugin contract's four calls and close, and their answers. Times travel as
/// Unix seconds.
enum PluginWireProtocol {
    struct Request: Codable {
        var op: String
        var config: [String: JSONValue]?
        var verifyConnection: Bool?
        var displayName: String?
        var roleName: String?
        var statements: [String]?
        var rollbackStatements: [String]?
        var password: String?
        var expiration: Double?
        var username: String?
        var newPassword: String?
        var passwordStatements: [String]?
        var newExpiration: Double?
        var expirationStatements: [String]?
        var isRootRotation: Bool?
        var retainedPassword: String?
        var discardedPassword: String?
        var selfManagedPassword: String?
        var discardCurrentPassword: String?
        var discardPreviousPassword: String?
        /// For `supports`: a `PluginFeature`'s raw value.
        var feature: String?

        enum CodingKeys: String, CodingKey {
            case op, config, statements, password, expiration, username
            case verifyConnection = "verify_connection"
            case displayName = "display_name"
            case roleName = "role_name"
            case rollbackStatements = "rollback_statements"
            case newPassword = "new_password"
            case passwordStatements = "password_statements"
            case newExpiration = "new_expiration"
            case expirationStatements = "expiration_statements"
            case isRootRotation = "is_root_rotation"
            case retainedPassword = "retained_password"
            case discardedPassword = "discarded_password"
            case selfManagedPassword = "self_managed_password"
            case discardCurrentPassword = "discard_current_password"
            case discardPreviousPassword = "discard_previous_password"
            case feature
        }

        init(op: String) { self.op = op }
    }

    struct Response: Codable {
        var ok: Bool
        var config: [String: JSONValue]?
        var warnings: [String]?
        var username: String?
        var errorKind: String?
        var message: String?
        /// `unchanged` or `unknown`: what a failed change left in the database.
        var outcome: String?
        var supported: Bool?

        enum CodingKeys: String, CodingKey {
            case ok, config, warnings, username, message, outcome, supported
            case errorKind = "error_kind"
        }

        static func failure(_ error: Error) -> Response {
            let pluginError = error as? PluginError ?? PluginError(.database, ErrorText.of(error), outcome: .unknown)
            return Response(ok: false, errorKind: kindName(pluginError.kind), message: pluginError.message,
                            outcome: pluginError.outcome == .unchanged ? "unchanged" : "unknown")
        }

        var error: PluginError {
            PluginError(kind(named: errorKind ?? ""), message ?? "the plugin failed without a message",
                        outcome: outcome == "unchanged" ? .unchanged : .unknown)
        }
    }

    static func kindName(_ kind: PluginError.Kind) -> String {
        switch kind {
        case .invalidConfiguration: return "invalid_configuration"
        case .connection: return "connection"
        case .database: return "database"
        case .unsupported: return "unsupported"
        }
    }

    static func kind(named name: String) -> PluginError.Kind {
        switch name {
        case "invalid_configuration": return .invalidConfiguration
        case "connection": return .connection
        case "unsupported": return .unsupported
        default: return .database
        }
    }

    static func encodeLine<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0a)
        return data
    }
}
