import Foundation
import Glibc

/// A TCP listener on 127.0.0.1 that plays a script to each client it accepts, one at a time on a
/// background thread: what a broken, hostile or wedged database server looks like to a client.
/// `accepting: false` keeps connections in the kernel's queue unanswered (a hung server).
public final class ScriptedServer: @unchecked Sendable {
    public enum Step: Sendable {
        /// Write these bytes.
        case send([UInt8])
        /// Read once, waiting at most this long for the client to say something.
        case receive(TimeInterval)
        /// Keep the connection open, silent, this long.
        case stall(TimeInterval)
    }

    public let port: Int
    private let fd: Int32
    private let lock = NSLock()
    private var scripts: [[Step]] = []
    private var stopped = false
    private let done = DispatchSemaphore(value: 0)

    public init(accepting: Bool = true) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            stopped = true
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EINVAL)
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        if accepting {
            Thread { [self] in serve() }.start()
        } else {
            done.signal()
        }
    }

    /// The script for the next client; clients without one are closed at once.
    public func enqueue(_ script: [Step]) { lock.withLock { scripts.append(script) } }

    public func stop() {
        let wasStopped = lock.withLock { () -> Bool in
            defer { stopped = true }
            return stopped
        }
        guard !wasStopped else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        done.wait()
        close(fd)
    }

    deinit { stop() }

    private func serve() {
        defer { done.signal() }
        while true {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, 100)
            if lock.withLock({ stopped }) { return }
            guard ready > 0 else { continue }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { continue }
            var one: Int32 = 1
            setsockopt(client, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            let script = lock.withLock { scripts.isEmpty ? [] : scripts.removeFirst() }
            play(script, on: client)
            close(client)
        }
    }

    private func play(_ script: [Step], on client: Int32) {
        for step in script {
            switch step {
            case .send(let bytes):
                var offset = 0
                while offset < bytes.count {
                    let n = bytes.withUnsafeBytes { send(client, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
                    if n <= 0 { return }
                    offset += n
                }
            case .receive(let wait):
                var entry = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
                guard poll(&entry, 1, Int32(wait * 1000)) > 0 else { continue }
                var buffer = [UInt8](repeating: 0, count: 65536)
                if buffer.withUnsafeMutableBytes({ recv(client, $0.baseAddress!, $0.count, 0) }) <= 0 { return }
            case .stall(let seconds):
                var entry = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
                let deadline = Date().addingTimeInterval(seconds)
                // Wake up if the client goes away, so a stall never outlives its client by long.
                while Date() < deadline {
                    if poll(&entry, 1, 50) > 0 {
                        var byte: UInt8 = 0
                        if recv(client, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) <= 0 { return }
                        var sink = [UInt8](repeating: 0, count: 4096)
                        _ = sink.withUnsafeMutableBytes { recv(client, $0.baseAddress!, $0.count, Int32(MSG_DONTWAIT)) }
                    }
                }
            }
        }
    }
}
