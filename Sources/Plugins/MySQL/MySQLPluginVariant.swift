import DBPlugin
import UsernameTemplate

extension MySQLPlugin {
    /// Vault's four builtin names for the MySQL plugin. They share one implementation and differ in the
    /// username rules: MySQL ≥ 5.7 allows 32-character user names; Aurora, RDS and MySQL < 5.7 allow 16.
    public enum Variant: String, CaseIterable, Sendable {
        case mysql = "mysql-database-plugin"
        case aurora = "mysql-aurora-database-plugin"
        case rds = "mysql-rds-database-plugin"
        case legacy = "mysql-legacy-database-plugin"

        public var pluginName: String { rawValue }

        /// The longest user name the variant's servers accept.
        public var maxUsernameLength: Int { self == .mysql ? 32 : 16 }

        /// Vault's default username templates (`DefaultUserNameTemplate`, `DefaultLegacyUserNameTemplate`).
        public var defaultUsernameTemplate: String {
            self == .mysql ? DefaultUsernameTemplates.mysql : DefaultUsernameTemplates.mysqlLegacy
        }
    }

    /// All four names, each making a fresh instance of its variant.
    public static let registration = PluginRegistration(names: Variant.allCases.map(\.pluginName)) { name in
        MySQLPlugin(variant: Variant(rawValue: name) ?? .mysql)
    }
}
