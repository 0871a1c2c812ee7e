import Basics
import DBPlugin
import Engine

/// Every way a command fails. Commands throw these; `CommandLineTool.run` prints them on stderr
/// and maps them to exit codes, in this one place:
/// 1 for a mistake in the command line, 2 for what the engine refused or could not find.
struct CommandFailure: Error, CustomStringConvertible {
    enum Kind {
        /// Flags, arguments, `k=v` data, `-field`: the user's command line (exit 1).
        case usage
        /// The engine refused or failed; the message carries Vault's prefix (exit 2).
        case engine
        /// Nothing at the path (exit 2); the message may be empty when stdout already said `{}`.
        case noValue
        /// The command printed what `-output-curl-string` or `-output-policy` asked for instead
        /// of sending its request (exit 0).
        case printedInstead
    }

    var kind: Kind
    var message: String
    /// For usage failures: show the command's help after the message.
    var showHelp = false

    static func usage(_ message: String, showHelp: Bool = false) -> CommandFailure {
        CommandFailure(kind: .usage, message: message, showHelp: showHelp)
    }

    /// `Error writing data to PATH: ` + the engine's sentence, kept on one line.
    static func engine(_ prefix: String, _ error: EngineError) -> CommandFailure {
        CommandFailure(kind: .engine, message: prefix + error.message.replacingEvery("\n", with: " "))
    }

    static func noValue(_ message: String) -> CommandFailure {
        CommandFailure(kind: .noValue, message: message)
    }

    /// Any error as a failure to print. An engine error outside a command's prefix is shown as it
    /// is; an error of any other type is named, never described: Foundation's errors describe the
    /// values they failed on, which may be whole records with their passwords.
    init(_ error: Error) {
        switch error {
        case let failure as CommandFailure: self = failure
        case let error as EngineError: self.init(kind: .engine, message: error.message.replacingEvery("\n", with: " "))
        default: self.init(kind: .engine, message: ErrorText.of(error))
        }
    }

    init(kind: Kind, message: String, showHelp: Bool = false) {
        self.kind = kind
        self.message = message
        self.showHelp = showHelp
    }

    var exitCode: Int32 {
        switch kind {
        case .usage: return 1
        case .engine, .noValue: return 2
        case .printedInstead: return 0
        }
    }

    var description: String { message }
}
