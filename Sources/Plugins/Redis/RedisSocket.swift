import Foundation
import Glibc

/// A blocking-style TCP connection on a non-blocking POSIX socket, so that every connect, read
/// and write is bounded by poll(2) and a hung server cannot hang us.
final class RedisSocket {
    let endpoint: String
    private var fd: Int32

    /// Resolves `host`, then tries each address until one connects within what is left of `timeout`.
    init(host: String, port: Int, timeout: TimeInterval) throws(RedisError) {
        let endpoint = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        self.endpoint = endpoint
        let deadline = Date().addingTimeInterval(timeout)

        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            let reason = status == 0 ? "no address" : String(cString: gai_strerror(status))
            throw RedisError(.connection, "could not resolve Redis host \(host) (\(endpoint)): \(reason)")
        }
        defer { freeaddrinfo(list) }

        var lastError = RedisError(.connection, "could not connect to Redis at \(endpoint)")
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let s = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard s >= 0 else {
                lastError = RedisError(.connection, "could not connect to Redis at \(endpoint): \(Self.errnoText())")
                continue
            }
            do {
                try Self.connect(s, info.pointee.ai_addr, info.pointee.ai_addrlen, deadline: deadline,
                                 endpoint: endpoint, timeout: timeout)
                fd = s
                var one: Int32 = 1
                _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return
            } catch {
                Glibc.close(s)
                lastError = error
                if error.kind == .timeout { break }
            }
        }
        throw lastError
    }

    private static func connect(_ s: Int32, _ address: UnsafeMutablePointer<sockaddr>!, _ length: socklen_t,
                                deadline: Date, endpoint: String, timeout: TimeInterval) throws(RedisError) {
        let flags = fcntl(s, F_GETFL, 0)
        _ = fcntl(s, F_SETFL, flags | O_NONBLOCK)
        _ = fcntl(s, F_SETFD, FD_CLOEXEC)
        if Glibc.connect(s, address, length) == 0 { return }
        guard errno == EINPROGRESS else {
            throw RedisError(.connection, "could not connect to Redis at \(endpoint): \(errnoText())")
        }
        guard try waitFor(s, events: Int16(POLLOUT), until: deadline) else {
            throw RedisError(.timeout, "timed out after \(seconds(timeout)) connecting to Redis at \(endpoint)")
        }
        var soError: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(s, SOL_SOCKET, SO_ERROR, &soError, &size)
        guard soError == 0 else {
            throw RedisError(.connection, "could not connect to Redis at \(endpoint): \(String(cString: strerror(soError)))")
        }
    }

    deinit { close() }

    func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    var isOpen: Bool { fd >= 0 }

    func write(_ bytes: [UInt8], deadline: Date, timeout: TimeInterval) throws(RedisError) {
        var offset = 0
        while offset < bytes.count {
            guard fd >= 0 else { throw RedisError(.connection, "connection to Redis at \(endpoint) is closed") }
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                offset += n
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                guard try Self.waitFor(fd, events: Int16(POLLOUT), until: deadline) else {
                    throw RedisError(.timeout, "timed out after \(Self.seconds(timeout)) sending to Redis at \(endpoint)")
                }
            } else {
                throw RedisError(.connection, "lost the connection to Redis at \(endpoint): \(Self.errnoText())")
            }
        }
    }

    /// Appends whatever arrives next to `buffer`, waiting at most until `deadline`.
    func read(into buffer: inout [UInt8], deadline: Date, timeout: TimeInterval) throws(RedisError) {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            guard fd >= 0 else { throw RedisError(.connection, "connection to Redis at \(endpoint) is closed") }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
                return
            }
            if n == 0 {
                throw RedisError(.connection, "Redis at \(endpoint) closed the connection")
            }
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else {
                throw RedisError(.connection, "lost the connection to Redis at \(endpoint): \(Self.errnoText())")
            }
            guard try Self.waitFor(fd, events: Int16(POLLIN), until: deadline) else {
                throw RedisError(.timeout, "timed out after \(Self.seconds(timeout)) waiting for a reply from Redis at \(endpoint)")
            }
        }
    }

    /// True when the socket is ready, false when the deadline passed first.
    private static func waitFor(_ s: Int32, events: Int16, until deadline: Date) throws(RedisError) -> Bool {
        while true {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return false }
            var pfd = pollfd(fd: s, events: events, revents: 0)
            let ms = Int32(min(remaining * 1000, Double(Int32.max)).rounded(.up))
            let r = poll(&pfd, 1, ms)
            if r > 0 { return true }
            if r < 0 && errno != EINTR {
                throw RedisError(.connection, "poll failed: \(errnoText())")
            }
        }
    }

    static func seconds(_ t: TimeInterval) -> String {
        t == t.rounded() ? "\(Int(t))s" : String(format: "%.1fs", t)
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
