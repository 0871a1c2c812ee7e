import Engine
import Foundation

/// `version`, `help`, `completion`, and the hidden `__complete` that completion scripts call.
enum ToolCommands {
    static let version = Command(
        path: ["version"], synopsis: "Prints the dbsecrets version",
        usage: "dbsecrets version", description: "Prints the version of dbsecrets.",
        run: { inv in
            inv.terminal.out("dbsecrets v\(CommandLineTool.version)\n")
            return 0
        })

    static let help = Command(
        path: ["help"], synopsis: "Prints help for a command",
        usage: "dbsecrets help [COMMAND...]", description: "Prints the help of a command, or the list of commands.",
        run: { inv in
            let target = CommandLineTool.longestMatch(inv.positionals)
            guard let target, !inv.positionals.isEmpty else {
                inv.terminal.out(HelpText.topLevel(CommandLineTool.commands))
                return 0
            }
            let subs = CommandLineTool.commands.filter { $0.path.count == target.path.count + 1 && Array($0.path.prefix(target.path.count)) == target.path }
            inv.terminal.out(HelpText.forCommand(target, subcommands: subs))
            return 0
        })

    static let all = [version, help]

    static func completeFromBash(line: String, terminal: Terminal) -> Int32 { 0 }
}
