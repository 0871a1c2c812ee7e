/// What went wrong talking to a MySQL server. Messages name the server as host:port and never
/// contain the password.
public struct MySQLError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The server could not be reached, timed out, or closed the connection.
        case connection
        /// The server answered with an ERR packet (`code` and `sqlState` are set).
        case server
        /// The server sent bytes this client does not understand.
        case protocolViolation
        /// The server asked for something this client does not do (TLS, RSA key exchange, …).
        case unsupported
    }

    public var kind: Kind
    public var message: String
    /// The server's error number, e.g. 1045 for "Access denied".
    public var code: UInt16?
    /// The five-character SQLSTATE, e.g. "28000".
    public var sqlState: String?

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public static func server(code: UInt16, sqlState: String?, message: String) -> MySQLError {
        var error = MySQLError(.server, message)
        error.code = code
        error.sqlState = sqlState
        return error
    }

    /// The go-sql-driver wording, `Error 1045 (28000): Access denied …`, which Vault users know.
    public var description: String {
        guard let code else { return message }
        if let sqlState { return "Error \(code) (\(sqlState)): \(message)" }
        return "Error \(code): \(message)"
    }
}

/// Server error numbers the plugin reacts to.
public enum MySQLErrorCode {
    /// ER_ACCESS_DENIED_ERROR: wrong user or password.
    public static let accessDenied: UInt16 = 1045
    /// ER_CANNOT_USER: `Operation DROP USER failed for …`, e.g. the user does not exist.
    public static let cannotUser: UInt16 = 1396
    /// ER_NONEXISTING_GRANT: `There is no such grant defined for user …`.
    public static let nonexistingGrant: UInt16 = 1141
    /// ER_NONEXISTING_TABLE_GRANT.
    public static let nonexistingTableGrant: UInt16 = 1147
}
