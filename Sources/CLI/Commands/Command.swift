import DBPlugin
import Engine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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
    /// The positionals are another program's command line (`exec`): passed on as they are, never
    /// scanned for dbsecrets' own flags.
    var runsACommandLine = false
    /// What shell completion offers for positional arguments.
    var positional: PositionalCompletion = .none
    var run: @Sendable (Invocation) throws -> Int32

    /// Joined by hand: `joined(separator:)` looks up its generic witnesses at its first use, a
    /// scan of every conformance in the binary that every command's start would pay.
    var name: String {
        var name = ""
        for word in path { name += name.isEmpty ? word : " " + word }
        return name
    }

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
    /// `-output-curl-string` or `-output-policy`: print the request instead of sending it.
    var apiOutput: APIOutput?

    enum APIOutput {
        case curlString, policy
    }

    var positionals: [String] { arguments.positionals }

    var printer: ResponsePrinter { ResponsePrinter(terminal: terminal, format: format) }

    func makeEngine() -> Engine {
        let state = StateDirectory.resolve(flag: stateDirectoryFlag, environment: terminal.environment, secrets: secrets)
        return Engine(environment: BuiltinPlugins.environment(state: state, terminal: terminal, plugins: plugins, mounts: mounts))
    }

    /// One request to the engine, as `vault` sends one to Vault: with `-output-curl-string` or
    /// `-output-policy`, what Vault's request would be is printed instead and the command ends
    /// (exit 0). The engine's refusal becomes a failure with Vault's prefix for the command.
    func send(_ api: VaultAPIRequest, _ request: EngineRequest, errorPrefix: String,
              engine: Engine? = nil) throws -> EngineResponse? {
        secrets.add(requestData: request.data)
        try printInstead(api, secretKeys: Self.secretKeys(of: request.path, mounts: mounts))
        do {
            return try (engine ?? makeEngine()).handle(request)
        } catch let error as EngineError {
            throw CommandFailure.engine(errorPrefix, error)
        }
    }

    /// With `-output-curl-string` or `-output-policy`, prints `api` and ends the command.
    /// `secretKeys` is worked out only then: it matches the path against every declaration.
    func printInstead(_ api: VaultAPIRequest, secretKeys: @autoclosure () -> Set<String> = []) throws {
        guard let apiOutput else { return }
        switch apiOutput {
        case .curlString:
            let (text, hidden) = api.curlString(environment: terminal.environment, secretKeys: secretKeys())
            terminal.out(secrets.clean(text) + "\n")
            if !hidden.isEmpty {
                terminal.err("The value of \(hidden.sorted().joined(separator: ", ")) is not shown: put it in place of \(VaultAPIRequest.secretPlaceholder) in the body.\n")
            }
        case .policy:
            terminal.out(api.policy + "\n")
        }
        throw CommandFailure(kind: .printedInstead, message: "")
    }

    /// The data keys of the path that hold secrets: its declared secret fields, and for a
    /// connection, every plugin parameter the engine never reads back.
    static func secretKeys(of path: String, mounts: [Mount]) -> Set<String> {
        guard let target = DeclaredPath.matching(path, in: mounts) else { return Engine.secretConnectionParameters }
        var keys = Set(target.declaration.dataFields.filter(\.isSecret).map(\.name))
        if target.declaration.takesArbitraryInput { keys.formUnion(Engine.secretConnectionParameters) }
        return keys
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
