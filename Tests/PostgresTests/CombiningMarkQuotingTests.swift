import DBPlugin
@testable import PostgresPlugin
import TestSupport
import XCTest

/// Regression: a quote followed by a combining mark (`'` U+0301) is one Swift Character that is
/// not a quote, so quoting built on Character comparison left it undoubled, and the database,
/// which reads scalars, saw it end the literal: a value could write its own SQL. Quoting,
/// delimiter checks and redaction now work on the text's bytes.
final class CombiningMarkQuotingTests: XCTestCase {
    let acute = "\u{301}"
    let postgres = SQLTemplate(dialect: .postgres, backslashEscapes: false, doubleQuotesAreIdentifiers: true)
    let mysql = SQLTemplate(dialect: .mysql, backslashEscapes: true, doubleQuotesAreIdentifiers: false)

    func testAQuoteBeforeACombiningMarkIsDoubledInLiteralsAndIdentifiers() throws {
        let values = ["name": "a\"\(acute)b", "password": "p'\(acute); DROP TABLE t; --"]
        XCTAssertEqual(try postgres.render(#"CREATE ROLE "{{name}}" WITH PASSWORD '{{password}}'"#, values),
                       "CREATE ROLE \"a\"\"\(acute)b\" WITH PASSWORD 'p''\(acute); DROP TABLE t; --'")
        XCTAssertEqual(try mysql.render("CREATE USER '{{name}}' IDENTIFIED BY '{{password}}'", values),
                       "CREATE USER 'a\"\(acute)b' IDENTIFIED BY 'p''\(acute); DROP TABLE t; --'")
        XCTAssertEqual(try mysql.render("SELECT '{{password}}'", ["password": "\\\(acute)'"]), "SELECT '\\\\\(acute)'''")
        XCTAssertEqual(PostgresStatements.quoteLiteral("it'\(acute)s"), "'it''\(acute)s'")
        XCTAssertEqual(PostgresStatements.quoteIdentifier("we\"\(acute)ird"), "\"we\"\"\(acute)ird\"")
    }

    func testADelimiterBeforeACombiningMarkIsStillRefused() {
        for (statement, value) in [("SELECT /* {{name}} */ 1", "*/\(acute) DROP TABLE t /*"),
                                   (#"DO $$ BEGIN PERFORM '{{name}}'; END $$"#, "$$\(acute) DROP TABLE t; $$")] {
            XCTAssertThrowsError(try postgres.render(statement, ["name": value]), statement)
        }
    }

    func testASecretBeforeACombiningMarkIsRedacted() {
        let text = "login failed for s3cr3t-pw\(acute)"
        XCTAssertFalse(text.redacting(["s3cr3t-pw"]).unicodeScalars.map(String.init).joined().contains("s3cr3t"))
        XCTAssertEqual(text.redacting(["s3cr3t-pw"]), "login failed for [password]\(acute)")
    }

    /// The rendered literal, run on the real server, is the value and nothing else.
    func testTheRealServerReadsTheValueBack() throws {
        let server = try PostgresTestServer.fromEnvironment()
        let value = "p'\(acute); SELECT 'injected"
        let sql = try postgres.render("SELECT '{{password}}'", ["password": value])
        let result = try server.psql(user: server.user, password: server.password, sql)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertEqual(result.output, value)
    }
}
