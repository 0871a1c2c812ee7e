import DBPlugin
import Foundation
import TLS

struct HTTPResponse: Sendable {
    var status: Int
    /// Lower-case names; a repeated header keeps its last value.
    var headers: [String: String]
    var body: Data
}

/// The request never got a complete HTTP answer: refused, unresolvable, TLS failure, timeout, or
/// a response too large or not HTTP. The text names `host:port`, never what was sent.
struct HTTPTransportError: Error, Sendable, CustomStringConvertible {
    var description: String
    var isTimeout: Bool
}

/// HTTP/1.1 over a `BlockingSocket`, with the TLS layer (`Sources/TLS`) for https URLs: one
/// request per connection (`Connection: close`), every step bounded by one deadline, the answer
/// bounded in size. The server's certificate must lead to a trusted root and name the host.
///
/// Ours rather than URLSession: on Linux, URLSession (libcurl underneath) cannot be given a CA
/// file (swift-corelibs-foundation reads `URLSessionCertificateAuthorityInfoFile` only on
/// Android), and AWS_CA_BUNDLE needs exactly that. It also bounds what a server may send, and
/// never goes through a proxy: AWS endpoints here are reached directly.
struct HTTPClient: Sendable {
    static let maximumHeaderBytes = 64 * 1024
    static let maximumBodyBytes = 4 * 1024 * 1024

    /// Per request: connect, TLS handshake, write and the whole answer together.
    var timeout: TimeInterval
    /// The system's store, or only the CA certificates of AWS_CA_BUNDLE.
    var trustRoots: TLSConfiguration.TrustRoots

    init(timeout: TimeInterval, trustRoots: TLSConfiguration.TrustRoots = .system) {
        self.timeout = timeout
        self.trustRoots = trustRoots
    }

    func post(url: URL, headers: [(String, String)], body: Data, timeout callTimeout: TimeInterval? = nil) throws -> HTTPResponse {
        try send("POST", url: url, headers: headers, body: body, timeout: callTimeout)
    }

    /// `timeout` may shorten the client's timeout for this call (a retry budget running out).
    func send(_ method: String, url: URL, headers: [(String, String)] = [], body: Data = Data(),
              timeout callTimeout: TimeInterval? = nil) throws -> HTTPResponse {
        let timeout = min(callTimeout ?? self.timeout, self.timeout)
        let address = Self.address(of: url)
        guard let host = url.host, !host.isEmpty, let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw HTTPTransportError(description: "cannot send a request to \(url.absoluteString): not an http(s) URL", isTimeout: false)
        }
        let bareHost = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        let deadline = Date().addingTimeInterval(timeout)
        let request = try Self.requestBytes(method, url: url, headers: headers, body: body)
        do {
            let socket = try BlockingSocket.connect(host: bareHost, port: port, timeout: timeout)
            let stream: ByteStream
            if scheme == "https" {
                let tls = TLSConfiguration(verification: .chainAndHost, trustRoots: trustRoots, serverName: bareHost,
                                           sendsServerName: !TLSConfiguration.isIPAddress(bareHost))
                stream = try TLSStream.handshake(over: socket, tls, deadline: deadline)
            } else {
                stream = socket
            }
            defer { stream.close() }
            try stream.write(request, deadline: deadline)
            var reader = ResponseReader(stream: stream, deadline: deadline, address: address, isHead: method == "HEAD")
            return try reader.read()
        } catch let error as SocketError {
            throw Self.describe(error, address: address, timeout: timeout)
        } catch let error as TLSError {
            if let socketError = error.socketError { throw Self.describe(socketError, address: address, timeout: timeout) }
            throw HTTPTransportError(description: error.message, isTimeout: false)
        }
    }

    /// `host:port` as the user would look for it in their configuration.
    static func address(of url: URL) -> String {
        var host = url.host ?? "?"
        if host.hasPrefix("[") { host = String(host.dropFirst().dropLast()) }
        let port = url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80)
        return BlockingSocket.address(host: host, port: port)
    }

    /// The Host header for this URL: the port only when it is not the scheme's default.
    static func hostHeader(_ url: URL) -> String {
        var host = url.host ?? ""
        if host.contains(":"), !host.hasPrefix("[") { host = "[\(host)]" }
        if let port = url.port { return "\(host):\(port)" }
        return host
    }

    private static func requestBytes(_ method: String, url: URL, headers: [(String, String)], body: Data) throws -> [UInt8] {
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        var target = components?.percentEncodedPath ?? "/"
        if target.isEmpty { target = "/" }
        if let query = components?.percentEncodedQuery { target += "?" + query }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(hostHeader(url))\r\n"
        for (name, value) in headers {
            // A token read from a file must not smuggle a second header or request.
            guard !name.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == ":" }),
                  !value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) else {
                throw HTTPTransportError(description: "the \(name) header for \(address(of: url)) contains a line break",
                                         isTimeout: false)
            }
            head += "\(name): \(value)\r\n"
        }
        if !body.isEmpty || method == "POST" || method == "PUT" { head += "Content-Length: \(body.count)\r\n" }
        head += "Connection: close\r\n\r\n"
        return Array(head.utf8) + Array(body)
    }

    private static func describe(_ error: SocketError, address: String, timeout: TimeInterval) -> HTTPTransportError {
        switch error.kind {
        case .timeout:
            return HTTPTransportError(description: "request to \(address) timed out after \(formatSeconds(timeout))", isTimeout: true)
        case .resolve:
            return HTTPTransportError(description: "could not reach \(address): host not found", isTimeout: false)
        case .closed:
            return HTTPTransportError(description: "could not reach \(address): connection closed before a complete response",
                                      isTimeout: false)
        case .stopped:
            return HTTPTransportError(description: "request to \(address) stopped: dbsecrets is stopping", isTimeout: false)
        case .connect, .io:
            let reason = error.reason.map { $0.prefix(1).lowercased() + $0.dropFirst() } ?? "connection failed"
            return HTTPTransportError(description: "could not reach \(address): \(reason)", isTimeout: false)
        }
    }
}

