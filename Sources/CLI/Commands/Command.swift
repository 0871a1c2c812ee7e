import DBPlugin
import Engine
import Foundation

/// One command of the tool, declared once: its usage, description, examples and flags feed
/// parsing, `-h`, the man page and shell completion alike, so they cannot drift.
struct Command: Sendable {
    /// e.g. ["lease", "renew"].
    var path: [String]
    var synopsis: String
    var usage: String
    var description: String
    var examples: [(String, String)] = []
    var flags: [FlagSpec] = []
    var hidden = false
    /// Takes `-format=script` as its table format (`export`).
    var printsScript = false
    /// What shell completion offers for positional arguments.
    var positional: PositionalCompletion = .none
    var run: @Sendable (Invocation) throws -> Int32

    var name: String { path.joined(separator: " ") }

    enum PositionalCompletion: Sendable {
        case none
        /// `database/...` paths, completing names from the state directory.
        case enginePath
        /// Any engine path or mount, for `path-help`.
        case helpPath
        /// Names of one kind, e.g. connection names for `config read`.
        case names(ObjectKind)
        /// Subcommands of a group.
        case subcommands
        case leaseID
        case shells
        /// Command names, as `help` takes.
        case commands
    }
}

/// What a running command gets: its parsed flags and positionals, the terminal, the output
/// format, and the engine on the resolved state directory.
struct Invocation {
    let command: Command
    let arguments: ParsedArguments
    let terminal: Terminal
    let format: OutputFormat
    let stateDirectoryFlag: String?
    let plugins: PluginCatalog
    /// The secrets this command has seen, redacted from every error it prints.
    let secrets: SecretRegistry
    let mounts: [Mount]

    var positionals: [String] { arguments.positionals }

    var printer: ResponsePrinter { ResponsePrinter(terminal: terminal, format: format) }

    func makeEngine() -> Engine {
        let state = StateDirectory.resolve(flag: stateDirectoryFlag, environment: terminal.environment, secrets: secrets)
        return Engine(environment: BuiltinPlugins.environment(state: state, terminal: terminal, plugins: plugins, mounts: mounts))
    }

    func expectArguments(_ count: Int) throws {
        if positionals.count < count {
            throw CommandFailure.usage("Not enough arguments (expected \(count), got \(positionals.count))")
        }
        if positionals.count > count {
            throw CommandFailure.usage("Too many arguments (expected \(count), got \(positionals.count))")
        }
    }
}

/// Vault's path sanitizing (`EngineRequest.sanitizedPath`).
func sanitizePath(_ path: String) -> String {
    EngineRequest.sanitizedPath(path)
}
