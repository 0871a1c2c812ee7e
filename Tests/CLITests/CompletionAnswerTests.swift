@testable import CLI
import Foundation
import XCTest

/// What `dbsecrets __complete` answers, and Vault's `complete -C` protocol, run in-process over
/// a populated state directory.
final class CompletionAnswerTests: XCTestCase {
    nonisolated(unsafe) static var root: URL!
    nonisolated(unsafe) static var state: URL!

    override class func setUp() {
        super.setUp()
        root = try! CompletionHarness.temporaryFolder()
        state = try! CompletionHarness.populatedStateDirectory(root)
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(at: root)
        super.tearDown()
    }

    func complete(_ words: String..., environment: [String: String]? = nil) -> [String] {
        var out = ""
        let terminal = Terminal(environment: environment ?? ["DBSECRETS_STATE_DIR": Self.state.path], stdoutIsTerminal: false,
                                out: { out += $0 }, err: { XCTFail("stderr: \($0)") }, stdin: { Data() })
        XCTAssertEqual(CommandLineTool.run(["__complete"] + words, terminal: terminal), 0)
        return CompletionHarness.lines(out)
    }

    func testCommandsAndSubcommands() {
        XCTAssertEqual(complete("re"), ["read"])
        XCTAssertEqual(complete("st"), ["static-creds", "static-roles"])
        XCTAssertEqual(complete("lease", ""), ["list", "lookup", "renew", "revoke"])
        XCTAssertEqual(complete("config", ""), ["delete", "list", "read", "reset", "write"])
        XCTAssertEqual(complete("help", "lease", "re"), ["renew", "revoke"])
        XCTAssertEqual(complete("completion", ""), ["bash", "fish", "zsh"])
        XCTAssertFalse(complete("").contains { $0.hasPrefix("__") }, "hidden commands are not offered")
        XCTAssertEqual(complete("nosuch", ""), [])
    }

    func testFlagsAreOfferedWithOneDashAndValueFlagsWithEquals() {
        XCTAssertEqual(complete("write", "-"), ["-field=", "-force", "-format=", "-output-curl-string", "-output-policy", "-state-dir="])
        XCTAssertEqual(complete("lease", "revoke", "-"), ["-force", "-output-curl-string", "-output-policy", "-prefix", "-state-dir=", "-sync"])
        XCTAssertEqual(complete("read", ""), complete("read", "").filter { !$0.hasPrefix("-") }, "no flags unless a dash is typed")
    }

    func testFormatValuesWithAndWithoutEquals() {
        XCTAssertEqual(complete("list", "-format="), ["-format=table", "-format=json", "-format=yaml"])
        XCTAssertEqual(complete("read", "-format=j"), ["-format=json"])
        XCTAssertEqual(complete("read", "-format=r"), ["-format=raw"], "raw only where read allows it")
        XCTAssertEqual(complete("read", "-format", ""), ["table", "json", "yaml", "raw"])
        XCTAssertEqual(complete("tidy", "--format", "y"), ["yaml"])
    }

    func testEnginePathPrefixesDependOnTheVerb() {
        XCTAssertEqual(complete("read", ""), ["database/config/", "database/roles/", "database/creds/", "database/static-roles/",
                                              "database/static-creds/", "sys/mounts/", "sys/remount/status/", "sys/policies/password/"])
        XCTAssertEqual(complete("write", "database/r"), ["database/reset/", "database/reload/", "database/rotate-root/", "database/roles/",
                                                         "database/rotate-role/"])
        XCTAssertEqual(complete("list", ""), ["database/config/", "database/roles/", "database/static-roles/", "sys/policies/password/", "sys/leases/lookup/"])
        XCTAssertEqual(complete("delete", "sys/"), ["sys/mounts/", "sys/policies/password/"])
    }

    func testNamesFromTheStateDirectory() {
        XCTAssertEqual(complete("read", "database/roles/"), ["database/roles/readonly", "database/roles/readwrite"])
        XCTAssertEqual(complete("read", "database/creds/readw"), ["database/creds/readwrite"])
        XCTAssertEqual(complete("read", "database/config/"), ["database/config/pg"])
        XCTAssertEqual(complete("write", "database/rotate-root/"), ["database/rotate-root/pg"])
        XCTAssertEqual(complete("read", "database/static-creds/"), ["database/static-creds/app"])
        XCTAssertEqual(complete("read", "sys/policies/password/"), ["sys/policies/password/strong"])
        XCTAssertEqual(complete("roles", "read", ""), ["readonly", "readwrite"])
        XCTAssertEqual(complete("static-roles", "delete", ""), ["app"])
        XCTAssertEqual(complete("config", "reset", ""), ["pg"])
        XCTAssertEqual(complete("creds", "-format=json", "read"), ["readonly", "readwrite"])
        XCTAssertEqual(complete("list", "database/roles/"), [], "list takes the folder, not a name")
        XCTAssertEqual(complete("read", "database/roles/readonly", ""), [], "one path only")
    }

