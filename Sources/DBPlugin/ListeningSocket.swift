#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// A listening stream socket, TCP or Unix-domain, for `dbsecrets server`: the other end of
/// `BlockingSocket`. Each accepted connection is a `BlockingSocket`, so a server reads and writes
/// with the same deadlines a client does.
///
/// Waits for connections are polls of at most `BlockingSocket.waitSlice`, so the caller can look
/// at its own stop flag between them. Descriptors are close-on-exec: a plugin process started by
/// a request never inherits the listener or another client's connection.
public final class ListeningSocket {
    /// `host:port` as bound (the port the system chose for port 0), or the socket path.
    public let address: String
    /// The bound TCP port; nil for a Unix-domain socket.
    public let port: Int?
    private var fd: Int32
    /// A Unix-domain socket's path, removed again by `close`.
    private let unixPath: String?

    private init(fd: Int32, address: String, port: Int?, unixPath: String?) {
        self.fd = fd
        self.address = address
        self.port = port
        self.unixPath = unixPath
    }

    deinit { close() }

    /// Why a listener could not be set up, in Go's words (`listen tcp 127.0.0.1:8200: bind:
    /// address already in use`).
    public struct ListenError: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Binds `host:port` (a literal address or a name that resolves; port 0 lets the system
    /// choose) and listens.
    public static func listen(host: String, port: Int, backlog: Int32 = 128) throws(ListenError) -> ListeningSocket {
        let shown = BlockingSocket.address(host: host, port: port)
        func failure(_ step: String, _ code: Int32) -> ListenError {
            ListenError(description: "listen tcp \(shown): \(step): \(goText(code))")
        }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host.isEmpty ? nil : host, String(port), &hints, &list)
        guard status == 0, let info = list else {
            throw ListenError(description: "listen tcp \(shown): \(status == 0 ? "no address" : String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw failure("socket", errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw failure("bind", code)
        }
        guard Glibc.listen(fd, backlog) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw failure("listen", code)
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
        let bound = Self.localPort(fd) ?? port
        let boundHost = Self.numericHost(info.pointee.ai_addr, info.pointee.ai_addrlen) ?? host
        return ListeningSocket(fd: fd, address: BlockingSocket.address(host: boundHost, port: bound), port: bound, unixPath: nil)
    }

    /// Binds a Unix-domain socket at `path`, readable and writable by its owner only (`mode`). A
    /// socket left there by a server that is gone is replaced; one that answers, or anything
    /// that is not a socket, is refused.
    public static func listen(unixPath path: String, mode: mode_t = 0o600, backlog: Int32 = 128) throws(ListenError) -> ListeningSocket {
        func failure(_ step: String, _ code: Int32) -> ListenError {
            ListenError(description: "listen unix \(path): \(step): \(goText(code))")
        }
        var sun = sockaddr_un()
        sun.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count < MemoryLayout.size(ofValue: sun.sun_path) else {
            throw ListenError(description: "listen unix \(path): the socket path is empty or too long")
        }
        withUnsafeMutableBytes(of: &sun.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        var existing = stat()
        if lstat(path, &existing) == 0 {
            guard existing.st_mode & S_IFMT == S_IFSOCK else {
                throw ListenError(description: "listen unix \(path): the path exists and is not a socket; remove it")
            }
            if (try? BlockingSocket.connect(unixPath: path, timeout: 1)) != nil {
                throw failure("bind", EADDRINUSE)
            }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw failure("socket", errno) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let bound = withUnsafePointer(to: &sun) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            let code = errno
            Glibc.close(fd)
            throw failure("bind", code)
        }
        // Before listen: until then a connect is refused, so nobody gets in under the umask's mode.
        guard chmod(path, mode) == 0, Glibc.listen(fd, backlog) == 0 else {
            let code = errno
            Glibc.close(fd)
            unlink(path)
            throw failure("listen", code)
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
        return ListeningSocket(fd: fd, address: path, port: nil, unixPath: path)
    }

    /// The next connection, waiting at most `timeout` (one poll slice at most); nil when none
    /// came. Running out of descriptors is a nil too, after a pause: the connections being
    /// served will free some.
    public func accept(timeout: TimeInterval) -> (connection: BlockingSocket, peer: String)? {
        guard fd >= 0 else { return nil }
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let wait = max(1, Int32((min(timeout, BlockingSocket.waitSlice) * 1000).rounded(.up)))
        guard poll(&entry, 1, wait) > 0 else { return nil }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let client = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                accept4(fd, $0, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
            }
        }
        guard client >= 0 else {
            if errno == EMFILE || errno == ENFILE { usleep(50_000) }
            return nil
        }
        let peer: String
        if unixPath != nil {
            peer = "unix"
        } else {
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            peer = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Self.numericAddress($0, length) }
            } ?? "unknown"
        }
        return (BlockingSocket(fd: client, address: peer), peer)
    }

    /// Stops listening (a Unix-domain socket's file is removed); safe to call more than once.
    public func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
        if let unixPath { unlink(unixPath) }
    }

    private static func localPort(_ fd: Int32) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) } }
        case AF_INET6:
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) } }
        default:
            return nil
        }
    }

    /// `host:port` of an address, numerically (`[::1]:5000` for IPv6).
    static func numericAddress(_ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> String? {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        guard getnameinfo(address, length, &host, socklen_t(host.count), &service, socklen_t(service.count),
                          NI_NUMERICHOST | NI_NUMERICSERV) == 0 else { return nil }
        let hostText = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let portText = String(decoding: service.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return BlockingSocket.address(host: hostText, port: Int(portText) ?? 0)
    }

    private static func numericHost(_ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> String? {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(address, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
        return String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// strerror's text as Go's syscall package writes it: "address already in use".
private func goText(_ code: Int32) -> String {
    let text = String(cString: strerror(code))
    return text.prefix(1).lowercased() + text.dropFirst()
}

/// glibc's `accept4`, which the Glibc module does not export (it is behind `_GNU_SOURCE`): the
/// accepted descriptor is close-on-exec from its first instant, so a plugin process spawned by
/// another thread at that moment cannot inherit it.
@_silgen_name("accept4")
private func accept4(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?,
                     _ flags: Int32) -> Int32
