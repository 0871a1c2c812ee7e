import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Why a Redis call failed, with a sentence that names the server and never a password.
public struct RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Name resolution, refused or reset connection, the server hanging up.
        case connection
        /// Connecting or waiting for a reply took longer than allowed.
        case timeout
        /// `WRONGPASS` / `NOAUTH`: the login was refused.
        case authentication
        /// `NOPERM`: logged in, but the user's ACL forbids the command or key.
        case permission
        /// Any other error reply (`ERR …`).
        case server
        /// The bytes received are not RESP.
        case protocolViolation
        /// The TLS settings are unusable (a CA or key that does not parse, a pair that does not match).
        case configuration
    }

    public var kind: Kind
    public var message: String
    /// The first word of the server's error reply, when there was one.
    public var code: String?
    /// The failure came after the change itself took effect (e.g. persisting it failed).
    public var afterChange: Bool

    public init(_ kind: Kind, _ message: String, code: String? = nil, afterChange: Bool = false) {
        self.kind = kind
        self.message = message
        self.code = code
        self.afterChange = afterChange
    }

    public var description: String { message }
}

extension RedisError {
    /// A socket failure in the Redis plugin's words. `host` is the name as configured (the socket
    /// only knows `host:port`); `timeout` is the limit that ran out, for the message.
    init(_ error: SocketError, host: String, timeout: TimeInterval) {
        let server = "Redis at \(error.address)"
        let because = error.reason.map { ": \($0)" } ?? ""
        switch error.kind {
        case .resolve:
            self.init(.connection, "could not resolve Redis host \(host) (\(error.address))\(because)")
        case .connect:
            self.init(.connection, "could not connect to \(server)\(because)")
        case .timeout:
            let waiting = switch error.operation {
            case .connect: "connecting to"
            case .write: "sending to"
            case .read: "waiting for a reply from"
            }
            self.init(.timeout, "timed out after \(formatSeconds(timeout)) \(waiting) \(server)")
        case .closed:
            self.init(.connection, error.byPeer ? "\(server) closed the connection" : "connection to \(server) is closed")
        case .io:
            self.init(.connection, "lost the connection to \(server)\(because)")
        case .stopped:
            self.init(.connection, "stopped waiting for \(server): the process is shutting down")
        }
    }
}
