/// The default `username_template` of each plugin that has one, verbatim from Vault 1.15: the one
/// source the plugins read. (Redis names users the older way, `credsutil.GenerateUsername`;
/// ElastiCache creates no users.)
public enum DefaultUsernameTemplates {
    /// `postgresql-database-plugin`: `v-<display 8>-<role 8>-<random 20>-<unix>`, at most 63 bytes
    /// (PostgreSQL's identifier limit).
    public static let postgres = #"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 8) (.RoleName | truncate 8) (random 20) (unix_time) | truncate 63 }}"#
    /// `mysql-database-plugin` (MySQL 5.7+ and MariaDB): 32 bytes.
    public static let mysql = #"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 10) (.RoleName | truncate 10) (random 20) (unix_time) | truncate 32 }}"#
    /// `mysql-legacy-database-plugin`, `mysql-aurora-database-plugin` and `mysql-rds-database-plugin`:
    /// 16 bytes. The format has three `%s` for two arguments; Go appends `%!s(MISSING)`, which the
    /// final `truncate 16` always cuts off.
    public static let mysqlLegacy = #"{{ printf "v-%s-%s-%s" (.RoleName | truncate 4) (random 20) | truncate 16 }}"#
}
