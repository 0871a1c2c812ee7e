@testable import CLI
import DBPlugin
import Engine
import XCTest

/// The exact bytes `vault` prints, for each format.
final class OutputFormatTests: XCTestCase {
    func testRoleReadAsATable() {
        let cli = CLIRunner()
        cli.configure()
        let result = cli.run("read", "database/roles/ro")
        XCTAssertEqual(result.code, 0)
        XCTAssertEqual(result.stdout, """
        Key                      Value
        ---                      -----
        creation_statements      [CREATE]
        credential_type          password
        db_name                  db
        default_ttl              1h
        max_ttl                  24h
        renew_statements         []
        revocation_statements    []
        rollback_statements      []

        """)
    }

    func testConnectionReadShowsNoPasswordAndNAForEmptyValues() {
        let cli = CLIRunner()
        cli.configure()
        let result = cli.run("read", "database/config/db")
        XCTAssertEqual(result.stdout, """
        Key                                   Value
        ---                                   -----
        allowed_roles                         [*]
        connection_details                    map[connection_url:fake://{{username}}:{{password}}@db username:admin]
        disable_automated_rotation            false
        password_policy                       n/a
        plugin_name                           fake-database-plugin
        plugin_version                        n/a
        root_credentials_rotate_statements    []
        rotation_period                       0s
        rotation_schedule                     n/a
        rotation_window                       0
        skip_static_role_import_rotation      false
        verify_connection                     true

        """)
        XCTAssertFalse(result.stdout.contains("root-secret"))
    }

