import DBPlugin
import XCTest

/// Values written into statements for where they land, per dialect; or refused.
final class SQLTemplateTests: XCTestCase {
    let postgres = SQLTemplate(dialect: .postgres, backslashEscapes: false, doubleQuotesAreIdentifiers: true)
    let mysql = SQLTemplate(dialect: .mysql, backslashEscapes: true, doubleQuotesAreIdentifiers: false)

    func testPostgreSQLIdentifiersAndLiterals() throws {
        let values = ["name": #"a"b'c\d"#, "password": #"p'w"\x"#]
        XCTAssertEqual(try postgres.render(#"CREATE ROLE "{{name}}" WITH PASSWORD '{{password}}'"#, values),
                       #"CREATE ROLE "a""b'c\d" WITH PASSWORD 'p''w"\x'"#)
        XCTAssertEqual(try postgres.render(#"SELECT E'{{password}}', e'{{password}}', x'{{name}}'"#, values),
                       #"SELECT E'p''w"\\x', e'p''w"\\x', x'a"b''c\d'"#, "E'' escapes backslashes; an identifier ending in E does not start one")
        let legacy = SQLTemplate(dialect: .postgres, backslashEscapes: true, doubleQuotesAreIdentifiers: true)
        XCTAssertEqual(try legacy.render("'{{password}}'", values), #"'p''w"\\x'"#, "standard_conforming_strings off")
        XCTAssertEqual(try postgres.render("'it''s {{name}}' \"x\"\"{{name}}\"", values), #"'it''s a"b''c\d' "x""a""b'c\d""#)
    }

    func testPostgreSQLDollarQuotedBodiesAreReadAsSQLAndCannotBeEndedByAValue() throws {
        let block = #"DO $$ BEGIN CREATE ROLE "{{name}}" PASSWORD '{{password}}'; END $$"#
        XCTAssertEqual(try postgres.render(block, ["name": #"n"x"#, "password": "p'w"]),
                       #"DO $$ BEGIN CREATE ROLE "n""x" PASSWORD 'p''w'; END $$"#)
        XCTAssertThrowsError(try postgres.render(block, ["name": "n", "password": "a$$b"])) { error in
            XCTAssertTrue("\(error)".contains("the password into the statement: it holds $$"), "\(error)")
            XCTAssertFalse("\(error)".contains("a$$b"), "a password is never repeated")
        }
        XCTAssertEqual(try postgres.render("DO $body$ SELECT '{{name}}' $body$", ["name": "$$"]), "DO $body$ SELECT '$$' $body$")
        XCTAssertEqual(try postgres.render("SELECT $1, a$b$ FROM t WHERE '{{name}}'", ["name": "x'"]), "SELECT $1, a$b$ FROM t WHERE 'x'''")
    }

    func testValuesOutsideQuotesOrInCommentsAreRefusedUnlessHarmless() throws {
        XCTAssertEqual(try postgres.render("CREATE ROLE {{name}}", ["name": "v_root_ro_1"]), "CREATE ROLE v_root_ro_1")
        for (statement, value) in [("CREATE ROLE {{name}}", "v-root-ro"), ("CREATE ROLE {{name}}", "x; DROP TABLE t"),
                                   ("SELECT 1 -- {{name}}", "a\nDROP TABLE t"), ("SELECT /* {{name}} */ 1", "*/ DROP TABLE t /*"),
                                   ("SELECT '{{name}}'", "a\u{0}b")] {
            XCTAssertThrowsError(try postgres.render(statement, ["name": value]), statement) { error in
                XCTAssertTrue("\(error)".hasPrefix("cannot put the name"), "\(error)")
            }
        }
        XCTAssertThrowsError(try postgres.render("ALTER ROLE x PASSWORD {{password}}", ["password": "Secret-Pw-1"])) { error in
            XCTAssertFalse("\(error)".contains("Secret-Pw-1"))
            XCTAssertTrue("\(error)".contains("quote the placeholder"), "\(error)")
        }
        XCTAssertEqual(try postgres.render("SELECT 1 -- {{name}}\nSELECT '{{name}}'", ["name": "o'k"]), "SELECT 1 -- o'k\nSELECT 'o''k'")
        XCTAssertEqual(try postgres.render("SELECT {{unknown}} '{{name}}'", ["name": "x"]), "SELECT {{unknown}} 'x'", "only known keys")
    }

    func testMySQLStringsIdentifiersAndModes() throws {
        let values = ["name": #"o'ne"i\l`x"#, "password": #"p'w\"#]
        XCTAssertEqual(try mysql.render(#"CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'"#, values),
                       #"CREATE USER 'o''ne"i\\l`x'@'%' IDENTIFIED BY 'p''w\\'"#)
        XCTAssertEqual(try mysql.render(#"GRANT SELECT ON `{{name}}`.* TO "{{name}}""#, values),
                       #"GRANT SELECT ON `o'ne"i\l``x`.* TO "o'ne""i\\l`x""#)
        XCTAssertEqual(try mysql.render(#"SELECT 'a\'{{name}}'"#, ["name": "x"]), #"SELECT 'a\'x'"#, "a backslash escape in the statement stays inside")
        let ansi = SQLTemplate(dialect: .mysql, backslashEscapes: false, doubleQuotesAreIdentifiers: true)
        XCTAssertEqual(try ansi.render(#"'{{password}}' "{{name}}""#, values), #"'p''w\' "o'ne""i\l`x""#)
        XCTAssertEqual(try mysql.render("SELECT 1 # {{name}}\n, '{{name}}'", ["name": "x'"]), "SELECT 1 # x'\n, 'x'''")
        XCTAssertEqual(try mysql.render("SELECT 1 --x '{{name}}'", ["name": "x'"]), "SELECT 1 --x 'x'''", "-- needs a space to be a comment")
    }
}
