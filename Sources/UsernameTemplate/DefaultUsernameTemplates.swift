/// The default `username_template` of each Vault database plugin, verbatim from Vault 1.15.
public enum DefaultUsernameTemplates {
    /// `v-<display 8>-<role 8>-<random 20>-<unix>`, at most 63 bytes (PostgreSQL's identifier limit).
    public static let postgres = #"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 8) (.RoleName | truncate 8) (random 20) (unix_time) | truncate 63 }}"#
    public static let redshift = #"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 8) (.RoleName | truncate 8) (random 20) (unix_time) | truncate 63 | lowercase }}"#
    /// MySQL 5.7+ and MariaDB: 32 bytes.
    public static let mysql = #"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 10) (.RoleName | truncate 10) (random 20) (unix_time) | truncate 32 }}"#
    /// mysql-legacy, mysql-aurora and mysql-rds: 16 bytes. The format has three `%s` for two
    /// arguments; Go appends `%!s(MISSING)`, which the final `truncate 16` always cuts off.
    public static let mysqlLegacy = #"{{ printf "v-%s-%s-%s" (.RoleName | truncate 4) (random 20) | truncate 16 }}"#
    public static let mssql = #"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 20) (.RoleName | truncate 20) (random 20) (unix_time) | truncate 128 }}"#
    public static let mongodb = #"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 15) (.RoleName | truncate 15) (random 20) (unix_time) | replace "." "-" | truncate 100 }}"#
    public static let cassandra = #"{{ printf "v_%s_%s_%s_%s" (.DisplayName | truncate 15) (.RoleName | truncate 15) (random 20) (unix_time) | truncate 100 | replace "-" "_" | lowercase }}"#
    public static let influxdb = #"{{ printf "v_%s_%s_%s_%s" (.DisplayName | truncate 15) (.RoleName | truncate 15) (random 20) (unix_time) | truncate 100 | replace "-" "_" | lowercase }}"#
    public static let hana = #"{{ printf "v_%s_%s_%s_%s" (.DisplayName | truncate 32) (.RoleName | truncate 20) (random 20) (unix_time) | truncate 127 | replace "-" "_" | uppercase }}"#
    public static let elasticsearch = #"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 15) (.RoleName | truncate 15) (random 20) (unix_time) | truncate 100 }}"#
}
