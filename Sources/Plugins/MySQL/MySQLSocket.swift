import Foundation
import Glibc

/// Where a MySQL server listens.
public enum MySQLAddress: Sendable, Equatable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)

    /// How errors name the server: `host:port` or the socket path.
    public var description: String {
        switch self {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): return path
        }
    }
}

/// A blocking socket whose every wait is bounded by poll(2), so an unreachable or hung server
/// fails within the timeout with a message naming it.
final class MySQLSocket {
    let address: MySQLAddress
    private var fd: Int32
    private let readTimeout: Double
    private let writeTimeout: Double
    private var buffer: [UInt8] = []
    private var bufferStart = 0

    private init(fd: Int32, address: MySQLAddress, readTimeout: Double, writeTimeout: Double) {
        self.fd = fd
        self.address = address
        self.readTimeout = readTimeout
        self.writeTimeout = writeTimeout
    }

    deinit { close() }

    static func connect(to address: MySQLAddress, connectTimeout: Double, readTimeout: Double,
                        writeTimeout: Double) throws -> MySQLSocket {
        let deadline = Date().addingTimeInterval(connectTimeout)
        switch address {
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, String(port), &hints, &list)
            guard status == 0, let first = list else {
                let reason = String(cString: gai_strerror(status))
                throw MySQLError(.connection, "could not resolve \(address): \(reason)")
            }
            defer { freeaddrinfo(list) }
            var lastError = "no address"
            var entry: UnsafeMutablePointer<addrinfo>? = first
            while let info = entry {
                do {
                    let fd = try connectOne(family: info.pointee.ai_family, address: info.pointee.ai_addr,
                                            length: info.pointee.ai_addrlen, deadline: deadline,
                                            timeout: connectTimeout, name: address)
                    var one: Int32 = 1
                    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                    return MySQLSocket(fd: fd, address: address, readTimeout: readTimeout, writeTimeout: writeTimeout)
                } catch let error as MySQLError {
                    lastError = error.message
                    if Date() >= deadline { throw error }
                }
                entry = info.pointee.ai_next
            }
            throw MySQLError(.connection, lastError)
        case .unix(let path):
            var sun = sockaddr_un()
            sun.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: sun.sun_path) else {
                throw MySQLError(.connection, "socket path is too long: \(path)")
            }
            withUnsafeMutableBytes(of: &sun.sun_path) { raw in
                for (i, b) in bytes.enumerated() { raw[i] = b }
            }
            let fd = try withUnsafePointer(to: &sun) { pointer in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    try connectOne(family: AF_UNIX, address: sa, length: socklen_t(MemoryLayout<sockaddr_un>.size),
                                   deadline: deadline, timeout: connectTimeout, name: address)
                }
            }
            return MySQLSocket(fd: fd, address: address, readTimeout: readTimeout, writeTimeout: writeTimeout)
        }
    }

    /// Non-blocking connect, then poll for writability until the deadline.
    private static func connectOne(family: Int32, address: UnsafePointer<sockaddr>?, length: socklen_t,
                                   deadline: Date, timeout: Double, name: MySQLAddress) throws -> Int32 {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw MySQLError(.connection, "could not create a socket for \(name): \(errnoText())") }
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        if Glibc.connect(fd, address, length) != 0 {
            let code = errno
            guard code == EINPROGRESS || code == EINTR else {
                Glibc.close(fd)
                throw MySQLError(.connection, "could not connect to \(name): \(String(cString: strerror(code)))")
            }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = pollRetrying(&pfd, until: deadline)
            guard ready > 0 else {
                Glibc.close(fd)
                throw MySQLError(.connection, "timed out after \(formatSeconds(timeout)) connecting to \(name)")
            }
            var soError: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
            guard soError == 0 else {
                Glibc.close(fd)
                throw MySQLError(.connection, "could not connect to \(name): \(String(cString: strerror(soError)))")
            }
        }
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        return fd
    }

    private static func pollRetrying(_ pfd: inout pollfd, until deadline: Date) -> Int32 {
        while true {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return 0 }
            let result = poll(&pfd, 1, Int32(min(remaining * 1000, Double(Int32.max)).rounded(.up)))
            if result < 0 && errno == EINTR { continue }
            return result
        }
    }

    func write(_ bytes: [UInt8]) throws {
        guard fd >= 0 else { throw MySQLError(.connection, "connection to \(address) is closed") }
        let deadline = Date().addingTimeInterval(writeTimeout)
        var sent = 0
        while sent < bytes.count {
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            guard MySQLSocket.pollRetrying(&pfd, until: deadline) > 0 else {
                throw MySQLError(.connection, "timed out after \(formatSeconds(writeTimeout)) writing to \(address)")
            }
            let n = bytes[sent...].withUnsafeBytes { raw in
                send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw MySQLError(.connection, "could not write to \(address): \(errnoText())")
            }
            sent += n
        }
    }

    /// Exactly `count` bytes; each wait for data is bounded by the read timeout.
    func read(_ count: Int) throws -> [UInt8] {
        while buffer.count - bufferStart < count {
            try fill()
        }
        let out = Array(buffer[bufferStart..<bufferStart + count])
        bufferStart += count
        if bufferStart == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            bufferStart = 0
        }
        return out
    }

    private func fill() throws {
        guard fd >= 0 else { throw MySQLError(.connection, "connection to \(address) is closed") }
        let deadline = Date().addingTimeInterval(readTimeout)
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard MySQLSocket.pollRetrying(&pfd, until: deadline) > 0 else {
            throw MySQLError(.connection,
                             "timed out after \(formatSeconds(readTimeout)) waiting for \(address) to answer")
        }
        var chunk = [UInt8](repeating: 0, count: 16384)
        let n = chunk.withUnsafeMutableBytes { raw in recv(fd, raw.baseAddress, raw.count, 0) }
        if n < 0 {
            if errno == EINTR || errno == EAGAIN { return }
            throw MySQLError(.connection, "could not read from \(address): \(errnoText())")
        }
        if n == 0 {
            throw MySQLError(.connection, "\(address) closed the connection")
        }
        if bufferStart > 0 {
            buffer.removeFirst(bufferStart)
            bufferStart = 0
        }
        buffer.append(contentsOf: chunk[0..<n])
    }

    func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }
}

private func errnoText() -> String { String(cString: strerror(errno)) }

/// "1s", "0.5s", "30s": how timeouts appear in messages.
func formatSeconds(_ seconds: Double) -> String {
    if seconds == seconds.rounded() { return "\(Int(seconds))s" }
    return "\(seconds)s"
}
