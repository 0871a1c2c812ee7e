@testable import CLI
import Foundation
import XCTest

/// `man/dbsecrets.1` is what `dbsecrets __manpage` generates from the command declarations,
/// is clean under `mandoc -T lint`, and documents the environment, files and exit codes.
final class ManPageTests: XCTestCase {
    static let committedURL = CompletionHarness.packageRoot.appendingPathComponent("man/dbsecrets.1")

    func testCommittedPageIsWhatTheCommandGenerates() throws {
        var out = ""
        let terminal = Terminal(environment: [:], stdoutIsTerminal: false, out: { out += $0 }, err: { XCTFail($0) }, stdin: { Data() })
        XCTAssertEqual(CommandLineTool.run(["__manpage"], terminal: terminal), 0)
        XCTAssertEqual(try String(contentsOf: Self.committedURL, encoding: .utf8), out,
                       "man/dbsecrets.1 is stale: regenerate it with 'make generated BINARY=.build/debug/dbsecrets'")
    }

    func testMandocLintIsClean() throws {
        try CompletionHarness.require("/usr/bin/mandoc", "mandoc")
        let result = try CompletionHarness.run("/usr/bin/mandoc", ["-T", "lint", Self.committedURL.path], environment: ["PATH": "/usr/bin:/bin"])
        XCTAssertEqual(result.out + result.err, "")
        XCTAssertEqual(result.status, 0)
    }

    static func rendered() throws -> String {
        let result = try CompletionHarness.run("/usr/bin/mandoc", ["-T", "ascii", "-O", "width=200", committedURL.path], environment: ["PATH": "/usr/bin:/bin"])
        XCTAssertEqual(result.status, 0, result.err)
        // Bold and underline are overstrikes in ASCII output.
        return result.out.replacingOccurrences(of: #".\x08"#, with: "", options: .regularExpression)
    }

    func testEnvironmentFilesAndExitCodesAreDocumented() throws {
        try CompletionHarness.require("/usr/bin/mandoc", "mandoc")
        let page = try Self.rendered()
        func section(_ name: String) -> String {
            guard let start = page.range(of: "\n\(name)\n") else { XCTFail("no \(name) section"); return "" }
            let rest = page[start.upperBound...]
            let end = rest.range(of: #"\n[A-Z][A-Z ]+\n"#, options: .regularExpression)?.lowerBound ?? rest.endIndex
            return "\n" + String(rest[..<end])
        }
        let environment = section("ENVIRONMENT")
        for name in ["DBSECRETS_STATE_DIR", "XDG_STATE_HOME", "DBSECRETS_FORMAT", "VAULT_FORMAT", "DBSECRETS_DISPLAY_NAME", "NO_COLOR"] {
            XCTAssertTrue(environment.contains(name), "ENVIRONMENT lacks \(name)")
        }
        for flag in CommandLineTool.commands.flatMap(\.flags) {
            if let variable = flag.environmentVariable { XCTAssertTrue(environment.contains(variable), "ENVIRONMENT lacks \(variable)") }
        }
        let files = section("FILES")
        for entry in ["config/NAME.json", "roles/NAME.json", "static-roles/NAME.json", "password-policies/NAME.json",
                      "leases/ROLE.ID.json", "lease-expiry/MINUTE/ROLE.ID", "intents/KIND-NAME.json", "locks/KIND-NAME.lock"] {
            XCTAssertTrue(files.contains(entry), "FILES lacks \(entry)")
        }
        let exit = section("EXIT STATUS")
        for code in ["0", "1", "2", "127"] {
            XCTAssertNotNil(exit.range(of: "\n *\(code) +[A-Z]", options: .regularExpression), "EXIT STATUS lacks \(code)")
        }
        let paths = section("ENGINE PATHS")
        for path in ["database/config/NAME", "database/roles/NAME", "database/static-roles/NAME", "database/creds/NAME",
                     "database/static-creds/NAME", "database/rotate-root/NAME", "database/rotate-role/NAME",
                     "database/reset/NAME", "sys/policies/password/NAME"] {
            XCTAssertTrue(paths.contains(path), "ENGINE PATHS lacks \(path)")
        }
        XCTAssertTrue(section("EXAMPLES").contains("dbsecrets read database/creds/ro"))
    }

    /// Dashes in commands are ASCII in the rendered page, so examples paste as typed.
    func testExamplesRenderWithAsciiDashes() throws {
        try CompletionHarness.require("/usr/bin/mandoc", "mandoc")
        let result = try CompletionHarness.run("/usr/bin/mandoc", ["-T", "utf8", Self.committedURL.path], environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"])
        let plain = result.out.replacingOccurrences(of: #".\x08"#, with: "", options: .regularExpression)
        XCTAssertTrue(plain.contains("dbsecrets write -f database/rotate-root/pg"))
        XCTAssertTrue(plain.contains("dbsecrets lease renew -increment=30m database/creds/ro/"))
    }
}
