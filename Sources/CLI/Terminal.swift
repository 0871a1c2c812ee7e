import Basics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Where a command reads and writes. The real one is the process's streams; tests capture.
public final class Terminal: @unchecked Sendable {
    public var environment: [String: String]
    public let stdoutIsTerminal: Bool
    public let stderrIsTerminal: Bool
    private let writeOut: (String) -> Void
    private let writeErr: (String) -> Void
    private let readIn: () -> Data
    private var stdinConsumed = false

    public init(environment: [String: String], stdoutIsTerminal: Bool, stderrIsTerminal: Bool = false,
                out: @escaping (String) -> Void, err: @escaping (String) -> Void, stdin: @escaping () -> Data) {
        self.environment = environment
        self.stdoutIsTerminal = stdoutIsTerminal
        self.stderrIsTerminal = stderrIsTerminal
        self.writeOut = out
        self.writeErr = err
        self.readIn = stdin
    }

    /// The process's own streams. stdout is flushed after every write, so piped output is
    /// line-buffered and never lost on exit.
    public static func process() -> Terminal {
        Terminal(environment: processEnvironment(),
                 stdoutIsTerminal: isatty(STDOUT_FILENO) == 1,
                 stderrIsTerminal: isatty(STDERR_FILENO) == 1,
                 out: { text in FileDescriptorIO.write(text.utf8, to: STDOUT_FILENO) },
                 err: { text in FileDescriptorIO.write(text.utf8, to: STDERR_FILENO) },
                 stdin: { Data(FileDescriptorIO.readToEnd(from: STDIN_FILENO)) })
    }

    func out(_ text: String) { writeOut(text) }
    func err(_ text: String) { writeErr(text) }

    /// Standard input, readable once per invocation, as Vault's `stdin already consumed`.
    func readStdin() throws -> Data {
        if stdinConsumed { throw CommandFailure.usage("stdin already consumed") }
        stdinConsumed = true
        return readIn()
    }

    /// Errors (red) and warnings (yellow) go to stderr, so stderr's own terminal decides their
    /// colour, as swift-format's diagnostics printer does: `dbsecrets … >out.json` still colours
    /// what reaches the screen, `2>log` never writes escapes. Never with `NO_COLOR` or `TERM=dumb`.
    var stderrIsColored: Bool {
        stderrIsTerminal && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
    }

    func coloredForStderr(_ text: String, code: String) -> String {
        stderrIsColored ? "\u{1b}[\(code)m" + text.trimmingNewlines() + "\u{1b}[0m\n" : text
    }
}
