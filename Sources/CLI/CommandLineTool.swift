import DBPlugin
import Engine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `dbsecrets` command line: finds the command, applies Vault's argument rules, runs it,
/// and turns every failure into a message on stderr and an exit code, in this one place:
/// 0 success, 1 local usage errors, 2 engine errors and missing values, 127 unknown command.
public enum CommandLineTool {
    public static let version = "0.1.0"

    /// Every command, in the order help lists them.
    static let commands: [Command] = families.flatMap { $0.commands() }

    /// The commands in families, each under the first words of its commands' paths: a command's
    /// start builds only its own family's table. Building every command's text and flags was a
    /// fifth of `read`'s start-up. `CommandTableTests` checks the words against the commands.
    static let families: [CommandFamily] = [
        CommandFamily(["read", "write", "list", "delete"]) { DataCommands.all },
        CommandFamily(["lease"]) { LeaseCommands.all },
        CommandFamily(["secrets"]) { SecretsCommands.all },
        CommandFamily(["config", "roles", "static-roles", "creds", "static-creds", "rotate-root", "rotate-role"]) {
            ShortcutCommands.all
        },
        CommandFamily(["tidy", "agent"]) { SchedulerCommands.all },
        CommandFamily(["exec"]) { [ExecCommand.command] },
        CommandFamily(["server"]) { ServerCommands.all },
        CommandFamily(["export"]) { ExportCommands.all },
        CommandFamily(["path-help"]) { PathHelpCommands.all },
        CommandFamily(["version", "help", "completion", "__complete", "__manpage"]) { ToolCommands.all },
    ]

    /// `arguments` excludes the program name. Tests pass their own plugin catalog, and their own
    /// mounts to see a path declaration reach every place it feeds.
    public static func run(_ arguments: [String], terminal: Terminal,
                           plugins: PluginCatalog = BuiltinPlugins.catalog, mounts: [Mount] = Engine.builtinMounts) -> Int32 {
        if let line = terminal.environment["COMP_LINE"], !line.isEmpty {
            return ToolCommands.completeFromBash(line: line, terminal: terminal, mounts: mounts)
        }
        if arguments.first == ToolCommands.complete.name {
            return ToolCommands.complete(Array(arguments.dropFirst()), terminal: terminal, mounts: mounts)
        }
        let secrets = SecretRegistry()
        let preScan: PreScan
        do {
            preScan = try PreScan(arguments, environment: terminal.environment)
        } catch {
            return report(error, help: nil, terminal: terminal, secrets: secrets)
        }
        guard let first = arguments.first else {
            terminal.err(HelpText.topLevel(commands))
            return 127
        }
        if ["-v", "-version", "--version"].contains(first) && arguments.count == 1 {
            terminal.out("dbsecrets v\(version)\n")
            return 0
        }
        if ["-h", "-help", "--help"].contains(first) {
            terminal.out(HelpText.topLevel(commands))
            return 0
        }
        if first.hasPrefix("-") {
            terminal.err("Invalid flags before the subcommand. If these flags are for\nthe subcommand, please put them after the subcommand.\n\n" + HelpText.topLevel(commands))
            return 1
        }
        guard let family = families.first(where: { $0.firstWords.contains(first) }),
              let command = longestMatch(arguments, in: family.commands()) else {
            terminal.err(HelpText.topLevel(commands))
            return 127
        }
        let rest = Array(arguments.dropFirst(command.path.count))
        let subcommands = family.commands().filter { $0.path.count == command.path.count + 1 && Array($0.path.prefix(command.path.count)) == command.path }
        let beforeDashes = rest.prefix { $0 != "--" }
        if beforeDashes.contains(where: { ["-h", "-help", "--help"].contains($0) }) {
            terminal.out(HelpText.forCommand(command, subcommands: subcommands))
            return 0
        }
        if case .subcommands = command.positional {
            terminal.err(HelpText.forCommand(command, subcommands: subcommands))
            return 1
        }
        do {
            var parsed = try FlagParser.parse(rest, specs: command.flags)
            var formatText = parsed.string("format") ?? preScan.format ?? "table"
            // `export -format=script` is its table: what it prints for a person to run.
            if formatText == OutputFormat.script && command.printsScript { formatText = "table" }
            let format = try OutputFormat(parsing: formatText)
            if !command.runsACommandLine {
                parsed.positionals = try trailingFlags(parsed.positionals, format: format, terminal: terminal)
            }
            if format == .raw && command.path != ["read"] {
                throw CommandFailure.usage("This command does not support the -format=raw option.")
            }
            let apiOutput: Invocation.APIOutput? = preScan.outputCurlString || parsed.bool("output-curl-string") ? .curlString
                : preScan.outputPolicy || parsed.bool("output-policy") ? .policy : nil
            let invocation = Invocation(command: command, arguments: parsed, terminal: terminal, format: format,
                                        stateDirectoryFlag: parsed.string("state-dir") ?? preScan.stateDir,
                                        plugins: plugins, secrets: secrets, mounts: mounts, apiOutput: apiOutput)
            return try command.run(invocation)
        } catch {
            return report(error, help: HelpText.forCommand(command, subcommands: subcommands), terminal: terminal, secrets: secrets)
        }
    }

