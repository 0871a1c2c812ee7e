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
