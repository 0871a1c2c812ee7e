import DBPlugin
import Foundation

/// How Vault's MySQL plugin turns role statements into queries, and the SQL the plugin writes itself.
enum MySQLStatements {
    static let defaultRevocation = """
        REVOKE ALL PRIVILEGES, GRANT OPTION FROM '{{name}}'@'%';
        DROP USER '{{name}}'@'%'
        """
    static let defaultRotation = "ALTER USER '{{username}}'@'%' IDENTIFIED BY '{{password}}';"

    /// Each statement goes through Vault's `strutil.ParseArbitraryStringSlice(stmt, ";")` (base64,
    /// then a JSON list, else split on `;`), is trimmed, rendered, and empty pieces are dropped.
    /// A `;` inside a quoted literal splits too, exactly as in Vault.
    static func queries(_ statements: [String], _ values: [String: String]) -> [String] {
        statements.flatMap(parseArbitraryStringSlice)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
            .map { StatementTemplate.render($0, values) }
    }

    static func parseArbitraryStringSlice(_ input: String) -> [String] {
        var text = input.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return [] }
        if let decoded = Data(base64Encoded: text), let decodedText = String(data: decoded, encoding: .utf8) {
            text = decodedText
        }
        if text == "null" { return [] }
        if let data = text.data(using: .utf8), let list = try? JSONDecoder().decode([String].self, from: data) {
            return list
        }
        return text.components(separatedBy: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// A MySQL string literal body: backslashes and quotes escaped (the default sql_mode honours `\`).
    static func literal(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''")
    }
}
