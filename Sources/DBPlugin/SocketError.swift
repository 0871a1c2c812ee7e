import Basics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Why a `BlockingSocket` call failed. It names the server (`host:port` or the socket path) and
/// the system's reason, never bytes that were sent or received, so it cannot carry a password.
///
/// Plugins turn it into their own error type in one place, with their own wording; `description`
/// is a plain default sentence for anything else.
public struct SocketError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The host name did not resolve (`reason` is getaddrinfo's text).
        case resolve
        /// The connection was refused, unreachable, or could not be set up (`reason` says why).
        case connect
        /// The deadline passed before the connect, read or write finished.
        case timeout
        /// The peer hung up (`byPeer`), or this side had already closed the socket.
        case closed
        /// A read, write or wait failed after the connection was up (`reason` says why), or the
        /// TLS session over it broke (`reason` starts with "TLS").
        case io
        /// The process was asked to stop (`StopRequest`) while waiting.
        case stopped
    }

    /// What the socket was doing when it failed.
    public enum Operation: Sendable, Equatable {
        case connect, read, write
    }

    public var kind: Kind
    public var operation: Operation
    /// `host:port` (`[v6]:port`) or the Unix socket path.
    public var address: String
    /// strerror / gai_strerror text, or a short phrase such as "socket path is too long".
    public var reason: String?
    /// For `.closed`: the server closed the connection, rather than this side before the call.
    public var byPeer: Bool

    public init(_ kind: Kind, _ operation: Operation, address: String, reason: String? = nil, byPeer: Bool = false) {
        self.kind = kind
        self.operation = operation
        self.address = address
        self.reason = reason
        self.byPeer = byPeer
    }

    public var description: String {
        let because = reason.map { ": \($0)" } ?? ""
        switch kind {
        case .resolve: return "could not resolve \(address)\(because)"
        case .connect: return "could not connect to \(address)\(because)"
        case .timeout:
            switch operation {
            case .connect: return "timed out connecting to \(address)"
            case .read: return "timed out waiting for \(address) to answer"
            case .write: return "timed out writing to \(address)"
            }
        case .closed: return byPeer ? "\(address) closed the connection" : "connection to \(address) is closed"
        case .io: return "could not \(operation == .write ? "write to" : "read from") \(address)\(because)"
        case .stopped: return "stopped while talking to \(address): the process is shutting down"
        }
    }
}

/// How a timeout reads in messages: "5s", "0.5s", "0.25s" (millisecond precision at most).
public func formatSeconds(_ seconds: Double) -> String {
    guard seconds.isFinite, abs(seconds) < 1e12 else { return "\(seconds)s" }
    let milliseconds = (seconds * 1000).rounded()
    if milliseconds.truncatingRemainder(dividingBy: 1000) == 0 { return "\(Int(milliseconds / 1000))s" }
    var text = cFormat("%.3f", milliseconds / 1000)
    while text.hasSuffix("0") { text.removeLast() }
    return text + "s"
}
