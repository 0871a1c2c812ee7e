import Foundation
import TestSupport
import XCTest

/// The state directory under real processes: killed writers, parallel writers, permissive
/// umasks, corrupt files.
final class StateSafetyTests: XCTestCase {
    var folder: TemporaryFolder!
    var state: String { folder.url.appendingPathComponent("state").path }
    var binary: String { PackageRoot.binary.path }

    override func setUpWithError() throws {
        folder = TemporaryFolder("dbsecrets-safety")
        try TestRequirement.builtBinary()
    }

    override func tearDown() { folder.remove() }

    private func dbsecrets(_ args: String...) throws -> ProcessResult {
        try ProcessRunner.run(binary, args, environment: ["DBSECRETS_STATE_DIR": state, "PATH": "/usr/bin:/bin"])
    }

    func testAWriterKilledAtRandomInstantsNeverLeavesUnreadableState() throws {
        // A first version of the role, then many rewrites killed at random points.
        XCTAssertEqual(try dbsecrets("write", "database/roles/r", "db_name=first").status, 0)
        for attempt in 0..<40 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["write", "database/roles/r", "db_name=v\(attempt)", "creation_statements=\(String(repeating: "x", count: 5000))"]
            process.environment = ["DBSECRETS_STATE_DIR": state]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32.random(in: 0...8000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let read = try dbsecrets("read", "-field=db_name", "database/roles/r")
            XCTAssertEqual(read.status, 0, "attempt \(attempt): \(read.stderr)")
            XCTAssertTrue(read.stdout == "first" || read.stdout.hasPrefix("v"), read.stdout)
        }
        XCTAssertEqual(try dbsecrets("list", "database/roles").stdout, "Keys\n----\nr\n", "temp files are never listed")
    }

    func testParallelWritersLoseNothing() throws {
        // 16 processes at once, each writing its own roles and all rewriting one shared role.
        let script = """
        for i in $(seq 16); do
          ( for j in 1 2 3; do
              "$0" write database/roles/p$i-$j db_name=db$i >/dev/null || echo "failed p$i-$j" >&2
              "$0" write database/roles/shared db_name=db$i >/dev/null || echo "failed shared $i" >&2
            done ) &
        done
        wait
        """
        let result = try ProcessRunner.run("/bin/sh", ["-c", script, binary], environment: ["DBSECRETS_STATE_DIR": state])
        XCTAssertEqual(result.stderr, "")
        let keys = try dbsecrets("list", "-format=json", "database/roles").stdout
        let names = try JSONDecoder().decode([String].self, from: Data(keys.utf8))
        XCTAssertEqual(names.count, 49)
        XCTAssertEqual(try dbsecrets("read", "-field=db_name", "database/roles/shared").status, 0)
    }

    func testModesArePrivateEvenWithAPermissiveUmask() throws {
        let result = try ProcessRunner.run("/bin/sh", ["-c", "umask 000; exec \"$0\" write database/roles/r db_name=x", binary],
                                           environment: ["DBSECRETS_STATE_DIR": state])
        XCTAssertEqual(result.status, 0, result.stderr)
        func mode(_ path: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
        }
        XCTAssertEqual(try mode(state), 0o700)
        XCTAssertEqual(try mode(state + "/roles"), 0o700)
        XCTAssertEqual(try mode(state + "/roles/r.json"), 0o600)
        XCTAssertEqual(try mode(state + "/locks"), 0o700)
        // A lock file is chmodded only when its mode is wrong, and then it is put right.
        let lock = state + "/locks/role-name-r.lock"
        XCTAssertEqual(try mode(lock), 0o600)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: lock)
        XCTAssertEqual(try dbsecrets("write", "database/roles/r", "db_name=y").status, 0)
        XCTAssertEqual(try mode(lock), 0o600)
    }

    func testACorruptOrNewerFileIsReportedWithItsPathAndLeftAlone() throws {
        XCTAssertEqual(try dbsecrets("write", "database/roles/r", "db_name=x").status, 0)
        let file = state + "/roles/r.json"
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: file))
        var result = try dbsecrets("read", "database/roles/r")
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stderr, "Error reading database/roles/r: state file \(file) is corrupt: not a JSON object with a format_version\n")
        result = try dbsecrets("write", "database/roles/r", "db_name=y")
        XCTAssertEqual(result.status, 2, "an update never overwrites what it cannot read")
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "{not json")
        try Data(#"{"format_version": 99, "db_name": "x"}"#.utf8).write(to: URL(fileURLWithPath: file))
        result = try dbsecrets("read", "database/roles/r")
        XCTAssertEqual(result.stderr, "Error reading database/roles/r: state file \(file) has format_version 99, which this version of dbsecrets does not understand\n")
    }

    func testStateDirectoryResolution() throws {
        let xdg = folder.url.appendingPathComponent("xdg").path
        let home = folder.url.appendingPathComponent("home").path
        var r = try ProcessRunner.run(binary, ["write", "database/roles/a", "db_name=x"], environment: ["XDG_STATE_HOME": xdg, "HOME": home])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: xdg + "/dbsecrets/roles/a.json"))
        r = try ProcessRunner.run(binary, ["write", "database/roles/b", "db_name=x"], environment: ["HOME": home])
        XCTAssertTrue(FileManager.default.fileExists(atPath: home + "/.local/state/dbsecrets/roles/b.json"))
        let flag = folder.url.appendingPathComponent("flag").path
        r = try ProcessRunner.run(binary, ["write", "-state-dir=\(flag)", "database/roles/c", "db_name=x"],
                                  environment: ["DBSECRETS_STATE_DIR": state, "HOME": home])
        XCTAssertTrue(FileManager.default.fileExists(atPath: flag + "/roles/c.json"))
    }
}
