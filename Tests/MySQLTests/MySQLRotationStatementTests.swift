import DBPlugin
import XCTest
@testable import MySQLPlugin

/// Which statements rotate a password, by server: MySQL 8.0.14 and later keep a secondary
/// password, MariaDB never does, and an account changes its own password differently on each.
final class MySQLRotationStatementTests: XCTestCase {
    func testOnlyMySQL8014AndLaterKeepTwoPasswords() {
        for version in ["8.0.14", "8.0.36", "8.4.3-dbsecrets-double", "9.1.0"] {
            XCTAssertTrue(MySQLStatements.keepsTwoPasswords(serverVersion: version), version)
        }
        for version in ["8.0.13", "5.7.44-log", "5.5.5-10.11.6-MariaDB-0+deb12u1", "11.4.2-MariaDB", "", "garbage"] {
            XCTAssertFalse(MySQLStatements.keepsTwoPasswords(serverVersion: version), version)
        }
    }

    func testTheDefaultRotationRetainsOrDiscardsTheSecondaryPassword() {
        XCTAssertEqual(MySQLStatements.defaultRotation(PasswordChange(newPassword: "n", statements: [])),
                       ["ALTER USER '{{username}}'@'%' IDENTIFIED BY '{{password}}';"])
        XCTAssertEqual(MySQLStatements.defaultRotation(PasswordChange(newPassword: "n", statements: [], retainedPassword: "c", discardedPassword: "o")),
                       ["ALTER USER '{{username}}'@'%' IDENTIFIED BY '{{password}}' RETAIN CURRENT PASSWORD;"])
        XCTAssertEqual(MySQLStatements.defaultRotation(PasswordChange(newPassword: "n", statements: [], discardedPassword: "o")),
                       ["ALTER USER '{{username}}'@'%' IDENTIFIED BY '{{password}}';", "ALTER USER '{{username}}'@'%' DISCARD OLD PASSWORD;"],
                       "a plain change would keep the secondary")
    }

    func testAnAccountChangesItsOwnPasswordWithWhatItsServerAllowsWithoutPrivileges() {
        XCTAssertEqual(MySQLStatements.selfManagedRotation(serverVersion: "5.5.5-10.11.6-MariaDB-0+deb12u1"),
                       "SET PASSWORD = PASSWORD('{{password}}')")
        XCTAssertEqual(MySQLStatements.selfManagedRotation(serverVersion: "8.0.36"),
                       "ALTER USER USER() IDENTIFIED BY '{{password}}' REPLACE '{{current_password}}'")
    }

    func testTheCurrentPasswordIsNeverRepeatedInAnError() throws {
        let template = SQLTemplate(dialect: .mysql, backslashEscapes: true, doubleQuotesAreIdentifiers: false)
        XCTAssertThrowsError(try template.render("ALTER USER USER() REPLACE {{current_password}}", ["current_password": "s3cret-value"])) {
            XCTAssertFalse("\($0)".contains("s3cret-value"), "\($0)")
        }
    }
}
