import DBPlugin

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
        ///
        /// Vault's legacy template is `printf "v-%s-%s-%s"` with only two arguments, so Go appends
        /// `%!s(MISSING)`; the `truncate 16` always cuts it off, since "v-" + role + "-" + 20 random
        /// characters is already longer. The two-verb form below renders the same names without relying
        /// on Go's printf error text.
        public var defaultUsernameTemplate: String {
            switch self {
            case .mysql:
                return #"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 10) (.RoleName | truncate 10) (random 20) (unix_time) | truncate 32 }}"#
            case .aurora, .rds, .legacy:
                return #"{{ printf "v-%s-%s" (.RoleName | truncate 4) (random 20) | truncate 16 }}"#
            }
        }
    }

    /// Every `plugin_name` this plugin answers to, for the CLI's catalog.
    public static let pluginNames: [String: Variant] = Dictionary(
        uniqueKeysWithValues: Variant.allCases.map { ($0.pluginName, $0) })

    /// Registers all four names, each making a fresh instance of its variant.
    public static func register(in catalog: inout PluginCatalog) {
        for (name, variant) in pluginNames {
            catalog.register(name) { MySQLPlugin(variant: variant) }
        }
    }
}
