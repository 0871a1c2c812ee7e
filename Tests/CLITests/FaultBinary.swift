import Engine
import Foundation
import TestSupport
import XCTest

/// The built `dbsecrets` binary on a private state directory, timing every run: fault and
/// security tests watch real processes, exit codes and files, as an operator would.
final class FaultBinary: @unchecked Sendable {
    let folder: TemporaryFolder
    var extraEnvironment: [String: String] = [:]

    init(_ prefix: String) throws {
        try TestRequirement.builtBinary()
        folder = TemporaryFolder(prefix)
    }

    func remove() { folder.remove() }

    var state: URL { folder.url.appendingPathComponent("state") }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var seconds: TimeInterval
        var lines: [Substring] { stderr.split(separator: "\n") }
    }

    @discardableResult
    func run(_ args: [String], stdin: String? = nil, umask mask: String? = nil) throws -> Run {
        var environment = ["DBSECRETS_STATE_DIR": state.path, "PATH": "/usr/bin:/bin", "HOME": folder.path]
        environment.merge(extraEnvironment) { _, new in new }
        let started = Date()
        let result: ProcessResult
        if let mask {
            result = try ProcessRunner.run("/bin/sh", ["-c", "umask \(mask); exec \"$0\" \"$@\"", PackageRoot.binary.path] + args,
                                           environment: environment, stdin: stdin, timeout: 30)
        } else {
            result = try ProcessRunner.run(PackageRoot.binary.path, args, environment: environment, stdin: stdin, timeout: 30)
        }
        return Run(status: result.status, stdout: result.stdout, stderr: result.stderr, seconds: Date().timeIntervalSince(started))
    }

    @discardableResult
    func run(_ args: String..., stdin: String? = nil) throws -> Run { try run(args, stdin: stdin) }

    /// Starts a long-running command (an agent) in the background, its output discarded.
    func start(_ args: [String], log: String? = nil) throws -> Process {
        var environment = ["DBSECRETS_STATE_DIR": state.path, "PATH": "/usr/bin:/bin", "HOME": folder.path]
        environment.merge(extraEnvironment) { _, new in new }
        let process = Process()
        process.executableURL = PackageRoot.binary
        process.arguments = args
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        if let log {
            FileManager.default.createFile(atPath: log, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardOutput = handle
            process.standardError = handle
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        return process
    }

    /// As `run`, for a command that may run until stopped (the agent): still running after
    /// `stopAfter` seconds, it gets SIGTERM, as systemd would stop it.
    func run(_ args: [String], stdin: String?, stopAfter: TimeInterval?) throws -> Run {
        guard let stopAfter else { return try run(args, stdin: stdin) }
        return try runSignalled(args, stdin: stdin, after: stopAfter, signal: SIGTERM).run
    }

    /// Runs and kills the process with SIGKILL `delay` seconds after it started, if it has not
    /// finished by then; says whether it was killed.
    func runKilled(after delay: TimeInterval, _ args: [String], stdin: String?) throws -> Bool {
        try runSignalled(args, stdin: stdin, after: delay, signal: SIGKILL).signalled
    }

    private func runSignalled(_ args: [String], stdin: String?, after delay: TimeInterval,
                              signal: Int32) throws -> (run: Run, signalled: Bool) {
        var environment = ["DBSECRETS_STATE_DIR": state.path, "PATH": "/usr/bin:/bin", "HOME": folder.path]
        environment.merge(extraEnvironment) { _, new in new }
        let scratch = TemporaryFolder("dbsecrets-signalled")
        defer { scratch.remove() }
        let outURL = scratch.url.appendingPathComponent("out"), errURL = scratch.url.appendingPathComponent("err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = PackageRoot.binary
        process.arguments = args
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        if let stdin {
            let inURL = scratch.url.appendingPathComponent("in")
            try Data(stdin.utf8).write(to: inURL)
            process.standardInput = try FileHandle(forReadingFrom: inURL)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        let started = Date()
        try process.run()
        let deadline = started.addingTimeInterval(delay)
        while process.isRunning && Date() < deadline { usleep(1_000) }
        let signalled = process.isRunning
        if signalled { kill(process.processIdentifier, signal) }
        let hardDeadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < hardDeadline { usleep(2_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let run = Run(status: process.terminationStatus, stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "", seconds: Date().timeIntervalSince(started))
        return (run, signalled)
    }

    /// Every file under the state directory, relative, sorted (temp files included: none may be left).
    func stateFiles() -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: state.path) else { return [] }
        var files: [String] = []
        while let path = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: state.path + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(path)
            }
        }
        return files.sorted()
    }

    /// The leases as `lease list -format=json` shows them.
    func leases() throws -> [[String: Any]] {
        let listed = try run("lease", "list", "-format=json")
        XCTAssertEqual(listed.status, 0, listed.stderr)
        return (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    /// What the clock would do: make the retry of a failed revocation due now instead of waiting
    /// out its 10 to 30 s back-off, filing the lease in the index bucket of its new due time as
    /// the engine would.
    func makeLeaseRetryDueNow(_ leaseID: String) throws {
        let file = leaseID.split(separator: "/").suffix(2).joined(separator: ".")
        let past = Date().addingTimeInterval(-60)
        var lease = try stateObject("leases/\(file).json")
        lease["next_revoke_attempt"] = Timestamp.format(past)
        try JSONSerialization.data(withJSONObject: lease).write(to: state.appendingPathComponent("leases/\(file).json"))
        let bucket = String(format: "%012d", Int((past.timeIntervalSince1970 / 60).rounded(.down)))
        let folder = state.appendingPathComponent("lease-expiry/\(bucket)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: folder.appendingPathComponent(file).path, contents: Data())
    }

    /// A state file as a JSON object.
    func stateObject(_ relativePath: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: state.appendingPathComponent(relativePath))) as? [String: Any])
    }
}

struct FaultSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Asserts what every failure of a database call must look like: exit 2, one line on stderr that
/// names the server, no secret anywhere, and within the timeout.
func assertCleanDatabaseFailure(_ run: FaultBinary.Run, prefix: String, address: String, secrets: [String],
                                within seconds: TimeInterval, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(run.status, 2, run.stderr, file: file, line: line)
    XCTAssertEqual(run.lines.count, 1, "one line: \(run.stderr)", file: file, line: line)
    XCTAssertTrue(run.stderr.hasPrefix(prefix), run.stderr, file: file, line: line)
    XCTAssertTrue(run.stderr.contains(address), "names \(address): \(run.stderr)", file: file, line: line)
    XCTAssertEqual(run.stdout, "", file: file, line: line)
    for secret in secrets {
        XCTAssertFalse(run.stderr.contains(secret), "a secret in \(run.stderr)", file: file, line: line)
    }
    XCTAssertLessThan(run.seconds, seconds, "took \(run.seconds)s: \(run.stderr)", file: file, line: line)
}

func freePort() throws -> Int {
    let printed = try ProcessRunner.run(PackageRoot.url.path + "/Tests/servers/free-port", []).stdout
    return try XCTUnwrap(Int(printed.trimmingCharacters(in: .whitespacesAndNewlines)))
}

/// Runs a program that leaves a server behind (a start script), output appended to `log`. Not
/// through `Process`: Foundation learns that a child exited when a socket it hands the child
/// closes, and a server the child starts inherits that socket, so `waitUntilExit` would wait for
/// the server. posix_spawn with every other descriptor closed, then waitpid, has no such tie.
func runLeavingServers(_ executable: String, _ arguments: [String], log: URL) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.compactMap { Int32($0) } ?? []
    for fd in open where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
    guard spawned == 0 else { throw FaultSetupError("cannot start \(executable): \(String(cString: strerror(spawned)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    // WIFEXITED / WEXITSTATUS, which Swift does not import.
    return status & 0x7f == 0 ? (status >> 8) & 0xff : -1
}

/// `KEY=VALUE` lines of a start script's env file.
func serverEnvironment(_ file: URL) throws -> [String: String] {
    let text = try String(contentsOf: file, encoding: .utf8)
    return Dictionary(text.split(separator: "\n").compactMap { line -> (String, String)? in
        guard let eq = line.firstIndex(of: "=") else { return nil }
        return (String(line[..<eq]), String(line[line.index(after: eq)...]))
    }, uniquingKeysWith: { _, last in last })
}
