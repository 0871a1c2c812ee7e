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

    /// What a failed change left in the database. The engine's recovery depends on it: a change
    /// known not to have happened needs no repair, any other may have happened in part.
    public enum Outcome: Sendable, Equatable {
        /// Nothing was changed: the request was refused before any statement ran, or the
        /// database refused it and rolled back.
        case unchanged
        /// The change may have happened, whole or in part (a connection lost after a statement
        /// was sent, a later statement failing after earlier ones committed).
        case unknown
    }

    public var kind: Kind
    public var message: String
    public var outcome: Outcome

    /// The outcome defaults from the kind: a configuration mistake or an unsupported call is
    /// refused before anything runs, and a database's own refusal is a rolled-back transaction
    /// or a single refused command. A plugin whose statements commit one by one says `.unknown`
    /// where a later one fails; a lost connection is `.unknown` unless the plugin knows better.
    public init(_ kind: Kind, _ message: String, outcome: Outcome? = nil) {
        self.kind = kind
        self.message = message
        switch (outcome, kind) {
        case (let given?, _): self.outcome = given
        case (nil, .invalidConfiguration), (nil, .unsupported), (nil, .database): self.outcome = .unchanged
        case (nil, .connection): self.outcome = .unknown
        }
    }

    public var description: String { message }
}
