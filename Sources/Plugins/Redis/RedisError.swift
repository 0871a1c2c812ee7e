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
    }

    public var kind: Kind
    public var message: String
    /// The first word of the server's error reply, when there was one.
    public var code: String?

    public init(_ kind: Kind, _ message: String, code: String? = nil) {
        self.kind = kind
        self.message = message
        self.code = code
    }

    public var description: String { message }
}
