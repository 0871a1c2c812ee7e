@testable import CLI
import Foundation
import XCTest

/// `dbsecrets completion SHELL` prints exactly the scripts committed in `completions/` (which
/// `make install` installs), and never touches the shell's startup files.
final class CompletionScriptFileTests: XCTestCase {
    func run(_ arguments: [String]) -> (status: Int32, out: String, err: String) {
        var out = "", err = ""
        let terminal = Terminal(environment: [:], stdoutIsTerminal: false, out: { out += $0 }, err: { err += $0 }, stdin: { Data() })
        return (CommandLineTool.run(arguments, terminal: terminal), out, err)
    }

    func testCommittedScriptsAreWhatTheCommandPrints() throws {
        for (shell, file) in [("bash", "dbsecrets.bash"), ("zsh", "_dbsecrets"), ("fish", "dbsecrets.fish")] {
            let committed = try String(contentsOf: CompletionHarness.packageRoot.appendingPathComponent("completions/\(file)"), encoding: .utf8)
            let printed = run(["completion", shell])
            XCTAssertEqual(printed.status, 0)
            XCTAssertEqual(committed, printed.out, "completions/\(file) is stale: regenerate it with 'make generated BINARY=.build/debug/dbsecrets'")
        }
    }

    func testUnknownShellIsAUsageError() {
        let result = run(["completion", "tcsh"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.err, "Unsupported shell \"tcsh\": expected bash, zsh or fish\n")
        XCTAssertEqual(run(["completion"]).status, 1)
    }

    func testPrintingAScriptWritesNoFile() throws {
        let home = try CompletionHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: home) }
        let env = try CompletionHarness.environment(stateDir: home.appendingPathComponent("state"), home: home)
        for shell in CompletionScripts.shells {
            let result = try CompletionHarness.run(try CompletionHarness.binary().path, ["completion", shell], environment: env, in: home)
            XCTAssertEqual(result.status, 0, result.err)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: home.path), [])
    }

    /// `source <(dbsecrets completion SHELL)` registers the completion in the running shell.
    func testSourcingThePrintedScriptRegistersIt() throws {
        let home = try CompletionHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: home) }
        let env = try CompletionHarness.environment(stateDir: home.appendingPathComponent("state"), home: home)
        let bash = try CompletionHarness.run("/bin/bash", ["--norc", "--noprofile", "-c", "source <(dbsecrets completion bash); complete -p dbsecrets"], environment: env)
        XCTAssertEqual(bash.out, "complete -F _dbsecrets dbsecrets\n", bash.err)
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/zsh") {
            let zsh = try CompletionHarness.run("/usr/bin/zsh", ["-f", "-c", "autoload -U compinit; compinit -u -D; source <(dbsecrets completion zsh); print -- $_comps[dbsecrets]"], environment: env)
            XCTAssertEqual(zsh.out, "_dbsecrets\n", zsh.err)
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/fish") {
            let fish = try CompletionHarness.run("/usr/bin/fish", ["--no-config", "-c", "dbsecrets completion fish | source; complete -C 'dbsecrets vers'"], environment: env)
            XCTAssertEqual(fish.out, "version\n", fish.err)
        }
    }

    func testScriptsAreValidShellSyntax() throws {
        let folder = CompletionHarness.packageRoot.appendingPathComponent("completions")
        let env = ["PATH": "/usr/bin:/bin"]
        XCTAssertEqual(try CompletionHarness.run("/bin/bash", ["-n", folder.appendingPathComponent("dbsecrets.bash").path], environment: env).status, 0)
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/zsh") {
            XCTAssertEqual(try CompletionHarness.run("/usr/bin/zsh", ["-n", folder.appendingPathComponent("_dbsecrets").path], environment: env).status, 0)
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/fish") {
            XCTAssertEqual(try CompletionHarness.run("/usr/bin/fish", ["--no-execute", folder.appendingPathComponent("dbsecrets.fish").path], environment: env).status, 0)
        }
    }
}
