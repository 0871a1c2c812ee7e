import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How Vault's MySQL plugin turns role statements into queries, and the SQL the plugin writes itself.
enum MySQLStatements {
    static let defaultRevocation = """
        REVOKE ALL PRIVILEGES, GRANT OPTION FROM '{{name}}'@'%';
        DROP USER '{{name}}'@'%'
        """
    static let defaultRotation = "ALTER USER '{{username}}'@'%' IDENTIFIED BY '{{password}}';"
    /// MySQL 8.0.14's dual passwords: the current password becomes the secondary (replacing any
    /// secondary there was), valid beside the new primary until discarded.
    static let retainingRotation = "ALTER USER '{{username}}'@'%' IDENTIFIED BY '{{password}}' RETAIN CURRENT PASSWORD;"
    static let discardOldPassword = "ALTER USER '{{username}}'@'%' DISCARD OLD PASSWORD;"

    /// The rotation statements when the role has none: a change that keeps the current password
    /// retains it; one that drops a retained password discards it (a plain `IDENTIFIED BY` would keep
    /// the secondary password).
    static func defaultRotation(_ change: PasswordChange) -> [String] {
        if change.retainedPassword != nil { return [retainingRotation] }
        if change.discardedPassword != nil { return [defaultRotation, discardOldPassword] }
        return [defaultRotation]
    }

    /// What an account without privileges may run to change its own password: MariaDB's `SET
    /// PASSWORD` (its `ALTER USER CURRENT_USER()` needs CREATE USER), MySQL's `ALTER USER USER()`
    /// with `REPLACE`, which MySQL requires of an account changing its own password when
    /// `password_require_current` is on, and accepts otherwise.
    static func selfManagedRotation(serverVersion: String) -> String {
        isMariaDB(serverVersion) ? "SET PASSWORD = PASSWORD('{{password}}')"
            : "ALTER USER USER() IDENTIFIED BY '{{password}}' REPLACE '{{current_password}}'"
    }

    static func isMariaDB(_ serverVersion: String) -> Bool {
        serverVersion.lowercased().contains("mariadb")
    }

    /// MySQL 8.0.14 and later keep a secondary password (`RETAIN CURRENT PASSWORD`); MariaDB
    /// (whose version MySQL clients see as `5.5.5-10.x-MariaDB`) never does.
    static func keepsTwoPasswords(serverVersion: String) -> Bool {
        guard !isMariaDB(serverVersion) else { return false }
        let numbers = serverVersion.prefix { $0.isNumber || $0 == "." }.split(separator: ".").compactMap { Int($0) }
        guard numbers.count >= 3 else { return false }
        return (numbers[0], numbers[1], numbers[2]) >= (8, 0, 14)
    }

    /// One statement ready to run, and whether the password was written into it (then a failure
    /// never quotes the server's message, which may repeat the statement).
    struct Query {
        var sql: String
        var holdsPassword: Bool
    }

    /// Each statement goes through Vault's `strutil.ParseArbitraryStringSlice(stmt, ";")` (base64,
    /// then a JSON list, else split on `;`), is trimmed, rendered, and empty pieces are dropped.
    /// A `;` inside a quoted literal splits too, exactly as in Vault. Values are escaped for where
    /// they land in each statement (see SQLTemplate), under the session's `sql_mode`.
    static func queries(_ statements: [String], _ values: [String: String], mode: SQLMode = .default) throws(PluginError) -> [Query] {
        let template = SQLTemplate(dialect: .mysql, backslashEscapes: !mode.noBackslashEscapes,
                                   doubleQuotesAreIdentifiers: mode.ansiQuotes)
        var queries: [Query] = []
        for piece in statements.flatMap(parseArbitraryStringSlice) {
            let text = piece.trimmingWhitespaceAndNewlines()
            if text.isEmpty { continue }
            queries.append(Query(sql: try template.render(text, values), holdsPassword: text.contains("{{password}}")))
        }
        return queries
    }

    /// The two `sql_mode` flags that change how a value is quoted.
    struct SQLMode {
        var noBackslashEscapes = false
        var ansiQuotes = false
        static let `default` = SQLMode()

        init(noBackslashEscapes: Bool = false, ansiQuotes: Bool = false) {
            self.noBackslashEscapes = noBackslashEscapes
            self.ansiQuotes = ansiQuotes
        }

        /// From `SELECT @@SESSION.sql_mode` (`ANSI` expands to a list with ANSI_QUOTES in it).
        init(reported: String) {
            let flags = Set(reported.uppercased().split(separator: ",").map { $0.trimmingWhitespace() })
            self.init(noBackslashEscapes: flags.contains("NO_BACKSLASH_ESCAPES"), ansiQuotes: flags.contains("ANSI_QUOTES"))
        }

        /// Only a backslash or a double quote, in a value or a statement, is read differently
        /// under another mode: otherwise the session need not be asked.
        static func matters(_ statements: [String], _ values: [String: String]) -> Bool {
            (statements + Array(values.values)).contains { $0.contains("\\") || $0.contains("\"") }
        }
    }

    static func parseArbitraryStringSlice(_ input: String) -> [String] {
        var text = input.trimmingWhitespaceAndNewlines()
        guard !text.isEmpty else { return [] }
        if let decoded = Data(base64Encoded: text), let decodedText = String(data: decoded, encoding: .utf8) {
            text = decodedText
        }
        if text == "null" { return [] }
        if let data = text.data(using: .utf8), let list = try? JSONDecoder().decode([String].self, from: data) {
            return list
        }
        return text.components(separatedBy: ";").map { $0.trimmingWhitespaceAndNewlines() }
    }
}
