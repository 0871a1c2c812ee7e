@testable import CLI
import Foundation
import XCTest

/// What the man page's ENVIRONMENT section promises, checked: colour only on a terminal and
/// never with NO_COLOR, the format variables, and how the state directory is chosen.
final class ManPageEnvironmentTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws { root = try CompletionHarness.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func run(_ arguments: [String], environment: [String: String], terminal isTerminal: Bool = false,
             stdoutTerminal: Bool? = nil) -> (status: Int32, out: String, err: String) {
        var out = "", err = ""
        let terminal = Terminal(environment: environment, stdoutIsTerminal: stdoutTerminal ?? isTerminal, stderrIsTerminal: isTerminal,
                                out: { out += $0 }, err: { err += $0 }, stdin: { Data() })
        return (CommandLineTool.run(arguments, terminal: terminal), out, err)
    }

    func testErrorsAreColouredOnlyOnATerminalWithoutNoColor() {
        let state = ["DBSECRETS_STATE_DIR": root.path]
        let failing = ["read", "database/roles/bad!name"]
        XCTAssertTrue(run(failing, environment: state, terminal: true).err.contains("\u{1b}["))
        XCTAssertFalse(run(failing, environment: state, terminal: false).err.contains("\u{1b}["))
        XCTAssertFalse(run(failing, environment: state.merging(["NO_COLOR": "1"]) { $1 }, terminal: true).err.contains("\u{1b}["))
        XCTAssertFalse(run(failing, environment: state.merging(["TERM": "dumb"]) { $1 }, terminal: true).err.contains("\u{1b}["))
        XCTAssertEqual(run(failing, environment: state, terminal: true).status, 2)
    }

    /// Errors and warnings are written to stderr, so stderr's own terminal decides.
    func testColourFollowsStderrNotStdout() {
        let state = ["DBSECRETS_STATE_DIR": root.path]
        let failing = ["read", "database/roles/bad!name"]
        XCTAssertTrue(run(failing, environment: state, terminal: true, stdoutTerminal: false).err.contains("\u{1b}[31m"))
        XCTAssertFalse(run(failing, environment: state, terminal: false, stdoutTerminal: true).err.contains("\u{1b}["))
        let warning = ["write", "database/roles/ro", "db_name=pg", "default_tll=1h"]
        XCTAssertTrue(run(warning, environment: state, terminal: true, stdoutTerminal: false).err.contains("\u{1b}[33m"))
    }

    /// NO_COLOR and TERM=dumb are about colour: the bytes of `-field` depend on stdout alone.
    func testNoColorDoesNotChangeTheFieldsNewline() {
        let state = ["DBSECRETS_STATE_DIR": root.path]
        XCTAssertEqual(run(["write", "database/roles/ro", "db_name=pg"], environment: state).status, 0)
        let field = ["read", "-field=db_name", "database/roles/ro"]
        for extra in [[:], ["NO_COLOR": "1"], ["TERM": "dumb"]] {
            let environment = state.merging(extra) { $1 }
            XCTAssertEqual(run(field, environment: environment, terminal: true, stdoutTerminal: true).out, "pg\n", "\(extra)")
            XCTAssertEqual(run(field, environment: environment, terminal: true, stdoutTerminal: false).out, "pg", "\(extra)")
        }
    }

    func testFormatVariables() {
        let state = ["DBSECRETS_STATE_DIR": root.path]
        XCTAssertEqual(run(["write", "database/roles/ro", "db_name=pg"], environment: state).status, 0)
        XCTAssertTrue(run(["list", "database/roles"], environment: state.merging(["DBSECRETS_FORMAT": "json"]) { $1 }).out.hasPrefix("["))
        XCTAssertTrue(run(["list", "database/roles"], environment: state.merging(["VAULT_FORMAT": "json"]) { $1 }).out.hasPrefix("["))
        XCTAssertTrue(run(["list", "database/roles"], environment: state.merging(["VAULT_FORMAT": "json", "DBSECRETS_FORMAT": "yaml"]) { $1 }).out.hasPrefix("- ro"))
    }

    func testStateDirectoryChoice() {
        let xdg = root.appendingPathComponent("xdg")
        XCTAssertEqual(run(["write", "database/roles/ro", "db_name=pg"], environment: ["XDG_STATE_HOME": xdg.path, "HOME": "/nonexistent"]).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: xdg.appendingPathComponent("dbsecrets/roles/ro.json").path))
        let explicit = root.appendingPathComponent("explicit")
        XCTAssertEqual(run(["write", "database/roles/rw", "db_name=pg"], environment: ["DBSECRETS_STATE_DIR": explicit.path, "XDG_STATE_HOME": xdg.path]).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: explicit.appendingPathComponent("roles/rw.json").path))
    }
}
