import Foundation

/// Runs a program to completion and keeps its output, for tests that need a real process
/// (a real binary, a real shell, a real database client).
public struct ProcessResult {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

public enum ProcessRunner {
    /// How long a database client (psql, mariadb, redis-cli, python3 with botocore) may take in a
    /// test: far more than any of them needs on loopback, far less than a hung test run.
    public static let clientTimeout: TimeInterval = 20

    /// Runs a program with its output captured in files, not pipes: no pipe can fill up, and a
    /// grandchild that keeps an inherited descriptor (a server, a shell's job) cannot hold the
    /// read open. A program still running after `timeout` seconds is killed and is an error.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           in folder: URL? = nil, stdin: String? = nil, timeout: TimeInterval = 60) throws -> ProcessResult {
        let scratch = TemporaryFolder("dbsecrets-process")
        defer { scratch.remove() }
        let outURL = scratch.url.appendingPathComponent("out"), errURL = scratch.url.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let folder { process.currentDirectoryURL = folder }
        let outHandle = try FileHandle(forWritingTo: outURL), errHandle = try FileHandle(forWritingTo: errURL)
        process.standardOutput = outHandle
        process.standardError = errHandle
        if let stdin {
            let inURL = scratch.url.appendingPathComponent("in")
            try Data(stdin.utf8).write(to: inURL)
            process.standardInput = try FileHandle(forReadingFrom: inURL)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        let timedOut = process.isRunning
        if timedOut { process.terminate() }
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        if timedOut {
            throw NSError(domain: "ProcessRunner", code: 1,
                          userInfo: [NSLocalizedDescriptionKey: "\(executable) \(arguments) did not finish within \(timeout)s"])
        }
        return ProcessResult(status: process.terminationStatus,
                             stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                             stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    /// `/usr/bin/env NAME` resolution for tools like psql and redis-cli.
    public static func which(_ name: String) -> String? {
        for dir in ["/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin", "/usr/lib/postgresql/15/bin"] {
            let path = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}
