import Foundation
import Glibc

/// A TCP port on 127.0.0.1 that never answers: the kernel completes the handshake (up to
/// `backlog` connections) but nothing accepts or sends, which is what a hung server looks like to a
/// client. With `backlog: 0` and that one queue slot taken, further connects are not even
/// answered, like a firewalled host.
public final class SilentListener {
    public let port: Int
    private var fd: Int32

    public init(backlog: Int32 = 8) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Self.lastError() }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, backlog) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard listening else {
            let error = Self.lastError()
            Glibc.close(fd)
            throw error
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close() }

    public func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    /// A port nothing listens on right now: bind one, note it, release it.
    public static func unusedPort() throws -> Int {
        try SilentListener().port
    }

    private static func lastError() -> POSIXError {
        POSIXError(POSIXErrorCode(rawValue: errno) ?? .EINVAL)
    }
}