    func testWriteDataKeysAndTheirValues() throws {
        XCTAssertEqual(complete("write", "database/roles/new", "db_name=pg", "de"), ["default_ttl="])
        XCTAssertEqual(complete("write", "database/roles/new", "db_name="), ["db_name=pg"])
        XCTAssertEqual(complete("roles", "write", "new", "cred"), ["credential_type=", "credential_config="])
        XCTAssertEqual(complete("static-roles", "write", "app", "rotation_p"), ["rotation_period="])
        XCTAssertEqual(complete("write", "database/config/pg", "plugin_name=postg"), ["plugin_name=postgresql-database-plugin"])
        XCTAssertEqual(complete("config", "write", "pg", "password_policy="), ["password_policy=strong"])
        XCTAssertEqual(complete("write", "sys/policies/password/strong", ""), ["policy="])
        XCTAssertEqual(complete("write", "sys/leases/renew/" + CompletionHarness.leaseIDs[0], "inc"), ["increment="])
        XCTAssertEqual(complete("write", "-f", "database/rotate-root/pg", ""), [], "rotations take no data")
        XCTAssertEqual(complete("roles", "read", "readonly", ""), [], "only write takes data")

        let folder = Self.root.appendingPathComponent("sql")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("CREATE ROLE x;".utf8).write(to: folder.appendingPathComponent("create.sql"))
        XCTAssertEqual(complete("write", "database/roles/new", "creation_statements=@\(folder.path)/cr"),
                       ["creation_statements=@\(folder.path)/create.sql"])
        XCTAssertEqual(complete("write", "database/roles/new", "@\(Self.root.path)/sq"), ["@\(folder.path)/"])
    }

    func testLeaseIDsCompleteOneSegmentAtATime() {
        XCTAssertEqual(complete("lease", "revoke", ""), ["database/"])
        XCTAssertEqual(complete("lease", "revoke", "database/creds/"), ["database/creds/readonly/", "database/creds/readwrite/"])
        XCTAssertEqual(complete("lease", "renew", "database/creds/readonly/"), Array(CompletionHarness.leaseIDs.prefix(2)))
        XCTAssertEqual(complete("lease", "lookup", "database/creds/readonly/P"), [CompletionHarness.leaseIDs[1]])
        XCTAssertEqual(complete("write", "sys/leases/revoke/database/creds/readw"), ["sys/leases/revoke/database/creds/readwrite/"])
        XCTAssertEqual(complete("list", "sys/leases/lookup/database/creds/"),
                       ["sys/leases/lookup/database/creds/readonly/", "sys/leases/lookup/database/creds/readwrite/"])
    }

    func testStateDirectoryFlagOnTheLineWinsOverTheEnvironment() throws {
        let other = Self.root.appendingPathComponent("other")
        let terminal = Terminal(environment: ["DBSECRETS_STATE_DIR": other.path], stdoutIsTerminal: false,
                                out: { _ in }, err: { _ in }, stdin: { Data() })
        XCTAssertEqual(CommandLineTool.run(["write", "database/roles/elsewhere", "db_name=x"], terminal: terminal), 0)
        XCTAssertEqual(complete("roles", "read", "-state-dir", other.path, ""), ["elsewhere"])
        XCTAssertEqual(complete("roles", "read", "-state-dir=\(other.path)", ""), ["elsewhere"])
        XCTAssertEqual(complete("read", "database/roles/e", environment: ["DBSECRETS_STATE_DIR": other.path]), ["database/roles/elsewhere"])
        XCTAssertEqual(complete("roles", "read", "", environment: ["XDG_STATE_HOME": Self.root.path, "HOME": "/nonexistent"]), [],
                       "XDG_STATE_HOME/dbsecrets is empty")
        XCTAssertEqual(complete("read", "-state-dir=\(Self.root.path)/oth"), ["-state-dir=\(other.path)/"])
    }

    func testCompletingNeverCreatesTheStateDirectory() {
        let missing = Self.root.appendingPathComponent("missing")
        XCTAssertEqual(complete("roles", "read", "", environment: ["DBSECRETS_STATE_DIR": missing.path]), [])
        XCTAssertEqual(complete("lease", "revoke", "", environment: ["DBSECRETS_STATE_DIR": missing.path]), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing.path))
    }

    /// `complete -C dbsecrets dbsecrets`: the line in COMP_LINE, the cursor in COMP_POINT, and
    /// candidates cut after the last `=` since readline replaces only what follows it.
    func testVaultCompleteDashCProtocol() {
        func bash(_ line: String, point: Int? = nil) -> [String] {
            var out = ""
            let env = ["COMP_LINE": line, "COMP_POINT": String(point ?? line.utf8.count), "DBSECRETS_STATE_DIR": Self.state.path]
            let terminal = Terminal(environment: env, stdoutIsTerminal: false, out: { out += $0 }, err: { _ in }, stdin: { Data() })
            XCTAssertEqual(CommandLineTool.run(["dbsecrets", "rea"], terminal: terminal), 0)
            return CompletionHarness.lines(out)
        }
        XCTAssertEqual(bash("dbsecrets rea"), ["read"])
        XCTAssertEqual(bash("dbsecrets lease r"), ["renew", "revoke"])
        XCTAssertEqual(bash("dbsecrets read -format=y"), ["yaml"])
        XCTAssertEqual(bash("dbsecrets roles read "), ["readonly", "readwrite"])
        XCTAssertEqual(bash("dbsecrets rea database/roles/x", point: 13), ["read"])
    }
}
