import DBPlugin
import Foundation

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

    enum CodingKeys: String, CodingKey {
        case pluginName = "plugin_name"
        case pluginVersion = "plugin_version"
        case connectionDetails = "connection_details"
        case allowedRoles = "allowed_roles"
        case rootRotationStatements = "root_credentials_rotate_statements"
        case passwordPolicy = "password_policy"
        case verifyConnection = "verify_connection"
    }
}
