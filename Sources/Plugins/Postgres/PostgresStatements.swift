import Foundation

/// How Vault's PostgreSQL plugin cuts statement templates into queries and quotes names.
enum PostgresStatements {
    /// Vault's `strutil.ParseArbitraryStringSlice(stmt, ";")`: a statement that is valid base64 is
    /// decoded first, then it is split on `;`, trimmed, and empty pieces are dropped.
    static func split(_ statement: String) -> [String] {
        var text = statement.trimmingCharacters(in: .whitespacesAndNewlines)
        if let data = Data(base64Encoded: text), let decoded = String(data: data, encoding: .utf8) {
            text = decoded
        }
        return text.split(separator: ";", omittingEmptySubsequences: true)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
    }

    /// True when the statement holds the word END outside quotes, like a `DO $$ BEGIN … END $$` block:
    /// such a statement runs as written because its inner `;` must not split it.
    static func containsMultilineStatement(_ statement: String) -> Bool {
        var text = statement
        // Vault removes "…" then '…' phrases (non-greedy, within one line) before looking for END.
        for pattern in [#"".*?""#, #"'.*?'"#] {
            let regex = try! NSRegularExpression(pattern: pattern)
            let phrases = regex.matches(in: statement, range: NSRange(statement.startIndex..., in: statement))
                .compactMap { Range($0.range, in: statement).map { String(statement[$0]) } }
            for phrase in phrases { text = text.replacingOccurrences(of: phrase, with: "") }
        }
        let words = try! NSRegularExpression(pattern: #"\bEND\b"#)
        return words.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// `"name"` with inner quotes doubled, like pq.QuoteIdentifier.
    static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\u{0}", with: "").replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A string literal that means the same whatever standard_conforming_strings says: an E'' literal
    /// when there are backslashes to escape.
    static func quoteLiteral(_ value: String) -> String {
        let body = value.replacingOccurrences(of: "\u{0}", with: "").replacingOccurrences(of: "'", with: "''")
        if body.contains("\\") {
            return "E'" + body.replacingOccurrences(of: "\\", with: "\\\\") + "'"
        }
        return "'" + body + "'"
    }
}
