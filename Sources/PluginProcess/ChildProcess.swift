#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A program dbsecrets starts, `exec`'s command or a rotation hook: run without a shell (the
/// first word is looked up in PATH, the rest are its arguments as they are), with an environment
/// of the caller's making, and waited for by polling, so the caller can renew a lease or notice a
/// stop meanwhile. Also the external plugins, over two pipes. Nothing of dbsecrets' own leaks into it: every descriptor but the three standard
/// ones is closed, and every signal disposition and the signal mask start as the defaults.
public final class ChildProcess {
    public let pid: pid_t
    private var status: Int32?

    public struct SpawnError: Error {
        public var message: String
        /// What a shell exits with for it: 127 for a program not found, 126 for one that cannot run.
        public var exitStatus: Int32
    }

    private init(pid: pid_t) { self.pid = pid }

    /// Starts `arguments[0]` with `arguments[1...]`. `stdoutToStderr`: the program's standard output
    /// goes where dbsecrets' errors go (a hook must not mix its output into `tidy -format=json`).
    /// `standardInput`/`standardOutput`: descriptors (a pipe's ends, opened close-on-exec) that
    /// become the program's standard input and output.
    public static func spawn(_ arguments: [String], environment: [String: String], stdinFromNull: Bool = false,
                             stdoutToStderr: Bool = false, standardInput: Int32? = nil,
                             standardOutput: Int32? = nil) throws -> ChildProcess {
        precondition(!arguments.isEmpty)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if stdinFromNull { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
        if stdoutToStderr { posix_spawn_file_actions_adddup2(&actions, 2, 1) }
        if let standardInput { posix_spawn_file_actions_adddup2(&actions, standardInput, 0) }
        if let standardOutput { posix_spawn_file_actions_adddup2(&actions, standardOutput, 1) }
        // Descriptors opened close-on-exec (the state folder's, sockets) close by themselves; any
        // other one is closed here.
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.compactMap { Int32($0) } ?? []
        for fd in open where fd > 2 {
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 && flags & FD_CLOEXEC == 0 { posix_spawn_file_actions_addclose(&actions, fd) }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard result == 0 else {
            let reason = String(cString: strerror(result))
            switch result {
            case ENOENT: throw SpawnError(message: "\(arguments[0]): command not found", exitStatus: 127)
            default: throw SpawnError(message: "cannot run \(arguments[0]): \(reason)", exitStatus: 126)
            }
        }
        return ChildProcess(pid: pid)
    }

    /// The exit status once the program has ended (as a shell reports it: its code, or 128 plus
    /// the signal that ended it), nil while it runs.
    public func poll() -> Int32? {
        if let status { return status }
        var raw: Int32 = 0
        let answer = waitpid(pid, &raw, WNOHANG)
        guard answer == pid else { return nil }
        status = Self.shellStatus(raw)
        return status
    }

    public func send(_ signal: Int32) {
        if status == nil { kill(pid, signal) }
    }

    /// Waits until the program ends, `seconds` pass (nil then) or `stop` says so (nil too),
    /// checking every 50 ms.
    public func wait(atMost seconds: TimeInterval, stop: () -> Bool = { false }) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && !stop() {
            if let status = poll() { return status }
            usleep(50_000)
        }
        return poll()
    }

    /// Blocks until the program ends; its exit status.
    @discardableResult
    public func waitUntilExit() -> Int32 {
        if let status { return status }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let status = Self.shellStatus(raw)
        self.status = status
        return status
    }

    /// WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import.
    private static func shellStatus(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }

    /// Asks the program to end (SIGTERM), and kills it if it has not within `grace` seconds.
    public func terminate(grace: TimeInterval) {
        send(SIGTERM)
        if wait(atMost: grace) == nil {
            send(SIGKILL)
            _ = wait(atMost: 5)
        }
    }
}