    func testJSONEnvelopeInVaultsKeyOrder() throws {
        let cli = CLIRunner()
        cli.configure()
        let result = cli.run("read", "-format=json", "database/roles/ro")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[1].hasPrefix("  \"request_id\": \""))
        XCTAssertEqual(Array(lines[2...5]), ["  \"lease_id\": \"\",", "  \"lease_duration\": 0,", "  \"renewable\": false,", "  \"data\": {"])
        XCTAssertEqual(Array(lines.suffix(3)), ["  \"warnings\": null,", "  \"mount_type\": \"database\"", "}"])
        XCTAssertTrue(result.stdout.contains("    \"default_ttl\": 3600,\n"))
    }

    func testCredsTableHasLeaseRowsFirst() throws {
        let cli = CLIRunner()
        cli.configure()
        let result = cli.run("read", "database/creds/ro")
        XCTAssertEqual(result.code, 0)
        let keys = result.stdout.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) ?? "" }
        XCTAssertEqual(keys, ["Key", "---", "lease_id", "lease_duration", "lease_renewable", "password", "username"])
        XCTAssertTrue(result.stdout.contains("lease_duration     1h\n"))
    }

    func testYAMLIsSortedAtEveryLevel() {
        let cli = CLIRunner()
        cli.configure()
        let result = cli.run("read", "-format=yaml", "database/roles/ro")
        XCTAssertTrue(result.stdout.hasPrefix("""
        data:
          creation_statements:
          - CREATE
          credential_type: password
          db_name: db
          default_ttl: 3600
        """), result.stdout)
        XCTAssertTrue(result.stdout.hasSuffix("lease_duration: 0\nlease_id: \"\"\nmount_type: database\nrenewable: false\n") ||
                      result.stdout.contains("warnings: null\n"))
    }

    func testFieldPrintsTheRawValueWithoutNewlineWhenPiped() {
        let cli = CLIRunner()
        cli.configure()
        XCTAssertEqual(cli.run("read", "-field=db_name", "database/roles/ro").stdout, "db")
        XCTAssertEqual(cli.run("read", "-field=default_ttl", "database/roles/ro").stdout, "3600")
        XCTAssertEqual(cli.run("read", "-field=creation_statements", "database/roles/ro").stdout, "[CREATE]")
        XCTAssertEqual(cli.run("read", "-format=json", "-field=db_name", "database/roles/ro").stdout, "\"db\"\n")
        cli.stdoutIsTerminal = true
        XCTAssertEqual(cli.run("read", "-field=db_name", "database/roles/ro").stdout, "db\n")
        let missing = cli.run("read", "-field=nope", "database/roles/ro")
        XCTAssertEqual(missing.code, 1)
        XCTAssertEqual(missing.stderr, "Field \"nope\" not present in secret\n")
        let password = cli.run("read", "-field=password", "database/creds/ro").stdout
        XCTAssertNotNil(password.range(of: "^[A-Za-z0-9-]{20}$", options: .regularExpression))
    }

    /// `read -format=raw` is the body of Vault's HTTP answer: compact, in its struct's key order.
    func testRawIsVaultsCompactHTTPBody() throws {
        let cli = CLIRunner()
        cli.configure()
        let result = cli.run("read", "-format=raw", "database/roles/ro")
        XCTAssertEqual(result.code, 0)
        XCTAssertEqual(result.stderr, "")
        let body = result.stdout.replacingOccurrences(of: #""request_id":"[0-9a-f-]{36}""#, with: #""request_id":"ID""#,
                                                      options: .regularExpression)
        XCTAssertEqual(body, #"{"request_id":"ID","lease_id":"","renewable":false,"lease_duration":0,"data":{"creation_statements":["CREATE"],"credential_type":"password","db_name":"db","default_ttl":3600,"max_ttl":86400,"renew_statements":[],"revocation_statements":[],"rollback_statements":[]},"wrap_info":null,"warnings":null,"auth":null,"mount_type":"database"}"# + "\n")

        let creds = cli.run("read", "-format=raw", "database/creds/ro").stdout
        XCTAssertNotNil(creds.range(of: #"^\{"request_id":"[0-9a-f-]{36}","lease_id":"database/creds/ro/[A-Za-z0-9]{24}","renewable":true,"lease_duration":3600,"data":\{"password":"[A-Za-z0-9-]{20}","username":"[^"]+"\},"wrap_info":null,"warnings":null,"auth":null,"mount_type":"database"\}\n$"#,
                                    options: .regularExpression), creds)
        // Strings keep their escapes; a newline inside a value does not split the body.
        cli.run("write", "database/roles/nl", "db_name=db", "creation_statements=a\nb<c>")
        XCTAssertTrue(cli.run("read", "-format=raw", "database/roles/nl").stdout.contains(#""creation_statements":["a\nb\u003cc\u003e"]"#))
        let missing = cli.run("read", "-format=raw", "database/roles/none")
        XCTAssertEqual(missing.code, 2)
        XCTAssertEqual(missing.stdout, "")
    }

    /// `tidy -format=json` writes one compact JSON object per line, for log collectors.
    func testTidyJSONIsOneCompactObjectPerLine() throws {
        let cli = CLIRunner()
        cli.configure()
        cli.run("write", "database/roles/short", "db_name=db", "creation_statements=CREATE", "default_ttl=1s")
        XCTAssertEqual(cli.run("read", "database/creds/short").code, 0)
        usleep(1_100_000)
        let result = cli.run("tidy", "-format=json")
        XCTAssertEqual(result.code, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, result.stdout)
        XCTAssertNotNil(lines.first?.range(of: #"^\{"action":"lease revoked","detail":"user [^"]+","subject":"database/creds/short/[A-Za-z0-9]{24}","time":"[0-9T:.-]+Z"\}$"#,
                                           options: .regularExpression), result.stdout)
    }

    func testGoJSONCompactIsGosMarshal() {
        XCTAssertEqual(GoJSON.compact(["b": [1, "x", ["k": .null]], "a": .bool(true), "e": [], "o": [:]]),
                       #"{"a":true,"b":[1,"x",{"k":null}],"e":[],"o":{}}"#)
    }

    func testListFormats() {
        let cli = CLIRunner()
        cli.configure()
        cli.run("write", "database/roles/a", "db_name=db")
        XCTAssertEqual(cli.run("list", "database/roles").stdout, "Keys\n----\na\nro\n")
        XCTAssertEqual(cli.run("list", "-format=json", "database/roles/").stdout, "[\n  \"a\",\n  \"ro\"\n]\n")
        XCTAssertEqual(cli.run("list", "-format=yaml", "database/roles").stdout, "- a\n- ro\n")
        let empty = cli.run("list", "database/static-roles/")
        XCTAssertEqual(empty.code, 2)
        XCTAssertEqual(empty.stderr, "No value found at database/static-roles\n")
        let emptyJSON = cli.run("list", "-format=json", "database/static-roles")
        XCTAssertEqual(emptyJSON.code, 2)
        XCTAssertEqual(emptyJSON.stdout, "{}\n")
    }

    func testWarningsBlockOnStderr() {
        let cli = CLIRunner()
        let result = cli.run("write", "database/config/db", "plugin_name=fake-database-plugin",
                             "connection_url=fake://admin:root-secret@db", "username=admin", "password=root-secret")
        XCTAssertEqual(result.code, 0)
        XCTAssertEqual(result.stdout, "")
        XCTAssertEqual(result.stderr, """
        WARNING! The following warnings were returned from Vault:

          * Password found in connection_url, use a templated url to enable root
          rotation and prevent read access to password information.


        """)
    }

    func testHumanDurations() {
        let cases = [0: "0s", 30: "30s", 60: "1m", 90: "1m30s", 300: "5m", 592: "9m52s", 3600: "1h", 3601: "1h1s",
                     3660: "1h1m", 86400: "24h", 2_764_800: "768h"]
        for (seconds, text) in cases {
            XCTAssertEqual(GoValueText.tableCell(key: "ttl", .int(seconds)), text)
        }
        XCTAssertEqual(GoValueText.tableCell(key: "count", .int(3600)), "3600")
    }

    func testGoJSONEscapesLikeGo() {
        XCTAssertEqual(GoJSON.encode(.string("a<b>&\"\\\nü")), "\"a\\u003cb\\u003e\\u0026\\\"\\\\\\nü\"")
    }
}
