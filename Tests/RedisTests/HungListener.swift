import Foundation
import Glibc

/// A TCP port on 127.0.0.1 that completes the handshake (the kernel does it) but never answers:
/// what a wedged server looks like to a client. With `backlog: 0` and the one queue slot taken,
/// further connects are not even answered, like a firewalled host.
final class HungListener {
    let port: Int
    private let fd: Int32

    init(backlog: Int32 = 8) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, backlog) == 0 else {
            close(fd)
            throw POSIXErrorCode(rawValue: errno).map { POSIXError($0) } ?? POSIXError(.EINVAL)
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}
