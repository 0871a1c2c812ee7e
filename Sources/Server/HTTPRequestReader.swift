import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads HTTP/1.x requests, one after another, from a client's stream: request line and headers
/// within `headerTimeout` and `maximumHeaderBytes`, the body (by `Content-Length` or chunked)
/// within `readTimeout` and `maximumRequestBytes`, each byte read once. Anything it cannot take is
/// a `Failure` that says whether the client gets an answer before the connection closes.
final class HTTPRequestReader {
    enum Failure: Error {
        /// The client closed, stayed idle past the idle timeout, or the server is stopping, all
        /// between two requests: close quietly.
        case noRequest
        /// The connection failed or timed out in the middle of a request: nothing can be answered.
        case broken(String)
        /// The request is one the server refuses: send this, then close.
        case refused(HTTPResponse, String)
    }

    private let stream: ByteStream
    private let limits: ServerLimits
    private var buffer: [UInt8] = []
    /// Bytes of `buffer` before this index are consumed.
    private var offset = 0

    init(stream: ByteStream, limits: ServerLimits) {
        self.stream = stream
        self.limits = limits
    }

    /// The next request, once it has begun (waiting until `idleUntil`, and no longer once
    /// `stopping()` says so) and arrived whole. `sendContinue` answers `Expect: 100-continue`
    /// before the body is read.
    func next(idleUntil: Date, stopping: () -> Bool, sendContinue: () throws(SocketError) -> Void) throws(Failure) -> HTTPRequest {
        try awaitFirstByte(idleUntil: idleUntil, stopping: stopping)
        let started = Date()
        let headerDeadline = started.addingTimeInterval(limits.headerTimeout)
        let bodyDeadline = started.addingTimeInterval(max(limits.readTimeout, limits.headerTimeout))
        var request = try readHead(deadline: headerDeadline)
        let framing = try bodyFraming(of: request)
        switch framing {
        case .none:
            break
        case .length(let count):
            if count > 0 { try continueIfAsked(request, sendContinue) }
            request.body = try take(count, deadline: bodyDeadline)
        case .chunked:
            try continueIfAsked(request, sendContinue)
            request.body = try readChunks(deadline: bodyDeadline)
        }
        compact()
        return request
    }

    // MARK: Between requests

    private func awaitFirstByte(idleUntil: Date, stopping: () -> Bool) throws(Failure) {
        while true {
            // Blank lines before a request line are allowed (RFC 9112, section 2.2).
            while offset < buffer.count, buffer[offset] == 0x0d || buffer[offset] == 0x0a { offset += 1 }
            if offset < buffer.count { return }
            if stopping() || Date() >= idleUntil { throw .noRequest }
            do throws(SocketError) {
                buffer += try stream.readSome(maxCount: 16 << 10, deadline: min(idleUntil, Date().addingTimeInterval(0.25)))
            } catch {
                if error.kind == .timeout { continue }
                throw .noRequest
            }
        }
    }

    // MARK: Request line and headers

    private func readHead(deadline: Date) throws(Failure) -> HTTPRequest {
        var searched = offset
        while true {
            let end = headEnd(from: &searched)
            if (end?.start ?? buffer.count) - offset > limits.maximumHeaderBytes {
                throw .refused(.plain(431, "431 Request Header Fields Too Large"), "headers larger than \(limits.maximumHeaderBytes) bytes")
            }
            if let end {
                let head = Array(buffer[offset..<end.start])
                offset = end.next
                return try parseHead(head)
            }
            try fill(deadline: deadline, during: "headers")
        }
    }

    /// Where the blank line that ends the head is: the head's end, and where the body begins.
    private func headEnd(from searched: inout Int) -> (start: Int, next: Int)? {
        var index = max(offset, searched - 3)
        while index < buffer.count {
            if buffer[index] == 0x0a {
                if index + 1 < buffer.count, buffer[index + 1] == 0x0a { return (index, index + 2) }
                if index + 2 < buffer.count, buffer[index + 1] == 0x0d, buffer[index + 2] == 0x0a { return (index, index + 3) }
            }
            index += 1
        }
        searched = buffer.count
        return nil
    }

