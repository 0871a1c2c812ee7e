import Basics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How Vault's PostgreSQL plugin cuts statement templates into queries and quotes names.
enum PostgresStatements {
    /// Vault's `strutil.ParseArbitraryStringSlice(stmt, ";")`: a statement that is valid base64 is
    /// decoded first, then it is split on `;`, trimmed, and empty pieces are dropped.
    static func split(_ statement: String) -> [String] {
        var text = statement.trimmingWhitespaceAndNewlines()
        if let data = Data(base64Encoded: text), let decoded = String(data: data, encoding: .utf8) {
            text = decoded
        }
        return text.split(separator: ";", omittingEmptySubsequences: true)
            .map { $0.trimmingWhitespaceAndNewlines() }
            .filter { !$0.isEmpty }
    }

    /// The queries one statement template runs as: a `DO $$ … END $$` or `BEGIN … END` block
    /// whole, anything else split on `;`. Vault 1.20.3 keeps blocks whole in every kind of
    /// statement (creation, renewal, revocation, rotation); before, only in creation.
    static func queries(_ statement: String) -> [String] {
        containsMultilineStatement(statement) ? [statement] : split(statement)
    }

    /// Statements that can go to the server in one write inside BEGIN … COMMIT and mean what
    /// they mean run one at a time: none may end or open a transaction block itself (after a
    /// failure, a COMMIT or ROLLBACK among them would end the aborted block and let the rest run
    /// on their own), so each must start with a word that is not transaction control (a leading
    /// comment could hide one: such statements are run one at a time too). Bounded in size, so the
    /// one write never fills both socket buffers before the answers are read.
    static func canPipeline(_ statements: [String]) -> Bool {
        guard statements.reduce(0, { $0 + $1.utf8.count }) <= 32 << 10 else { return false }
        return statements.allSatisfy { statement in
            let word = statement.utf8.drop { $0 == 0x20 || (0x09...0x0D).contains($0) }.prefix { $0 < 0x80 && (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0 | 0x20) }
            guard !word.isEmpty else { return false }
            return !transactionControl.contains(String(decoding: word.map { $0 & 0xDF }, as: UTF8.self))
        }
    }

