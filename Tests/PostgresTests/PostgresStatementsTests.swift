@testable import PostgresPlugin
import XCTest

final class PostgresStatementsTests: XCTestCase {
    func testSplitsOnSemicolonsAndDropsEmptyPieces() {
        XCTAssertEqual(PostgresStatements.split("""
            CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}';
              GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";;
            """), [#"CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'"#,
                   #"GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}""#])
    }

    func testDecodesBase64StatementsLikeVault() {
        let encoded = Data("SELECT 1; SELECT 2;".utf8).base64EncodedString()
        XCTAssertEqual(PostgresStatements.split(encoded), ["SELECT 1", "SELECT 2"])
    }

    func testTheWordENDOutsideQuotesMarksABlockThatRunsWhole() {
        XCTAssertTrue(PostgresStatements.containsMultilineStatement("""
            DO $$ BEGIN
              CREATE ROLE "{{name}}"; GRANT x TO "{{name}}";
            END $$;
            """))
        XCTAssertFalse(PostgresStatements.containsMultilineStatement(#"CREATE ROLE "END" PASSWORD 'END';"#))
        XCTAssertFalse(PostgresStatements.containsMultilineStatement("ALTER TABLE t APPEND x; SELECT 'ENDING'"))
        XCTAssertFalse(PostgresStatements.containsMultilineStatement("do $$ begin null; end $$"),
                       "Vault's match is case-sensitive")
    }

    func testQuotesIdentifiersAndLiterals() {
        XCTAssertEqual(PostgresStatements.quoteIdentifier(#"we"ird"#), #""we""ird""#)
        XCTAssertEqual(PostgresStatements.quoteLiteral("it's"), "'it''s'")
        XCTAssertEqual(PostgresStatements.quoteLiteral(#"a\b'c"#), #"E'a\\b''c'"#)
    }
}

/// containsMultilineStatement once ran three NSRegularExpressions; it now scans by hand. Random
/// statements over the characters that matter (quotes, line terminators, word and non-word,
/// combining and format characters) must get the same answer as the expressions.
final class MultilineStatementEquivalenceTests: XCTestCase {
    private func withExpressions(_ statement: String) -> Bool {
        var text = statement
        for pattern in [#"".*?""#, #"'.*?'"#] {
            let regex = try! NSRegularExpression(pattern: pattern)
            let phrases = regex.matches(in: statement, range: NSRange(statement.startIndex..., in: statement))
                .compactMap { Range($0.range, in: statement).map { String(statement[$0]) } }
            for phrase in phrases { text = text.replacingOccurrences(of: phrase, with: "") }
        }
        let words = try! NSRegularExpression(pattern: #"\bEND\b"#)
        return words.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    func testAgreesWithTheRegularExpressions() {
        let alphabet: [String] = ["E", "N", "D", "END", "e", "x", " ", "\"", "'", "\n", "\r", "\u{0B}", "\u{0C}", "\u{85}",
                                  "\u{2028}", "\u{301}", "\u{200D}", "\u{AD}", "_", "1", "é", "-", ";", "$", "😀"]
        var generator = SystemRandomNumberGenerator()
        var ends = 0
        for _ in 0..<5000 {
            let statement = (0..<Int.random(in: 0...16, using: &generator))
                .map { _ in alphabet.randomElement(using: &generator)! }.joined()
            let expected = withExpressions(statement)
            if expected { ends += 1 }
            XCTAssertEqual(PostgresStatements.containsMultilineStatement(statement), expected, statement.debugDescription)
        }
        XCTAssertGreaterThan(ends, 100, "the corpus must exercise both answers")
        for statement in ["DO $$ BEGIN CREATE ROLE \"{{name}}\"; END $$;", "CREATE ROLE \"END\";", "SELECT 'END';",
                          "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"] {
            XCTAssertEqual(PostgresStatements.containsMultilineStatement(statement), withExpressions(statement), statement)
        }
    }
}