    private func parseHead(_ head: [UInt8]) throws(Failure) -> HTTPRequest {
        func bad(_ why: String) -> Failure { .refused(.plain(400, "400 Bad Request"), why) }
        let lines = head.split(separator: 0x0a, omittingEmptySubsequences: false).map { line -> ArraySlice<UInt8> in
            line.last == 0x0d ? line.dropLast() : line
        }
        guard let first = lines.first else { throw bad("no request line") }
        let parts = first.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, let method = Self.token(parts[0]) else { throw bad("malformed request line") }
        let version = String(decoding: parts[2], as: UTF8.self)
        let minor: Int
        switch version {
        case "HTTP/1.1": minor = 1
        case "HTTP/1.0": minor = 0
        default:
            guard version.hasPrefix("HTTP/") else { throw bad("malformed request line") }
            throw .refused(.plain(505, "505 HTTP Version Not Supported"), "version \(version)")
        }
        guard let target = Self.visibleASCII(parts[1]), !target.isEmpty else { throw bad("malformed request target") }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: 0x3a), let name = Self.token(line[line.startIndex..<colon]) else {
                throw bad(line.first == 0x20 || line.first == 0x09 ? "folded header line" : "malformed header line")
            }
            let rawValue = line[(colon + 1)...]
            guard !rawValue.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7f }) else { throw bad("control character in a header") }
            let value = String(decoding: rawValue, as: UTF8.self).trimming(scalarsIn: " \t")
            headers.append((name.lowercased(), value))
            if headers.count > limits.maximumHeaderCount {
                throw .refused(.plain(431, "431 Request Header Fields Too Large"), "more than \(limits.maximumHeaderCount) headers")
            }
        }
        guard let (path, query) = Self.splitTarget(target) else { throw bad("malformed request target") }
        return HTTPRequest(method: method, target: target, path: path, query: query, minorVersion: minor, headers: headers)
    }

    /// RFC 9110's token: the characters of a method or a header name.
    static func token(_ bytes: ArraySlice<UInt8>) -> String? {
        guard !bytes.isEmpty, bytes.allSatisfy({ byte in
            (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
                || Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func visibleASCII(_ bytes: ArraySlice<UInt8>) -> String? {
        guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The decoded path and query of an origin-form (`/v1/…?…`) or absolute-form
    /// (`http://host/v1/…`) target; nil for a malformed one.
    static func splitTarget(_ target: String) -> (String, [(name: String, value: String)])? {
        var rest = Substring(target)
        for scheme in ["http://", "https://"] where rest.lowercased().hasPrefix(scheme) {
            rest = rest.dropFirst(scheme.count)
            guard let slash = rest.firstIndex(of: "/") else { return ("/", []) }
            rest = rest[slash...]
        }
        guard rest.hasPrefix("/") else { return nil }
        let rawPath = rest.prefix { $0 != "?" && $0 != "#" }
        let afterPath = rest.dropFirst(rawPath.count)
        let rawQuery = afterPath.hasPrefix("?") ? afterPath.dropFirst().prefix { $0 != "#" } : ""
        guard let path = PercentEncoding.decoded(rawPath, plusIsSpace: false), !path.unicodeScalars.contains("\0") else { return nil }
        var query: [(name: String, value: String)] = []
        for pair in rawQuery.split(separator: "&") where !pair.isEmpty {
            let name = pair.prefix { $0 != "=" }
            let value = pair.dropFirst(name.count).dropFirst()
            // Go's url.ParseQuery drops a pair it cannot decode; Vault then never sees it.
            guard let decodedName = PercentEncoding.decoded(name, plusIsSpace: true),
                  let decodedValue = PercentEncoding.decoded(value, plusIsSpace: true) else { continue }
            query.append((decodedName, decodedValue))
        }
        return (path, query)
    }

    // MARK: Body

    private enum Framing { case none, length(Int), chunked }

    private func bodyFraming(of request: HTTPRequest) throws(Failure) -> Framing {
        func bad(_ why: String) -> Failure { .refused(.plain(400, "400 Bad Request"), why) }
        let encodings = request.headers.filter { $0.name == "transfer-encoding" }.map(\.value)
        let lengths = Set(request.headers.filter { $0.name == "content-length" }.map(\.value))
        if !encodings.isEmpty {
            // Both framings at once is how requests are smuggled past a proxy: refused.
            guard lengths.isEmpty else { throw bad("both Transfer-Encoding and Content-Length") }
            guard encodings.count == 1, encodings[0].lowercased() == "chunked", request.minorVersion == 1 else {
                throw .refused(.plain(501, "501 Not Implemented: unsupported transfer encoding"), "transfer encoding \(encodings)")
            }
            return .chunked
        }
        guard let text = lengths.first else { return .none }
        guard lengths.count == 1, !text.isEmpty, text.count <= 18, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
              let count = Int(text) else { throw bad("invalid Content-Length") }
        guard count <= limits.maximumRequestBytes else { throw Self.tooLarge(limits) }
        return .length(count)
    }

    static func tooLarge(_ limits: ServerLimits) -> Failure {
        .refused(.json(413, VaultAPI.errorBody(["http: request body too large"])),
                 "body larger than \(limits.maximumRequestBytes) bytes")
    }

    private func continueIfAsked(_ request: HTTPRequest, _ sendContinue: () throws(SocketError) -> Void) throws(Failure) {
        guard let expect = request.header("expect") else { return }
        guard expect.lowercased() == "100-continue" else {
            throw .refused(.plain(417, "417 Expectation Failed"), "Expect: \(expect)")
        }
        guard request.minorVersion == 1, offset == buffer.count else { return }
        do throws(SocketError) {
            try sendContinue()
        } catch {
            throw .broken("\(error)")
        }
    }

    private func readChunks(deadline: Date) throws(Failure) -> [UInt8] {
        func bad(_ why: String) -> Failure { .refused(.plain(400, "400 Bad Request"), why) }
        var body: [UInt8] = []
        while true {
            let line = try readLine(deadline: deadline, limit: 4096)
            let sizeText = String(decoding: line.prefix { $0 != 0x3b }, as: UTF8.self).trimmingWhitespace()
            guard !sizeText.isEmpty, sizeText.count <= 16, let size = Int(sizeText, radix: 16), size >= 0 else {
                throw bad("invalid chunk size")
            }
            if size == 0 { break }
            guard body.count + size <= limits.maximumRequestBytes else { throw Self.tooLarge(limits) }
            body += try take(size, deadline: deadline)
            guard try readLine(deadline: deadline, limit: 2).isEmpty else { throw bad("chunk not followed by CRLF") }
        }
        // Trailers are read and dropped, bounded like headers.
        var trailerBytes = 0
        while true {
            let line = try readLine(deadline: deadline, limit: limits.maximumHeaderBytes)
            if line.isEmpty { return body }
            trailerBytes += line.count
            if trailerBytes > limits.maximumHeaderBytes {
                throw .refused(.plain(431, "431 Request Header Fields Too Large"), "trailers too large")
            }
        }
    }

    /// The next line without its CRLF (or LF), at most `limit` bytes long.
    private func readLine(deadline: Date, limit: Int) throws(Failure) -> [UInt8] {
        var searched = offset
        while true {
            if let newline = buffer[searched...].firstIndex(of: 0x0a) {
                var line = Array(buffer[offset..<newline])
                if line.last == 0x0d { line.removeLast() }
                offset = newline + 1
                return line
            }
            searched = buffer.count
            if buffer.count - offset > limit + 1 {
                throw .refused(.plain(400, "400 Bad Request"), "chunk line too long")
            }
            try fill(deadline: deadline, during: "body")
        }
    }

    private func take(_ count: Int, deadline: Date) throws(Failure) -> [UInt8] {
        while buffer.count - offset < count { try fill(deadline: deadline, during: "body") }
        let bytes = Array(buffer[offset..<(offset + count)])
        offset += count
        return bytes
    }

    private func fill(deadline: Date, during part: String) throws(Failure) {
        do throws(SocketError) {
            buffer += try stream.readSome(maxCount: 64 << 10, deadline: deadline)
        } catch {
            throw .broken(error.kind == .timeout ? "timed out reading the \(part)" : "\(error)")
        }
    }

    /// Drops consumed bytes, keeping what a pipelining client already sent of its next request.
    private func compact() {
        if offset > 0 {
            buffer.removeFirst(offset)
            offset = 0
        }
    }
}
