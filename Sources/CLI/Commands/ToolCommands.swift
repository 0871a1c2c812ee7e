import Engine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `version`, `help`, `completion`, and the hidden `__complete` and `__manpage` that the
/// completion scripts and the build use.
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
        examples: [("Show the flags of 'lease renew':", "dbsecrets help lease renew")],
        positional: .commands,
        run: { inv in
            let target = CommandLineTool.longestMatch(inv.positionals, in: CommandLineTool.commands)
            guard let target, !inv.positionals.isEmpty else {
                inv.terminal.out(HelpText.topLevel(CommandLineTool.commands))
                return 0
            }
            let subs = CommandLineTool.commands.filter { $0.path.count == target.path.count + 1 && Array($0.path.prefix(target.path.count)) == target.path }
            inv.terminal.out(HelpText.forCommand(target, subcommands: subs))
            return 0
        })

    static let completion = Command(
        path: ["completion"], synopsis: "Prints a shell completion script",
        usage: "dbsecrets completion bash|zsh|fish",
        description: """
        Prints the completion script for the shell. It completes commands, flags and their values, \
        engine paths, the data keys of write, and the names of connections, roles, static roles, \
        password policies and leases found in the state directory (the one -state-dir or \
        DBSECRETS_STATE_DIR on the line being completed selects). Nothing is written to the \
        shell's startup files.

        'make install' installs the scripts where bash-completion, zsh and fish look for them.
        """,
        examples: [
            ("Use it in the current bash:", "source <(dbsecrets completion bash)"),
            ("Use it in the current zsh (after compinit):", "source <(dbsecrets completion zsh)"),
            ("Install it for fish:", "dbsecrets completion fish > ~/.config/fish/completions/dbsecrets.fish"),
        ],
        positional: .shells,
        run: { inv in
            try inv.expectArguments(1)
            guard let script = CompletionScripts.script(for: inv.positionals[0]) else {
                throw CommandFailure.usage("Unsupported shell \"\(inv.positionals[0])\": expected bash, zsh or fish")
            }
            inv.terminal.out(script)
            return 0
        })

    /// Routed by `CommandLineTool.run` before any flag parsing: the words are the user's
    /// partial line, not flags for this command.
    static let complete = Command(
        path: ["__complete"], synopsis: "Answers shell completion",
        usage: "dbsecrets __complete [WORD...] CURRENT",
        description: "Prints the candidates for CURRENT after the words already typed, one per line. The completion scripts call it.",
        hidden: true,
        run: { inv in complete(inv.positionals, terminal: inv.terminal, mounts: inv.mounts) })

    static let manpage = Command(
        path: ["__manpage"], synopsis: "Prints the man page",
        usage: "dbsecrets __manpage",
        description: "Prints the roff source of dbsecrets(1), generated from the command declarations.",
        hidden: true,
        run: { inv in
            try inv.expectArguments(0)
            inv.terminal.out(ManPage.render(CommandLineTool.commands, mounts: inv.mounts))
            return 0
        })

    static let all = [version, help, completion, complete, manpage]

    static func complete(_ words: [String], terminal: Terminal, mounts: [Mount]) -> Int32 {
        let candidates = Completer(commands: CommandLineTool.commands, mounts: mounts, environment: terminal.environment)
            .candidates(words.isEmpty ? [""] : words)
        terminal.out(candidates.map { $0 + "\n" }.joined())
        return 0
    }

    /// Vault's `complete -C dbsecrets dbsecrets` protocol: bash runs the program with the line
    /// in COMP_LINE and the cursor in COMP_POINT; it prints the candidates for the word under
    /// the cursor, cut after the last `=` or `:` since readline replaces only that part.
    static func completeFromBash(line: String, terminal: Terminal, mounts: [Mount]) -> Int32 {
        var bytes = Array(line.utf8)
        if let point = terminal.environment["COMP_POINT"].flatMap(Int.init), point >= 0, point < bytes.count {
            bytes = Array(bytes.prefix(point))
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var words = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
        if text.last.map({ $0 == " " || $0 == "\t" || $0 == "\n" }) ?? true { words.append("") }
        let current = words.last ?? ""
        let candidates = Completer(commands: CommandLineTool.commands, mounts: mounts, environment: terminal.environment)
            .candidates(Array(words.dropFirst()))
        let cut = current.lastIndex(where: { $0 == "=" || $0 == ":" }).map { current.distance(from: current.startIndex, to: $0) + 1 } ?? 0
        terminal.out(candidates.map { String($0.dropFirst(cut)) + "\n" }.joined())
        return 0
    }
}
