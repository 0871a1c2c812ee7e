@testable import CLI
import XCTest

/// The command table is built family by family, found by a command's first word: a command
/// whose first word its family does not list could never be run.
final class CommandTableTests: XCTestCase {
    func testEveryCommandIsFoundThroughTheFamilyOfItsFirstWord() {
        for command in CommandLineTool.commands {
            let families = CommandLineTool.families.filter { $0.firstWords.contains(command.path[0]) }
            XCTAssertEqual(families.count, 1, "'\(command.name)': its first word is listed by \(families.count) families")
            XCTAssertTrue(families.first?.commands().contains { $0.path == command.path } ?? false,
                          "'\(command.name)' is not in the family of its first word")
        }
    }

    func testEveryFirstWordAFamilyListsStartsOneOfItsCommands() {
        for family in CommandLineTool.families {
            for word in family.firstWords {
                XCTAssertTrue(family.commands().contains { $0.path.first == word }, "'\(word)' starts none of its family's commands")
            }
        }
    }

    func testTheTableListsEveryFamilysCommandsOnce() {
        let names = CommandLineTool.commands.map(\.name)
        XCTAssertEqual(names.count, Set(names).count)
        XCTAssertEqual(names.count, CommandLineTool.families.map { $0.commands().count }.reduce(0, +))
    }
}
