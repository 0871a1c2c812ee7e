import PostgresPlugin
import XCTest

final class PostgresConnectionURLTests: XCTestCase {
    func testReadsTheURLForm() throws {
        let url = try PostgresConnectionURL(
            parsing: "postgresql://vault:s3cret@db.example.com:6543/app?sslmode=disable&connect_timeout=7&search_path=x")
        XCTAssertEqual(url.host, "db.example.com")
        XCTAssertEqual(url.port, 6543)
        XCTAssertEqual(url.user, "vault")
        XCTAssertEqual(url.password, "s3cret")
        XCTAssertEqual(url.database, "app")
        XCTAssertEqual(url.sslMode, "disable")
        XCTAssertEqual(url.connectTimeout, 7)
        XCTAssertEqual(url.runtimeParameters, ["search_path": "x"])
    }

    func testAcceptsThePostgresSchemeAndDefaults() throws {
        let url = try PostgresConnectionURL(parsing: "postgres://vault@localhost")
        XCTAssertEqual(url.port, 5432)
        XCTAssertEqual(url.database, "")
        XCTAssertEqual(url.connectTimeout, 5)
        XCTAssertEqual(try PostgresConnectionURL(parsing: "postgres://u@[::1]:5433/d").host, "::1")
    }

    func testReadsTheKeyValueForm() throws {
        let url = try PostgresConnectionURL(
            parsing: "host=127.0.0.1 port=5433 user=vault password='it\\'s secret' dbname=app sslmode=prefer connect_timeout=2")
        XCTAssertEqual(url.host, "127.0.0.1")
        XCTAssertEqual(url.port, 5433)
        XCTAssertEqual(url.password, "it's secret")
        XCTAssertEqual(url.database, "app")
        XCTAssertEqual(url.connectTimeout, 2)
    }

    func testSubstitutesPathEscapedCredentialsThatParseBack() throws {
        let password = "p@ss:w/rd?#%{}"
        let text = PostgresConnectionURL.substitute("postgresql://{{username}}:{{password}}@h:1/db",
                                                    username: "vault admin", password: password, disableEscaping: false)
        XCTAssertEqual(text, "postgresql://vault%20admin:p@ss:w%2Frd%3F%23%25%7B%7D@h:1/db")
        let url = try PostgresConnectionURL(parsing: text)
        XCTAssertEqual(url.user, "vault admin")
        XCTAssertEqual(url.password, password)
        XCTAssertEqual(url.host, "h")
    }

    func testDisableEscapingSubstitutesVerbatim() {
        XCTAssertEqual(PostgresConnectionURL.substitute("user={{username}} password={{password}}",
                                                        username: "a b", password: "c/d", disableEscaping: true),
                       "user=a b password=c/d")
    }

    func testEverySSLModeOfLibpqIsAcceptedAndNothingElse() {
        for mode in ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] {
            XCTAssertNoThrow(try PostgresConnectionURL(parsing: "host=h user=u sslmode=\(mode)"))
        }
        XCTAssertThrowsError(try PostgresConnectionURL(parsing: "postgres://u:p@h/db?sslmode=on")) {
            XCTAssertTrue("\($0)".contains("invalid sslmode"), "\($0)")
        }
    }

    func testParseErrorsDoNotRepeatHostOrPassword() {
        for text in ["postgresql://:pw-secret@[localhost", "postgresql://u:pw-secret@localhost:99999/db",
                     "postgresql://u:pw secret@localhost/db", "not a url localhost pw-secret"] {
            XCTAssertThrowsError(try PostgresConnectionURL(parsing: text)) { error in
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix("unable to parse connection url"), message)
                XCTAssertFalse(message.contains("localhost"), message)
                XCTAssertFalse(message.contains("secret"), message)
            }
        }
    }

    func testRejectsABadConnectTimeout() {
        XCTAssertThrowsError(try PostgresConnectionURL(parsing: "postgres://u@h/d?connect_timeout=soon"))
        XCTAssertEqual(try PostgresConnectionURL(parsing: "postgres://u@h/d?connect_timeout=0").connectTimeout, 5)
    }
}
