/// What went wrong, in the user's words, split as Vault splits it: a request that is invalid
/// (Vault's 400) versus an operation that failed (Vault's 500). Both carry the sentence shown
/// to the user; the CLI maps each kind to an exit code in one place, the server to an HTTP status.
public struct EngineError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The request itself is wrong (Vault: `logical.ErrorResponse`, HTTP 400).
        case invalidRequest
        /// The disk, the state directory or the database failed (Vault: a Go error, HTTP 500).
        case operationFailed
        /// The path is not one the engine serves (Vault: 404 / unsupported path).
        case unsupportedPath
        /// The path exists but does not serve the operation (Vault: `logical.ErrUnsupportedOperation`, 405).
        case unsupportedOperation
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public static func invalid(_ message: String) -> EngineError { EngineError(.invalidRequest, message) }
    public static func failed(_ message: String) -> EngineError { EngineError(.operationFailed, message) }

    public var description: String { message }
}
