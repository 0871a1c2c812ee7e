@testable import CLI
import Foundation
import XCTest

/// Every command and every flag reaches all three places users look: `-h`, the man page and
/// shell completion. A command or flag added to the declarations without appearing in one of
/// them fails here.
final class CompletionCoverageTests: XCTestCase {
    func run(_ arguments: [String]) -> String {
        var out = ""
        let terminal = Terminal(environment: ["DBSECRETS_STATE_DIR": "/nonexistent/dbsecrets-coverage"], stdoutIsTerminal: false,
                                out: { out += $0 }, err: { _ in }, stdin: { Data() })
        _ = CommandLineTool.run(arguments, terminal: terminal)
        return out
    }

    var visible: [Command] { CommandLineTool.commands.filter { !$0.hidden } }

    /// The man page's entry of one command: from its `.Ss` to the next heading.
    func manEntry(_ command: Command) throws -> String {
        let page = try String(contentsOf: ManPageTests.committedURL, encoding: .utf8)
        guard let start = page.range(of: "\n.Ss \(command.name)\n") else { return "" }
        let rest = page[start.upperBound...]
        let end = rest.range(of: #"\n\.S[sh] "#, options: .regularExpression)?.lowerBound ?? rest.endIndex
        return String(rest[..<end])
    }

    func testEveryCommandIsInHelpTheManPageAndCompletion() throws {
        XCTAssertGreaterThan(visible.count, 20)
        for command in visible {
            let parent = Array(command.path.dropLast())
            let help = run(parent + ["-h"])
            XCTAssertNotNil(help.range(of: "\n    \(command.path.last!) ", options: []), "'\((["dbsecrets"] + parent).joined(separator: " ")) -h' lacks \(command.name)")
            let entry = try manEntry(command)
            XCTAssertTrue(entry.contains(".Cm \(command.name)\n"), "the man page has no entry for \(command.name)")
            let candidates = CompletionHarness.lines(run(["__complete"] + parent + [""]))
            XCTAssertTrue(candidates.contains(command.path.last!), "completion after '\(parent.joined(separator: " "))' lacks \(command.name)")
        }
    }

    func testEveryFlagIsInHelpTheManPageAndCompletion() throws {
        var checked = 0
        for command in visible {
            let help = run(command.path + ["-h"])
            let entry = try manEntry(command)
            let candidates = CompletionHarness.lines(run(["__complete"] + command.path + ["-"]))
            for flag in command.flags {
                checked += 1
                let written = flag.kind == .bool ? "  -\(flag.name)\n" : "  -\(flag.name)=<"
                XCTAssertTrue(help.contains(written), "'dbsecrets \(command.name) -h' lacks -\(flag.name)")
                XCTAssertTrue(entry.contains("Fl \(flag.name)"), "the man page entry of \(command.name) lacks -\(flag.name)")
                XCTAssertTrue(candidates.contains("-\(flag.name)") || candidates.contains("-\(flag.name)="),
                              "completion of '\(command.name) -' lacks -\(flag.name): \(candidates)")
            }
        }
        XCTAssertGreaterThan(checked, 50)
    }

    func testHiddenCommandsStayOutOfHelpAndCompletion() {
        let hidden = CommandLineTool.commands.filter(\.hidden)
        XCTAssertEqual(Set(hidden.map(\.name)), ["__complete", "__manpage"])
        let help = run(["-h"])
        let candidates = CompletionHarness.lines(run(["__complete", ""]))
        for command in hidden {
            XCTAssertFalse(help.contains(command.name))
            XCTAssertFalse(candidates.contains(command.name))
        }
    }
}