    /// The one way out for every failure: one message on stderr, with every secret this process
    /// has seen redacted and control characters made visible, and its exit code.
    /// `help` is built only when shown: its text costs more than a short command's own work.
    static func report(_ error: Error, help: @autoclosure () -> String?, terminal: Terminal, secrets: SecretRegistry) -> Int32 {
        let failure = CommandFailure(error)
        if failure.kind == .printedInstead { return failure.exitCode }
        if !failure.message.isEmpty {
            let text = secrets.clean(Self.visible(failure.message, keepingNewlines: failure.kind == .usage)) + "\n"
            terminal.err(failure.kind == .engine ? terminal.coloredForStderr(text, code: "31") : text)
        }
        if failure.showHelp, let help = help() { terminal.err("\n" + help) }
        return failure.exitCode
    }

    /// A message as it may reach a terminal: the user's own arguments are echoed in errors, and
    /// a NUL, a newline or an escape sequence in a name must show as text, not act on the
    /// terminal or split an engine error (always one line) in two.
    static func visible(_ message: String, keepingNewlines: Bool) -> String {
        func hidden(_ scalar: Unicode.Scalar) -> Bool {
            (scalar.value < 0x20 && scalar != "\t" && !(keepingNewlines && scalar == "\n")) || scalar.value == 0x7f
        }
        guard message.unicodeScalars.contains(where: hidden) else { return message }
        return message.unicodeScalars.map { hidden($0) ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined()
    }

    /// The command with the longest path the arguments start with (the first of equals). A plain
    /// loop: slices compared as arrays build generic metadata that cost a tenth of `read`'s start-up.
    static func longestMatch(_ arguments: [String], in commands: [Command]) -> Command? {
        var best: Command?
        for command in commands where command.path.count <= arguments.count && command.path.count > (best?.path.count ?? 0) {
            if command.path.indices.allSatisfy({ command.path[$0] == arguments[$0] }) { best = command }
        }
        return best
    }

    /// Vault warns about flags after the path and treats them as data. The global flags found by
    /// the pre-scan are dropped instead of becoming data keys (e.g. a `-format` connection
    /// parameter), which Vault would store.
    static func trailingFlags(_ positionals: [String], format: OutputFormat, terminal: Terminal) throws -> [String] {
        var kept: [String] = []
        var skipNext = false
        var misplaced: [String] = []
        for (i, arg) in positionals.enumerated() {
            if skipNext { skipNext = false; continue }
            if i > 0 || !arg.hasPrefix("-") || arg == "-" {
                if arg.hasPrefix("-") && arg != "-" {
                    let name = String(arg.drop { $0 == "-" }.prefix { $0 != "=" })
                    if CommonFlags.globalNames.contains(name) {
                        skipNext = !arg.contains("=") && !CommonFlags.globalBoolNames.contains(name)
                        continue
                    }
                    misplaced.append(arg)
                }
            }
            kept.append(arg)
        }
        if !misplaced.isEmpty && format == .table {
            terminal.err("Command flags must be provided before positional arguments. The following arguments will not be parsed as flags: [\(misplaced.joined(separator: ","))]\n")
        }
        return kept
    }
}

/// Commands whose paths start with one of `firstWords`, built at their first use.
struct CommandFamily: Sendable {
    let firstWords: [String]
    let commands: @Sendable () -> [Command]

    init(_ firstWords: [String], _ commands: @escaping @Sendable () -> [Command]) {
        self.firstWords = firstWords
        self.commands = commands
    }
}

/// `-format` and `-state-dir` are honoured anywhere on the line (before `--`), as Vault's
/// pre-scan does for `-format`; then the environment.
struct PreScan {
    var format: String?
    var stateDir: String?
    var outputCurlString = false
    var outputPolicy = false

    init(_ arguments: [String], environment: [String: String]) throws {
        var i = 0
        while i < arguments.count, arguments[i] != "--" {
            let arg = arguments[i]
            for name in ["output-curl-string", "output-policy"] where arg == "-\(name)" || arg == "--\(name)"
                || arg.hasPrefix("-\(name)=") || arg.hasPrefix("--\(name)=") {
                let value = arg.firstIndex(of: "=").map { FlagParser.parseBool(String(arg[arg.index(after: $0)...])) ?? false } ?? true
                if name == "output-curl-string" { outputCurlString = value } else { outputPolicy = value }
            }
            for name in ["format", "state-dir"] where arg == "-\(name)" || arg == "--\(name)" || arg.hasPrefix("-\(name)=") || arg.hasPrefix("--\(name)=") {
                var value: String?
                if let eq = arg.firstIndex(of: "=") {
                    value = String(arg[arg.index(after: eq)...])
                } else if i + 1 < arguments.count {
                    value = arguments[i + 1]
                }
                if name == "format" { format = value?.lowercased() } else { stateDir = value }
            }
            i += 1
        }
        if format == nil {
            format = (environment["DBSECRETS_FORMAT"].flatMap { $0.isEmpty ? nil : $0 }
                      ?? environment["VAULT_FORMAT"].flatMap { $0.isEmpty ? nil : $0 })?.lowercased()
        }
        if let format, !OutputFormat.names.contains(format) && format != OutputFormat.script {
            throw CommandFailure.usage("Invalid output format: \(format)")
        }
    }
}
