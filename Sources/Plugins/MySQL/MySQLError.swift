import DBPlugin

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
        /// The server asked for something this client does not do (RSA key exchange, …).
        case unsupported
        /// The TLS settings are unusable (a CA or key that does not parse, a pair that does not match).
        case configuration
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

extension MySQLError {
    /// A socket failure in this client's words, all of kind `.connection`; `timeout` is the
    /// limit that ran out and `limit` its name (`statement_timeout`), for the message.
    init(_ error: SocketError, timeout: Double, limit: String? = nil) {
        let address = error.address
        let because = error.reason.map { ": \($0)" } ?? ""
        let after = "timed out after \(formatSeconds(timeout))" + (limit.map { " (\($0))" } ?? "")
        switch (error.kind, error.operation) {
        case (.resolve, _): self.init(.connection, "could not resolve \(address)\(because)")
        case (.connect, _): self.init(.connection, "could not connect to \(address)\(because)")
        case (.timeout, .connect): self.init(.connection, "\(after) connecting to \(address)")
        case (.timeout, .write): self.init(.connection, "\(after) writing to \(address)")
        case (.timeout, .read): self.init(.connection, "\(after) waiting for \(address) to answer")
        case (.closed, _):
            self.init(.connection, error.byPeer ? "\(address) closed the connection" : "connection to \(address) is closed")
        case (.io, .write): self.init(.connection, "could not write to \(address)\(because)")
        case (.io, _): self.init(.connection, "could not read from \(address)\(because)")
        case (.stopped, _): self.init(.connection, "stopped waiting for \(address): the process is shutting down")
        }
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
