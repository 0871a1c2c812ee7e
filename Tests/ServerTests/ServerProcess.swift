import Foundation
import TestSupport
import XCTest

/// The built `dbsecrets server`, as an operator starts it, on a private state folder and a port
/// the system picks; with `curl` and the CLI beside it on the same state.
final class ServerProcess: @unchecked Sendable {
    let folder: TemporaryFolder
    /// A folder given by the caller (a second server on the first one's state) stays.
    private let ownsFolder: Bool
    let process = Process()
    let logURL: URL
    var port = 0
    var environment: [String: String]

    var state: URL { folder.url.appendingPathComponent("state") }
    var address: String { "http://127.0.0.1:\(port)" }
    var token: String {
        (try? String(contentsOf: state.appendingPathComponent("server-token"), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    init(_ name: String, arguments: [String] = [], environment extra: [String: String] = [:], folder: TemporaryFolder? = nil) throws {
        try TestRequirement.builtBinary()
        try TestRequirement.program("/usr/bin/curl", from: "curl")
        self.folder = folder ?? TemporaryFolder(name)
        ownsFolder = folder == nil
        environment = ["DBSECRETS_STATE_DIR": self.folder.url.appendingPathComponent("state").path, "PATH": "/usr/bin:/bin",
                       "HOME": self.folder.path, "AWS_EC2_METADATA_DISABLED": "true"]
        environment.merge(extra) { _, new in new }
        logURL = self.folder.url.appendingPathComponent("server-\(UInt32.random(in: 0...UInt32.max)).log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logURL)
        process.executableURL = PackageRoot.binary
        process.arguments = ["server", "-address=127.0.0.1:0"] + arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline && process.isRunning {
            if let match = log.range(of: #"on https?://[0-9.]+:[0-9]+"#, options: .regularExpression) {
                port = Int(log[match].split(separator: ":").last ?? "") ?? 0
                break
            }
            usleep(20_000)
        }
        guard port > 0 else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            throw NSError(domain: "ServerProcess", code: 1, userInfo: [NSLocalizedDescriptionKey: "dbsecrets server did not start: \(log)"])
        }
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        if ownsFolder { folder.remove() }
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// SIGTERM (or `signal`), then the exit status, within `timeout`.
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM, timeout: TimeInterval = 20) -> Int32? {
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        guard !process.isRunning else { return nil }
        return process.terminationStatus
    }

    struct Answer {
        var status: Int
        var body: String
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] }
        var data: [String: Any]? { json?["data"] as? [String: Any] }
    }

    /// `curl` with `arguments` (the URL's `http://127.0.0.1:8200` is replaced by this server's
    /// address, and `X-Vault-Token: ...` by its token); the status and the body.
    func curl(_ arguments: [String], in directory: URL? = nil) throws -> Answer {
        let adapted = arguments.map { argument -> String in
            argument.replacingOccurrences(of: "http://127.0.0.1:8200", with: address)
                .replacingOccurrences(of: "X-Vault-Token: ...", with: "X-Vault-Token: \(token)")
        }
        let result = try ProcessRunner.run("/usr/bin/curl", ["--silent", "--show-error", "--max-time", "60",
                                                             "--write-out", "\n%{http_code}"] + adapted,
                                           in: directory ?? folder.url, timeout: 70)
        var lines = result.stdout.components(separatedBy: "\n")
        let status = Int(lines.popLast() ?? "") ?? 0
        return Answer(status: status, body: lines.joined(separator: "\n"))
    }

    /// A request with the token, like the seed documents' samples.
    func call(_ method: String, _ path: String, json body: String? = nil) throws -> Answer {
        var arguments = ["--header", "X-Vault-Token: ...", "--request", method]
        if let body { arguments += ["--data", body] }
        return try curl(arguments + ["http://127.0.0.1:8200/v1/" + path])
    }

    /// The CLI on the same state folder.
    @discardableResult
    func cli(_ arguments: [String], stdin: String? = nil) throws -> ProcessResult {
        try ProcessRunner.run(PackageRoot.binary.path, arguments, environment: environment, stdin: stdin, timeout: 60)
    }
}
