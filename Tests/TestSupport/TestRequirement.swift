import Foundation
import Glibc
import XCTest

/// One rule for what a test needs and cannot find (a server, a program, the built binary): on a
/// developer's machine the test is skipped with the reason; under CI, or under `scripts/test`
/// (which installs every program and starts every server, and says so with
/// `DBSECRETS_TEST_SERVERS`), it fails, so a run that silently tested nothing cannot pass.
public enum TestRequirement {
    public struct Unmet: Error, CustomStringConvertible {
        public var description: String
    }

    /// Whether a missing requirement is a failure here.
    public static func mustBeMet(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        !(environment["CI"] ?? "").isEmpty || !(environment["DBSECRETS_TEST_SERVERS"] ?? "").isEmpty
    }

    /// The error to throw for a requirement that is not met: `XCTSkip` or a failure.
    public static func missing(_ reason: String,
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> Error {
        mustBeMet(environment) ? Unmet(description: reason + " (a failure under CI and scripts/test)") : XCTSkip(reason)
    }

    /// Throws `missing` unless `path` is an executable file.
    public static func program(_ path: String, from package: String) throws {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw missing("\(path) is missing: install \(package) (scripts/install-deps does)")
        }
    }

    /// Throws `missing` unless the debug binary is built (scripts/test builds it first).
    public static func builtBinary() throws {
        guard FileManager.default.isExecutableFile(atPath: PackageRoot.binary.path) else {
            throw missing("\(PackageRoot.binary.path) is not built: run 'swift build' first (scripts/test does)")
        }
    }

    /// Throws `missing` unless a TCP connection to `host:port` is accepted within two seconds: the
    /// variables naming a server do not prove it is still running.
    public static func reachable(_ what: String, host: String, port: Int,
                                 environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        if let problem = connectProblem(host: host, port: port, timeout: 2) {
            throw missing("\(what) at \(host):\(port) is not reachable: \(problem)", environment: environment)
        }
    }

    static func connectProblem(host: String, port: Int, timeout: TimeInterval) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return "cannot resolve \(host)" }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        if connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 { return nil }
        guard errno == EINPROGRESS else { return String(cString: strerror(errno)) }
        var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&entry, 1, Int32(timeout * 1000)) == 1 else { return "no answer within \(Int(timeout))s" }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error == 0 ? nil : String(cString: strerror(error))
    }
}
