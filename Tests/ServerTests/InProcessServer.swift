import DBPlugin
import Engine
import Foundation
@testable import Server
import TLS
import TestSupport
import XCTest

/// A `VaultServer` on a loopback port the system picks, over a temporary state folder and a
/// `FakeDatabase`, run on a thread of its own until `stop()`.
final class InProcessServer: @unchecked Sendable {
    let folder = TemporaryFolder("dbsecrets-server")
    let database = FakeDatabase()
    let server: VaultServer
    let token = "hvs.test-token-0123456789"
    let port: Int
    private let lock = NSLock()
    private var stopRequested = false
    private var stopped = false
    private var lines: [String] = []
    private let finished = DispatchSemaphore(value: 0)

    init(limits: ServerLimits = ServerLimits(), unixPath: String? = nil, tls: TLSServerContextBox? = nil,
         drainTimeout: TimeInterval = 10, tcp: Bool = true) throws {
        var configuration = ServerConfiguration()
        if tcp { configuration.address = ("127.0.0.1", 0) }
        configuration.unixPath = unixPath
        configuration.tls = tls?.context
        configuration.limits = limits
        configuration.drainTimeout = drainTimeout
        let state = StateDirectory(root: folder.url.appendingPathComponent("state"))
        let box = LogBox()
        server = VaultServer(environment: EngineEnvironment(state: state, plugins: database.catalog()),
                             token: try ServerToken(token, source: "the test"), identity: ServerIdentity(dbsecretsVersion: "0.0.0"),
                             configuration: configuration, log: { box.append($0) }, dueWork: nil)
        _ = try server.listen()
        port = server.port ?? 0
        logBox = box
        let thread = Thread { [self] in
            server.run(until: { self.lock.withLock { self.stopRequested } })
            finished.signal()
        }
        thread.start()
    }

    private let logBox: LogBox

    /// The access log so far.
    var log: [String] { logBox.lines }

    /// Whether a log line matching `predicate` appears within `timeout` (a line is written just
    /// after its answer is sent).
    func logs(within timeout: TimeInterval = 2, _ predicate: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if log.contains(where: predicate) { return true }
            usleep(5_000)
        }
        return false
    }

    /// Asks the server to stop and waits until it has drained; false if it did not in time.
    @discardableResult
    func stop(within seconds: TimeInterval = 15) -> Bool {
        lock.withLock { stopRequested = true }
        if lock.withLock({ stopped }) { return true }
        guard finished.wait(timeout: .now() + seconds) == .success else { return false }
        lock.withLock { stopped = true }
        return true
    }

    deinit {
        stop()
        folder.remove()
    }

    func connect() throws -> HTTPTestClient {
        HTTPTestClient(try BlockingSocket.connect(host: "127.0.0.1", port: port, timeout: 2))
    }

    /// One request on a connection of its own.
    func request(_ method: String, _ path: String, token: String? = nil, body: String? = nil,
                 headers: [String] = []) throws -> HTTPTestClient.Response {
        let client = try connect()
        defer { client.close() }
        return try client.send(method, path, token: token ?? self.token, body: body, headers: headers)
    }
}

final class LogBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ line: String) { lock.withLock { stored.append(line) } }
    var lines: [String] { lock.withLock { stored } }
}

/// A TLS context for a test server, Sendable to hand over.
struct TLSServerContextBox {
    let context: TLSServerContext
}

/// A small HTTP/1.1 client over one connection, reading answers by their Content-Length.
final class HTTPTestClient {
    let stream: ByteStream
    private var buffer: [UInt8] = []

    init(_ stream: ByteStream) { self.stream = stream }

    struct Response {
        var status: Int
        var headers: [String: String]
        var body: String
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] }
        var data: [String: Any]? { json?["data"] as? [String: Any] }
        var errors: [String]? { json?["errors"] as? [String] }
    }

    func send(_ method: String, _ path: String, token: String?, body: String? = nil, headers: [String] = []) throws -> Response {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if let token { text += "X-Vault-Token: \(token)\r\n" }
        for header in headers { text += header + "\r\n" }
        if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + (body ?? "")
        try write(text)
        return try readResponse()
    }

    func write(_ text: String) throws {
        try stream.write(Array(text.utf8), deadline: Date().addingTimeInterval(5))
    }

    func readResponse(timeout: TimeInterval = 10, forHead: Bool = false) throws -> Response {
        let deadline = Date().addingTimeInterval(timeout)
        var headEnd: Int?
        while headEnd == nil {
            headEnd = find([13, 10, 13, 10])
            if headEnd == nil { buffer += try stream.readSome(deadline: deadline) }
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd! + 4)
        let lines = head.components(separatedBy: "\r\n")
        let status = Int(lines[0].split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        if status == 100 { return Response(status: 100, headers: headers, body: "") }
        let length = forHead ? 0 : Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count < length { buffer += try stream.readSome(deadline: deadline) }
        let body = String(decoding: buffer[..<length], as: UTF8.self)
        buffer.removeFirst(length)
        return Response(status: status, headers: headers, body: body)
    }

    /// True once the server has closed the connection (within `timeout`).
    func isClosedByServer(within timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            do throws(SocketError) {
                buffer += try stream.readSome(deadline: deadline)
            } catch {
                return error.kind == .closed || error.kind == .io
            }
        }
        return false
    }

    private func find(_ pattern: [UInt8]) -> Int? {
        guard buffer.count >= pattern.count else { return nil }
        for index in 0...(buffer.count - pattern.count) where Array(buffer[index..<index + pattern.count]) == pattern {
            return index
        }
        return nil
    }

    func close() { stream.close() }
}
