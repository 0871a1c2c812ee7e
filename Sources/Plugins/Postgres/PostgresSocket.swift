import Foundation
import Glibc

/// A blocking TCP (or Unix-domain) stream whose every connect, read and write is bounded by a
/// deadline, so a host that drops packets or a server that accepts and never answers fails with
/// a message naming the address instead of hanging the command.
final class PostgresSocket {
    /// "host:port" or the socket path, for error messages.
    let address: String
    private var fd: Int32

    private init(fd: Int32, address: String) {
        self.fd = fd
        self.address = address
    }

    deinit { close() }

    /// A host starting with "/" is a directory holding PostgreSQL's Unix socket, as in libpq.
    static func connect(host: String, port: Int, timeout: TimeInterval) throws -> PostgresSocket {
        let deadline = Date().addingTimeInterval(timeout)
        if host.hasPrefix("/") {
            return try connectUnix(path: "\(host)/.s.PGSQL.\(port)", timeout: timeout, deadline: deadline)
        }
        let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            let reason = String(cString: gai_strerror(rc))
            throw PostgresClientError.connect("failed to connect to \(address): cannot resolve host: \(reason)")
        }
        defer { freeaddrinfo(list) }

        var lastError = "failed to connect to \(address): no usable address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry, Date() < deadline {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if fd < 0 { lastError = "failed to connect to \(address): \(errnoText())"; continue }
            let socket = PostgresSocket(fd: fd, address: address)
            do {
                try socket.finishConnect(to: info.pointee.ai_addr, length: info.pointee.ai_addrlen,
                                         timeout: timeout, deadline: deadline)
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return socket
            } catch let error as PostgresClientError {
                lastError = error.message
                socket.close()
            }
        }
        throw PostgresClientError.connect(lastError)
    }

    private static func connectUnix(path: String, timeout: TimeInterval, deadline: Date) throws -> PostgresSocket {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PostgresClientError.connect("failed to connect to \(path): \(errnoText())") }
        let socket = PostgresSocket(fd: fd, address: path)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw PostgresClientError.connect("failed to connect to \(path): socket path too long")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        try withUnsafePointer(to: &addr) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                try socket.finishConnect(to: $0, length: socklen_t(MemoryLayout<sockaddr_un>.size),
                                         timeout: timeout, deadline: deadline)
            }
        }
        return socket
    }

    /// Non-blocking connect plus poll: the only way to bound a connect to a host that never answers.
    private func finishConnect(to addr: UnsafePointer<sockaddr>, length: socklen_t,
                               timeout: TimeInterval, deadline: Date) throws {
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        if Glibc.connect(fd, addr, length) != 0 {
            guard errno == EINPROGRESS else {
                throw PostgresClientError.connect("failed to connect to \(address): \(Self.errnoText())")
            }
            guard try waitFor(Int16(POLLOUT), deadline: deadline) else {
                throw PostgresClientError.connect(
                    "failed to connect to \(address): timed out after \(Self.describe(timeout))")
            }
            var soError: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &size)
            if soError != 0 {
                throw PostgresClientError.connect(
                    "failed to connect to \(address): \(String(cString: strerror(soError)))")
            }
        }
    }

    func write(_ bytes: [UInt8], deadline: Date) throws {
        var offset = 0
        while offset < bytes.count {
            guard fd >= 0 else { throw PostgresClientError.io("connection to \(address) is closed") }
            let n = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 { offset += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                guard try waitFor(Int16(POLLOUT), deadline: deadline) else {
                    throw PostgresClientError.timeout("timed out writing to \(address)")
                }
                continue
            }
            throw PostgresClientError.io("failed writing to \(address): \(Self.errnoText())")
        }
    }

    /// Reads whatever is available, at least one byte, before the deadline.
    func read(deadline: Date, timeoutMessage: @autoclosure () -> String) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            guard fd >= 0 else { throw PostgresClientError.io("connection to \(address) is closed") }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 { return Array(buffer[0..<n]) }
            if n == 0 { throw PostgresClientError.io("server at \(address) closed the connection") }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                guard try waitFor(Int16(POLLIN), deadline: deadline) else {
                    throw PostgresClientError.timeout(timeoutMessage())
                }
                continue
            }
            throw PostgresClientError.io("failed reading from \(address): \(Self.errnoText())")
        }
    }

    func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    private func waitFor(_ events: Int16, deadline: Date) throws -> Bool {
        while true {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return false }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&entry, 1, Int32(min((remaining * 1000).rounded(.up), Double(Int32.max))))
            if rc > 0 { return true }
            if rc < 0 && errno != EINTR {
                throw PostgresClientError.io("failed waiting on \(address): \(Self.errnoText())")
            }
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// "5s" or "1.5s": how a timeout reads in messages.
    static func describe(_ timeout: TimeInterval) -> String {
        timeout == timeout.rounded() ? "\(Int(timeout))s" : "\(timeout)s"
    }
}
