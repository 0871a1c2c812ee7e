/// An error a plugin reports to the engine. The message is the user-facing sentence.
///
/// `invalidConfiguration` is the user's mistake in what they wrote (Vault answers 400);
/// the other kinds are operational failures (Vault answers 500).
public struct PluginError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The connection parameters are wrong: missing, malformed or contradictory.
        case invalidConfiguration
        /// The database could not be reached, timed out, or refused the login.
        case connection
        /// The database answered a statement or command with an error.
        case database
        /// The plugin does not do this at all (e.g. ElastiCache creating users).
        case unsupported
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
