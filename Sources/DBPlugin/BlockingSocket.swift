#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// A stream socket (TCP or Unix-domain) with a blocking-style API whose every connect, read and
/// write is bounded by a deadline, so a host that drops packets or a server that accepts and never
/// answers fails with an error naming it instead of hanging the command.
///
/// The descriptor stays non-blocking and every wait is a poll(2): a blocking connect cannot be
/// bounded, and a blocking send of a large buffer could outlive its deadline. The deadline is
/// checked before every send and receive too, not only when one would block: a server that keeps
/// sending must not hold the client past it. Waits are cut into slices so a `StopRequest` is
/// noticed within `waitSlice`. Not thread-safe.
public final class BlockingSocket: ByteStream {
    /// The longest single poll(2): how late a stop request may be noticed.
    public static let waitSlice: TimeInterval = 0.2

    /// `host:port` (`[v6]:port`) or the socket path: how errors name the server.
    public let address: String
    private var fd: Int32

    /// A connected descriptor, non-blocking (one `ListeningSocket` accepted).
    init(fd: Int32, address: String) {
        self.fd = fd
        self.address = address
    }

    deinit { close() }

    /// `host:port`, with brackets around an IPv6 literal.
    public static func address(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Resolves `host`, then tries each of its addresses in turn with what is left of `timeout`.
    public static func connect(host: String, port: Int, timeout: TimeInterval) throws(SocketError) -> BlockingSocket {
        let address = address(host: host, port: port)
        let deadline = Date().addingTimeInterval(timeout)
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            let reason = status == 0 ? "no address" : String(cString: gai_strerror(status))
            throw SocketError(.resolve, .connect, address: address, reason: reason)
        }
        defer { freeaddrinfo(list) }

        var lastError = SocketError(.resolve, .connect, address: address, reason: "no address")
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            do throws(SocketError) {
                let socket = try open(family: info.pointee.ai_family, address: address)
                try socket.finishConnect(to: info.pointee.ai_addr, length: info.pointee.ai_addrlen, deadline: deadline)
                var one: Int32 = 1
                setsockopt(socket.fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return socket
            } catch {
                lastError = error
                // The deadline covers all addresses: once it passed, the next one has no time left.
                if error.kind == .timeout || Date() >= deadline { break }
            }
        }
        throw lastError
    }

    /// Connects to a Unix-domain socket at `path`.
    public static func connect(unixPath path: String, timeout: TimeInterval) throws(SocketError) -> BlockingSocket {
        let deadline = Date().addingTimeInterval(timeout)
        var sun = sockaddr_un()
        sun.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: sun.sun_path) else {
            throw SocketError(.connect, .connect, address: path, reason: "socket path is too long")
        }
        withUnsafeMutableBytes(of: &sun.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let socket = try open(family: AF_UNIX, address: path)
        let length = socklen_t(MemoryLayout<sockaddr_un>.size)
        try withUnsafePointer(to: &sun) { (pointer) throws(SocketError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(SocketError) in
                try socket.finishConnect(to: sa, length: length, deadline: deadline)
            }
        }
        return socket
    }

    private static func open(family: Int32, address: String) throws(SocketError) -> BlockingSocket {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw SocketError(.connect, .connect, address: address, reason: "could not create a socket: \(errnoText())")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
        return BlockingSocket(fd: fd, address: address)
    }

    /// Non-blocking connect, then poll for writability: the only way to bound a connect to a host
    /// that never answers. On failure the descriptor is closed.
    private func finishConnect(to target: UnsafePointer<sockaddr>, length: socklen_t,
                               deadline: Date) throws(SocketError) {
        do throws(SocketError) {
            guard Glibc.connect(fd, target, length) != 0 else { return }
            let code = errno
            guard code == EINPROGRESS || code == EINTR else {
                throw SocketError(.connect, .connect, address: address, reason: Self.text(code))
            }
            try wait(for: Int16(POLLOUT), until: deadline, during: .connect)
            var soError: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &size)
            guard soError == 0 else {
                throw SocketError(.connect, .connect, address: address, reason: Self.text(soError))
            }
        } catch {
            close()
            throw error
        }
    }

    public var isOpen: Bool { fd >= 0 }

    /// Sends all of `bytes`, or throws once `deadline` passes.
    public func write(_ bytes: [UInt8], deadline: Date) throws(SocketError) {
        var offset = 0
        while offset < bytes.count {
            guard fd >= 0 else { throw SocketError(.closed, .write, address: address) }
            try checkTime(deadline, during: .write)
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                offset += n
                continue
            }
            let code = errno
            guard n < 0, code == EAGAIN || code == EWOULDBLOCK || code == EINTR else {
                throw SocketError(.io, .write, address: address, reason: Self.text(n < 0 ? code : EPIPE))
            }
            try wait(for: Int16(POLLOUT), until: deadline, during: .write)
        }
    }

    /// Whatever arrives next, at least one byte and at most `maxCount`, waiting until `deadline`.
    public func readSome(maxCount: Int = 16 * 1024, deadline: Date) throws(SocketError) -> [UInt8] {
        while true {
            guard fd >= 0 else { throw SocketError(.closed, .read, address: address) }
            try checkTime(deadline, during: .read)
            // Received into uninitialized storage: filling 16 KiB with zeros first, byte by byte,
            // cost more instructions than the rest of a Redis creds' reads. Only what came is kept.
            var n = 0
            let chunk = [UInt8](unsafeUninitializedCapacity: maxCount) { buffer, initialized in
                n = recv(fd, buffer.baseAddress, buffer.count, 0)
                initialized = max(n, 0)
            }
            if n > 0 { return Array(chunk[0..<n]) }
            if n == 0 { throw SocketError(.closed, .read, address: address, byPeer: true) }
            let code = errno
            guard code == EAGAIN || code == EWOULDBLOCK || code == EINTR else {
                throw SocketError(.io, .read, address: address, reason: Self.text(code))
            }
            try wait(for: Int16(POLLIN), until: deadline, during: .read)
        }
    }

    /// Closes the descriptor; safe to call more than once.
    public func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    /// Throws `.timeout` once the deadline has passed and `.stopped` once a stop was requested.
    private func checkTime(_ deadline: Date, during operation: SocketError.Operation) throws(SocketError) {
        if StopRequest.isRequested { throw SocketError(.stopped, operation, address: address) }
        if deadline.timeIntervalSinceNow <= 0 { throw SocketError(.timeout, operation, address: address) }
    }

    /// Returns once the socket is ready for `events`; throws `.timeout` when the deadline passes
    /// first, `.stopped` when a stop is requested meanwhile.
    private func wait(for events: Int16, until deadline: Date, during operation: SocketError.Operation) throws(SocketError) {
        while true {
            try checkTime(deadline, during: operation)
            let remaining = min(deadline.timeIntervalSinceNow, Self.waitSlice)
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&entry, 1, Int32(max(1, (remaining * 1000).rounded(.up))))
            if rc > 0 { return }
            let code = errno
            if rc < 0 && code != EINTR {
                let kind: SocketError.Kind = operation == .connect ? .connect : .io
                throw SocketError(kind, operation, address: address, reason: "poll: \(Self.text(code))")
            }
        }
    }

    private static func errnoText() -> String { text(errno) }
    private static func text(_ code: Int32) -> String { String(cString: strerror(code)) }
}
