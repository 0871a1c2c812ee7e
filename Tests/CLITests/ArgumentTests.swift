@testable import CLI
import DBPlugin
import XCTest

/// Vault's argument rules: flags first, k=v data forms, and the exit codes scripts rely on.
final class ArgumentTests: XCTestCase {
    func testExitCodes() {
        let cli = CLIRunner()
        XCTAssertEqual(cli.run([]).code, 127)
        XCTAssertEqual(cli.run("frobnicate").code, 127)
        XCTAssertEqual(cli.run("read").code, 1)
        XCTAssertEqual(cli.run("read", "database/roles/none").code, 2)
        XCTAssertEqual(cli.run("read", "-h").code, 0)
        XCTAssertEqual(cli.run("lease").code, 1)
        XCTAssertEqual(cli.run("version").stdout, "dbsecrets v\(CommandLineTool.version)\n")
    }

    func testMessages() {
        let cli = CLIRunner()
        XCTAssertEqual(cli.run("read").stderr, "Not enough arguments (expected 1, got 0)\n")
        XCTAssertEqual(cli.run("list", "a", "b").stderr, "Too many arguments (expected 1, got 2)\n")
        XCTAssertEqual(cli.run("write", "database/roles/r").stderr, "Must supply data or use -force\n")
        XCTAssertEqual(cli.run("read", "-nope", "x").stderr, "flag provided but not defined: -nope\n")
        XCTAssertEqual(cli.run("read", "-field").stderr, "flag needs an argument: -field\n")
        XCTAssertEqual(cli.run("write", "-force=maybe", "x").stderr,
                       "invalid boolean value \"maybe\" for -force: strconv.ParseBool: parsing \"maybe\": invalid syntax\n")
        XCTAssertEqual(cli.run("read", "---x", "p").stderr, "bad flag syntax: ---x\n")
        XCTAssertEqual(cli.run("read", "-format=xml", "p").stderr, "Invalid output format: xml\n")
        XCTAssertEqual(cli.run("read", "-format=xml", "p").code, 1)
        XCTAssertEqual(cli.run("write", "database/roles/r", "oops").stderr,
                       "Failed to parse K=V data: invalid key/value pair \"oops\": format must be key=value\n")
        XCTAssertTrue(cli.run("-format=json", "read", "x").stderr.hasPrefix("Invalid flags before the subcommand."))
        XCTAssertEqual(cli.run("read", "database/roles/none").stderr, "No value found at database/roles/none\n")
        XCTAssertEqual(cli.run("write", "-format=raw", "database/roles/r", "db_name=x").stderr,
                       "This command does not support the -format=raw option.\n")
        let bad = cli.run("write", "database/roles/r", "default_ttl=1h")
        XCTAssertEqual(bad.code, 2)
        XCTAssertEqual(bad.stderr, "Error writing data to database/roles/r: database name is required\n")
    }

    func testSuccessLinesAndPathSanitizing() {
        let cli = CLIRunner()
        XCTAssertEqual(cli.run("write", "/database/roles/r/", "db_name=db").stdout, "Success! Data written to: database/roles/r\n")
        XCTAssertEqual(cli.run("delete", "database/roles/r").stdout, "Success! Data deleted (if it existed) at: database/roles/r\n")
        XCTAssertEqual(cli.run("write", "-format=json", "database/roles/r", "db_name=db").stdout, "", "only table prints Success!")
    }