/// Reads one HTTP/1.1 response: status line, headers, then a body framed by Content-Length,
/// chunked encoding, or the end of the connection; interim 1xx answers are skipped.
private struct ResponseReader {
    let stream: ByteStream
    let deadline: Date
    let address: String
    let isHead: Bool
    var buffer: [UInt8] = []
    var ended = false

    init(stream: ByteStream, deadline: Date, address: String, isHead: Bool) {
        self.stream = stream
        self.deadline = deadline
        self.address = address
        self.isHead = isHead
    }

    mutating func read() throws -> HTTPResponse {
        while true {
            let (status, headers) = try readHead()
            if (100..<200).contains(status) { continue }
            var body: [UInt8] = []
            if !(isHead || status == 204 || status == 304) {
                if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
                    body = try readChunked()
                } else if let length = headers["content-length"] {
                    guard let count = Int(length.trimmingCharacters(in: .whitespaces)), count >= 0 else {
                        throw malformed("invalid Content-Length")
                    }
                    guard count <= HTTPClient.maximumBodyBytes else { throw tooLarge("body", HTTPClient.maximumBodyBytes) }
                    body = try readExactly(count)
                } else {
                    body = try readToEnd()
                }
            }
            return HTTPResponse(status: status, headers: headers, body: Data(body))
        }
    }

    private mutating func readHead() throws -> (Int, [String: String]) {
        let end = try readUntil([13, 10, 13, 10], limit: HTTPClient.maximumHeaderBytes, part: "header")
        let head = String(decoding: buffer[0..<end], as: UTF8.self)
        buffer.removeFirst(end + 4)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let status = Int(parts[1]) else {
            throw malformed("not an HTTP/1.x status line")
        }
        var headers: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw malformed("header line without a colon") }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, headers)
    }

    private mutating func readChunked() throws -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let lineEnd = try readUntil([13, 10], limit: 1024, part: "chunk size line")
            let sizeText = String(decoding: buffer[0..<lineEnd], as: UTF8.self)
                .split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            buffer.removeFirst(lineEnd + 2)
            guard let size = Int(sizeText, radix: 16), size >= 0 else { throw malformed("invalid chunk size") }
            if size == 0 {
                // Trailers, if any, end with an empty line.
                while true {
                    let end = try readUntil([13, 10], limit: HTTPClient.maximumHeaderBytes, part: "trailer")
                    buffer.removeFirst(end + 2)
                    if end == 0 { return body }
                }
            }
            guard body.count + size <= HTTPClient.maximumBodyBytes else { throw tooLarge("body", HTTPClient.maximumBodyBytes) }
            body += try readExactly(size)
            let crlf = try readExactly(2)
            guard crlf == [13, 10] else { throw malformed("chunk without its line end") }
        }
    }

    private mutating func readExactly(_ count: Int) throws -> [UInt8] {
        while buffer.count < count {
            guard try fill() else { throw closedEarly() }
        }
        let out = Array(buffer[0..<count])
        buffer.removeFirst(count)
        return out
    }

    private mutating func readToEnd() throws -> [UInt8] {
        while try fill() {
            guard buffer.count <= HTTPClient.maximumBodyBytes else { throw tooLarge("body", HTTPClient.maximumBodyBytes) }
        }
        defer { buffer = [] }
        return buffer
    }

    /// The offset of `marker` in the buffer, reading more until it appears within `limit` bytes.
    private mutating func readUntil(_ marker: [UInt8], limit: Int, part: String) throws -> Int {
        var searchFrom = 0
        while true {
            if buffer.count >= marker.count {
                var i = searchFrom
                while i + marker.count <= buffer.count {
                    if buffer[i] == marker[0], Array(buffer[i..<(i + marker.count)]) == marker { return i }
                    i += 1
                }
                searchFrom = max(0, buffer.count - marker.count + 1)
            }
            guard buffer.count <= limit else { throw tooLarge(part, limit) }
            guard try fill() else { throw closedEarly() }
        }
    }

    /// False at the end of the stream (the server closed it, with or without TLS's close_notify).
    private mutating func fill() throws -> Bool {
        if ended { return false }
        do {
            buffer += try stream.readSome(deadline: deadline)
            return true
        } catch {
            guard error.kind == .closed, error.byPeer else { throw error }
            ended = true
            return false
        }
    }

    private func malformed(_ why: String) -> HTTPTransportError {
        HTTPTransportError(description: "bad HTTP response from \(address): \(why)", isTimeout: false)
    }

    private func tooLarge(_ part: String, _ limit: Int) -> HTTPTransportError {
        let size = limit >= 1024 * 1024 ? "\(limit / 1024 / 1024) MiB" : limit >= 1024 ? "\(limit / 1024) KiB" : "\(limit) bytes"
        return HTTPTransportError(description: "bad HTTP response from \(address): its \(part) is larger than \(size)",
                                  isTimeout: false)
    }

    private func closedEarly() -> HTTPTransportError {
        HTTPTransportError(description: "could not reach \(address): connection closed before a complete response", isTimeout: false)
    }
}
