import Foundation
import TestSupport
import XCTest

/// Hostile names through every command that takes one: path traversal, separators, NUL,
/// quotes, control characters, non-ASCII, overlong. Each is refused with a non-zero exit before
/// any file is created and before the database is called.
final class SecurityNameTests: XCTestCase {
    static let hostileNames = [
        "..", ".", "../escape", "a/../../escape", "a/b", "/abs", "a\0b", "\0", "'q'", "\"q\"", "a'b", "a b", " ", "a\nb",
        "a\tb", "a\u{1b}[31mb", "é", "日本", "a\u{202E}b", "%2e%2e", "-a", "a-", "a.", ".a", "",
        String(repeating: "a", count: 256), String(repeating: "é", count: 200),
    ]

    /// Every command form that carries a name, for one name.
    static func commands(_ n: String) -> [[String]] {
        [
            ["write", "database/config/\(n)", "plugin_name=fake-database-plugin", "connection_url=fake://x", "username=admin", "password=root-secret"],
            ["config", "write", n, "plugin_name=fake-database-plugin", "connection_url=fake://x", "username=admin", "password=root-secret"],
            ["config", "read", n], ["config", "delete", n], ["config", "reset", n], ["rotate-root", n],
            ["write", "database/roles/\(n)", "db_name=db", "creation_statements=CREATE"],
            ["roles", "write", n, "db_name=db", "creation_statements=CREATE"], ["roles", "delete", n],
            ["write", "database/static-roles/\(n)", "db_name=db", "username=admin", "rotation_period=1h"],
            ["static-roles", "write", n, "db_name=db", "username=app", "rotation_period=1h"],
            ["read", "database/creds/\(n)"], ["creds", n], ["static-creds", n], ["rotate-role", n],
            ["write", "-f", "database/rotate-role/\(n)"], ["write", "-f", "database/reset/\(n)"],
            ["write", "sys/policies/password/\(n)", "policy=length = 20"], ["read", "sys/policies/password/\(n)/generate"],
            ["delete", "sys/policies/password/\(n)"],
            ["lease", "revoke", "database/creds/ro/\(n)"], ["lease", "revoke", "database/creds/\(n)/abc"],
            ["lease", "renew", "database/creds/ro/\(n)"], ["lease", "lookup", "database/creds/\(n)/abc"],
            ["write", "-f", "sys/leases/revoke/database/creds/ro/\(n)"],
        ]
    }

    /// Every file under a folder, relative, with its size and contents' hash, so any change shows.
    static func snapshot(_ root: URL) -> [String: Data] {
        var files: [String: Data] = [:]
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { return files }
        while let path = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let full = root.path + "/" + path
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) {
                files[path] = isDirectory.boolValue ? Data("dir".utf8) : (FileManager.default.contents(atPath: full) ?? Data())
            }
        }
        return files
    }

    func testHostileNamesAreRefusedBeforeAnyFileOrDatabaseIsTouched() {
        let cli = CLIRunner()
        cli.configure()
        cli.database.addUser("app", password: "app-initial")
        XCTAssertEqual(cli.run("write", "database/static-roles/st", "db_name=db", "username=app", "rotation_period=1h").code, 0)
        let leaseID = cli.run("read", "-field=lease_id", "database/creds/ro").stdout
        XCTAssertTrue(leaseID.hasPrefix("database/creds/ro/"))
        // Locks of accepted names are created on demand; list them all now so the snapshot holds still.
        let before = Self.snapshot(cli.folder.url)
        let callsBefore = cli.database.calls

        var refusals = 0
        for name in Self.hostileNames {
            for command in Self.commands(name) {
                let result = cli.run(command, stdin: "")
                refusals += 1
                XCTAssertNotEqual(result.code, 0, "\(command.debugDescription) was accepted: \(result.stdout)")
                XCTAssertFalse(result.stderr.isEmpty, "\(command.debugDescription) said nothing")
                XCTAssertFalse(result.stderr.contains("root-secret"), result.stderr)
                // Control characters come back visible, never raw: no NUL, no terminal escape, and an
                // engine error stays on one line.
                XCTAssertFalse(result.stderr.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" },
                               "raw control characters echoed: \(result.stderr.debugDescription)")
                if result.code == 2 {
                    XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr.debugDescription)
                }
                let after = Self.snapshot(cli.folder.url)
                if after != before {
                    let changed = Set(after.keys).symmetricDifference(before.keys).union(after.keys.filter { before[$0] != nil && before[$0] != after[$0] })
                    XCTFail("\(command.debugDescription) changed files: \(changed.sorted())")
                    return
                }
                if cli.database.calls != callsBefore {
                    XCTFail("\(command.debugDescription) reached the database: \(cli.database.calls.dropFirst(callsBefore.count))")
                    return
                }
            }
        }
        XCTAssertGreaterThan(refusals, 500)
        // And the good names still work: the refusals did not break the state directory.
        XCTAssertEqual(cli.run("read", "database/roles/ro").code, 0)
        XCTAssertEqual(cli.run("lease", "revoke", leaseID).code, 0)
    }

    /// The same through the real binary and a real file system: argv cannot carry NUL, but every
    /// other hostile name is refused and nothing appears, inside or outside the state directory.
    func testTheBinaryRefusesHostileNamesWithoutCreatingAnything() throws {
        let tool = try FaultBinary("dbsecrets-security-names")
        defer { tool.remove() }
        for name in Self.hostileNames where !name.contains("\0") {
            for command in [["roles", "write", name, "db_name=db"], ["write", "database/config/\(name)", "plugin_name=x", "connection_url=x"]] {
                let result = try tool.run(command)
                XCTAssertNotEqual(result.status, 0, "\(command.debugDescription) was accepted")
                XCTAssertEqual(result.stdout, "")
            }
        }
        XCTAssertEqual(Self.snapshot(tool.folder.url).keys.filter { !$0.hasPrefix("state") }, [], "nothing outside the state directory")
        XCTAssertEqual(tool.stateFiles().filter { !$0.hasPrefix("locks/") }, [], "no record written")
    }
}