    func testDataForms() throws {
        let cli = CLIRunner()
        let file = cli.folder.url.appendingPathComponent("create.sql")
        try "CREATE ROLE \"{{name}}\";\n".write(to: file, atomically: true, encoding: .utf8)
        let json = cli.folder.url.appendingPathComponent("body.json")
        try #"{"db_name": "db", "max_ttl": 7200, "revocation_statements": ["A", "B"]}"#.write(to: json, atomically: true, encoding: .utf8)
        XCTAssertEqual(cli.run("write", "database/roles/r", "@\(json.path)", "creation_statements=@\(file.path)",
                               "renew_statements=x", "renew_statements=y").code, 0)
        let data = cli.run("read", "-format=json", "-field=data", "database/roles/r").stdout
        XCTAssertTrue(data.contains("\"max_ttl\": 7200"), data)
        XCTAssertTrue(data.contains("\"CREATE ROLE \\\"{{name}}\\\";\""), data)
        XCTAssertTrue(data.contains("\"revocation_statements\": [\n    \"A\",\n    \"B\"\n  ]"), data)
        XCTAssertTrue(data.contains("\"renew_statements\": [\n    \"x\",\n    \"y\"\n  ]"), data)
        XCTAssertEqual(cli.run("write", "database/roles/s", "db_name=-", stdin: "fromstdin").code, 0)
        XCTAssertEqual(cli.run("read", "-field=db_name", "database/roles/s").stdout, "fromstdin")
        XCTAssertEqual(cli.run("write", "database/roles/t", "-", stdin: #"{"db_name":"piped"}"#).code, 0)
        XCTAssertEqual(cli.run("read", "-field=db_name", "database/roles/t").stdout, "piped")
        XCTAssertEqual(cli.run("write", "database/roles/u", "db_name=\\@at").code, 0)
        XCTAssertEqual(cli.run("read", "-field=db_name", "database/roles/u").stdout, "@at")
        XCTAssertEqual(cli.run("write", "database/roles/v", "a=-", "b=-").stderr,
                       "Failed to parse K=V data: invalid key/value pair \"b=-\": stdin already consumed\n")
        XCTAssertEqual(cli.run("write", "database/roles/v", "a=@/nonexistent").stderr,
                       "Failed to parse K=V data: invalid key/value pair \"a=@/nonexistent\": error reading file: open /nonexistent: no such file or directory\n")
    }

    func testTrailingFlagsWarnAndFormatAnywhere() {
        let cli = CLIRunner()
        cli.configure()
        XCTAssertTrue(cli.run("read", "database/roles/ro", "-format=json").stdout.hasPrefix("{"))
        let trailing = cli.run("list", "database/roles", "-detailed=x")
        XCTAssertEqual(trailing.code, 0, trailing.stderr)
        let warned = cli.run("write", "database/roles/z", "db_name=db", "-force")
        XCTAssertTrue(warned.stderr.hasPrefix("Command flags must be provided before positional arguments. The following arguments will not be parsed as flags: [-force]\n"))
        XCTAssertEqual(warned.code, 1)
        cli.environment["VAULT_FORMAT"] = "json"
        XCTAssertTrue(cli.run("read", "database/roles/ro").stdout.hasPrefix("{"))
        cli.environment["DBSECRETS_FORMAT"] = "yaml"
        XCTAssertTrue(cli.run("read", "database/roles/ro").stdout.hasPrefix("data:"))
    }

    func testShortcutsMatchThePaths() {
        let cli = CLIRunner()
        cli.configure()
        XCTAssertEqual(cli.run("roles", "read", "ro").stdout, cli.run("read", "database/roles/ro").stdout)
        XCTAssertEqual(cli.run("config", "list").stdout, "Keys\n----\ndb\n")
        XCTAssertEqual(cli.run("roles", "write", "x", "db_name=db").stdout, "Success! Data written to: database/roles/x\n")
        XCTAssertEqual(cli.run("creds", "ro").code, 0)
        XCTAssertEqual(cli.run("rotate-root", "db").stdout, "Success! Data written to: database/rotate-root/db\n")
        XCTAssertEqual(cli.run("config", "reset", "db").code, 0)
    }

    func testLeaseCommands() throws {
        let cli = CLIRunner()
        cli.configure()
        let id = cli.run("read", "-field=lease_id", "database/creds/ro").stdout
        XCTAssertTrue(id.hasPrefix("database/creds/ro/"))
        let renewed = cli.run("lease", "renew", "-increment=30m", id)
        XCTAssertEqual(renewed.code, 0, renewed.stderr)
        XCTAssertTrue(renewed.stdout.contains("lease_duration     30m\n"), renewed.stdout)
        XCTAssertTrue(cli.run("lease", "lookup", id).stdout.contains("renewable       true"))
        XCTAssertTrue(cli.run("lease", "list").stdout.contains(id))
        let second = cli.run("read", "-field=lease_id", "database/creds/ro").stdout
        let listed = try JSONSerialization.jsonObject(with: Data(cli.run("lease", "list", "-format=json").stdout.utf8)) as? [[String: Any]]
        XCTAssertEqual(listed?.compactMap { $0["id"] as? String }, [id, second].sorted())
        XCTAssertEqual(listed?.first?["last_error"] as? NSNull, NSNull())
        XCTAssertTrue(cli.run("lease", "list", "-format=yaml").stdout.hasPrefix("- expire_time: "))
        XCTAssertEqual(cli.run("lease", "list", "-format=json", "database/creds/none/").stdout, "[]\n")
        cli.run("lease", "revoke", second)
        XCTAssertEqual(cli.run("lease", "revoke", id).stdout, "Success! Revoked lease: \(id)\n")
        XCTAssertEqual(cli.database.users.count, 1)
        XCTAssertEqual(cli.run("lease", "lookup").stderr, "Missing ID!\n")
        XCTAssertEqual(cli.run("lease", "revoke", "-force", "x").stderr, "Specifying -force requires also specifying -prefix\n")
        let lookupGone = cli.run("lease", "lookup", id)
        XCTAssertEqual(lookupGone.code, 2)
        XCTAssertEqual(lookupGone.stderr, "error looking up lease id \(id): invalid lease\n")
    }

    func testSecretsNeverInErrors() {
        let cli = CLIRunner()
        let result = cli.run("write", "database/config/db", "plugin_name=fake-database-plugin", "connection_url=u",
                             "username=admin", "password=hunter2-wrong")
        XCTAssertEqual(result.code, 2)
        XCTAssertFalse(result.stderr.contains("hunter2-wrong"), result.stderr)
        XCTAssertFalse(result.stdout.contains("hunter2-wrong"))
    }
}

final class RevocationLimitTests: XCTestCase {
    func testTheNumberOfRevocationAttemptsIsConfigurable() throws {
        let cli = CLIRunner()
        cli.configure()
        cli.environment["DBSECRETS_MAX_REVOKE_ATTEMPTS"] = "2"
        let id = cli.run("read", "-field=lease_id", "database/creds/ro").stdout
        cli.database.failures["deleteUser"] = 10
        XCTAssertEqual(cli.run("lease", "revoke", id).code, 2)
        XCTAssertTrue(cli.run("lease", "list").stdout.contains("revoke failed x1"))
        XCTAssertEqual(cli.run("lease", "revoke", id).code, 2)
        XCTAssertTrue(cli.run("lease", "list").stdout.contains("revoke failed x1"), "not before the backoff")
        // The backoff passes: the retry time is now.
        let file = cli.stateURL.appendingPathComponent("leases/" + id.split(separator: "/").suffix(2).joined(separator: ".") + ".json")
        let text = try String(contentsOf: file, encoding: .utf8)
        let retry = try XCTUnwrap(text.range(of: #""next_revoke_attempt" : "[^"]*""#, options: .regularExpression))
        try text.replacingCharacters(in: retry, with: #""next_revoke_attempt" : "2020-01-01T00:00:00.000Z""#)
            .write(to: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(cli.run("lease", "revoke", id).code, 2)
        XCTAssertTrue(cli.run("lease", "list").stdout.contains("irrevocable"))
    }
}

final class UnreadableLeaseListingTests: XCTestCase {
    func testLeaseListShowsAnUnreadableLeaseAndGoesOn() throws {
        let cli = CLIRunner()
        cli.configure()
        let id = cli.run("read", "-field=lease_id", "database/creds/ro").stdout
        try Data("{".utf8).write(to: cli.stateURL.appendingPathComponent("leases/ro.Broken.json"))
        let table = cli.run("lease", "list")
        XCTAssertEqual(table.code, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains(id), table.stdout)
        XCTAssertTrue(table.stdout.contains("database/creds/ro/Broken") && table.stdout.contains("unreadable: state file"), table.stdout)
        let json = cli.run("lease", "list", "-format=json")
        let items = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(items.count, 2)
        XCTAssertEqual(items.first { $0["id"] as? String == "database/creds/ro/Broken" }?["unreadable"] as? Bool, true)
        XCTAssertEqual(cli.run("lease", "revoke", "-force", "-prefix", "database/creds/ro/Broken").code, 0)
        XCTAssertFalse(cli.run("lease", "list").stdout.contains("Broken"))
    }
}
