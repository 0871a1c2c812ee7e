import Foundation
import XCTest

/// `Tests/servers/hostile-server`, a scripted impostor on 127.0.0.1 that plays one scenario to
/// every client and records all it receives. Started and stopped by pid.
public final class HostileServer {
    public let port: Int
    private let process: Process
    private let folder: TemporaryFolder
    private let recordURL: URL

    public convenience init(_ protocolName: String, _ scenario: String, lifetime: TimeInterval = 30) throws {
        try self.init(script: "hostile-server", before: [protocolName, scenario], after: [String(lifetime)])
    }

    /// Another script of Tests/servers with the same contract: `SCRIPT BEFORE… PORT_FILE RECORD_FILE AFTER…`.
    public init(script: String, before: [String], after: [String]) throws {
        folder = TemporaryFolder("dbsecrets-hostile")
        recordURL = folder.url.appendingPathComponent("received")
        let portURL = folder.url.appendingPathComponent("port")
        process = Process()
        process.executableURL = URL(fileURLWithPath: PackageRoot.url.path + "/Tests/servers/" + script)
        process.arguments = before + [portURL.path, recordURL.path] + after
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        var found: Int?
        while found == nil && Date() < deadline && process.isRunning {
            found = (try? String(contentsOf: portURL, encoding: .utf8)).flatMap { Int($0) }
            if found == nil { usleep(20_000) }
        }
        guard let found else {
            process.terminate()
            folder.remove()
            throw NSError(domain: "HostileServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(script) did not start"])
        }
        port = found
    }

    /// Everything clients sent so far.
    public var received: Data { (try? Data(contentsOf: recordURL)) ?? Data() }

    /// Whether `secret` (as UTF-8) is anywhere in what clients sent.
    public func received(_ secret: String) -> Bool {
        received.range(of: Data(secret.utf8)) != nil
    }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        folder.remove()
    }

    deinit { stop() }
}