    /// The statements that begin, end or mark a transaction block (PostgreSQL 15's grammar).
    private static let transactionControl: Set<String> = ["BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "PREPARE"]

    /// True when the statement holds the word END outside quotes, like a `DO $$ BEGIN … END $$` block:
    /// such a statement runs as written because its inner `;` must not split it.
    static func containsMultilineStatement(_ statement: String) -> Bool {
        var text = statement
        // Vault removes "…" then '…' phrases (non-greedy, within one line) before looking for END.
        for quote in ["\"", "'"] as [Unicode.Scalar] {
            for phrase in quotedPhrases(statement, quote) { text = text.replacingEvery(phrase, with: "") }
        }
        return containsWordEND(text)
    }

    // The two scans below do what the regular expressions `".*?"`, `'.*?'` and `\bEND\b` did
    // through NSRegularExpression, without it: compiling one set up ICU's Unicode tables, a
    // millisecond and 3 MiB of every `creds`.

    /// The matches of `Q.*?Q`, left to right: ICU's `.` stops at a line terminator.
    private static func quotedPhrases(_ statement: String, _ quote: Unicode.Scalar) -> [String] {
        let scalars = Array(statement.unicodeScalars)
        // UTF-16 offsets, to cut each match out of the String exactly as NSRegularExpression's were.
        var offsets = [0]
        for scalar in scalars { offsets.append(offsets.last! + UTF16.width(scalar)) }
        var phrases: [String] = []
        var start = 0
        while start < scalars.count {
            guard scalars[start] == quote else {
                start += 1
                continue
            }
            var end = start + 1
            while end < scalars.count && scalars[end] != quote && !isLineTerminator(scalars[end]) { end += 1 }
            guard end < scalars.count && scalars[end] == quote else {
                start += 1
                continue
            }
            // As Range(NSRange, in:) did: a match whose ends are not Character boundaries is dropped.
            let utf16 = statement.utf16
            if let lower = String.Index(utf16.index(utf16.startIndex, offsetBy: offsets[start]), within: statement),
               let upper = String.Index(utf16.index(utf16.startIndex, offsetBy: offsets[end + 1]), within: statement) {
                phrases.append(String(statement[lower..<upper]))
            }
            start = end + 1
        }
        return phrases
    }

    private static func isLineTerminator(_ c: Unicode.Scalar) -> Bool {
        (0x0A...0x0D).contains(c.value) || c.value == 0x85 || c.value == 0x2028 || c.value == 0x2029
    }

    /// `\bEND\b` with ICU's word boundaries.
    private static func containsWordEND(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        var at = 0
        while at + 3 <= scalars.count {
            if scalars[at] == "E" && scalars[at + 1] == "N" && scalars[at + 2] == "D"
                && isWordBoundary(scalars, at) && isWordBoundary(scalars, at + 3) {
                return true
            }
            at += 1
        }
        return false
    }

    /// ICU's `RegexMatcher::isWordBoundary`: never before a combining or format character; else a
    /// boundary when word-ness changes, looking back past combining and format characters.
    private static func isWordBoundary(_ scalars: [Unicode.Scalar], _ at: Int) -> Bool {
        var isWord = false
        if at < scalars.count {
            if isExtendOrFormat(scalars[at]) { return false }
            isWord = isWordCharacter(scalars[at])
        }
        var wasWord = false
        var back = at
        while back > 0 {
            back -= 1
            if !isExtendOrFormat(scalars[back]) {
                wasWord = isWordCharacter(scalars[back])
                break
            }
        }
        return isWord != wasWord
    }

    private static func isExtendOrFormat(_ c: Unicode.Scalar) -> Bool {
        c.properties.isGraphemeExtend || c.properties.generalCategory == .format
    }

    /// ICU's `\w`: `[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\u200c\u200d]`.
    private static func isWordCharacter(_ c: Unicode.Scalar) -> Bool {
        if c.properties.isAlphabetic || c.value == 0x200C || c.value == 0x200D { return true }
        switch c.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    /// `"name"` with inner quotes doubled, like pq.QuoteIdentifier.
    static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingEvery("\u{0}", with: "").replacingEvery("\"", with: "\"\"") + "\""
    }

    /// A string literal that means the same whatever standard_conforming_strings says: an E'' literal
    /// when there are backslashes to escape.
    static func quoteLiteral(_ value: String) -> String {
        let body = value.replacingEvery("\u{0}", with: "").replacingEvery("'", with: "''")
        if body.contains("\\") {
            return "E'" + body.replacingEvery("\\", with: "\\\\") + "'"
        }
        return "'" + body + "'"
    }

    /// A failure of a statement that held the password, told without the server's message:
    /// `ERROR: syntax error (SQLSTATE 42601)`.
    static func describeWithoutMessage(_ error: PostgresServerError) -> String {
        let condition = conditionNames[error.sqlState] ?? "error"
        return "\(error.severity): \(condition) (SQLSTATE \(error.sqlState)); the statement held the password, so the server's message is not shown"
    }

    /// PostgreSQL's names of the conditions role statements most often meet (Appendix A).
    private static let conditionNames = [
        "42601": "syntax error", "42710": "duplicate object", "42704": "undefined object", "42501": "insufficient privilege",
        "42P01": "undefined table", "3F000": "invalid schema name", "42883": "undefined function", "22007": "invalid datetime format",
        "22008": "datetime field overflow", "22P02": "invalid text representation", "22023": "invalid parameter value",
        "0A000": "feature not supported", "25P02": "in failed SQL transaction", "2BP01": "dependent objects still exist",
        "42939": "reserved name", "28000": "invalid authorization specification",
    ]
}
