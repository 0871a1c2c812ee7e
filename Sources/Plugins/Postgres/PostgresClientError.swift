import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A failure of the PostgreSQL wire client. Messages name the server address, never the password.
public struct PostgresClientError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The connection URL or its parameters are unusable.
        case configuration
        /// The server could not be reached or the connection could not be set up in time.
        case connect
        /// The server did not answer within the timeout.
        case timeout
        /// The connection broke while talking.
        case io
        /// The server refused the login or asked for an exchange we do not speak.
        case authentication
        /// The server sent bytes that are not the protocol.
        case protocolViolation
        /// The server answered with an ErrorResponse.
        case server
    }

    public var kind: Kind
    public var message: String
    /// The server's ErrorResponse, with its SQLSTATE, when `kind == .server` or a login was refused.
    public var serverError: PostgresServerError?

    public init(_ kind: Kind, _ message: String, serverError: PostgresServerError? = nil) {
        self.kind = kind
        self.message = message
        self.serverError = serverError
    }

    public var description: String { message }

    static func configuration(_ message: String) -> Self { .init(.configuration, message) }
    static func connect(_ message: String) -> Self { .init(.connect, message) }
    static func timeout(_ message: String) -> Self { .init(.timeout, message) }
    static func io(_ message: String) -> Self { .init(.io, message) }
    static func authentication(_ message: String) -> Self { .init(.authentication, message) }
    static func protocolViolation(_ message: String) -> Self { .init(.protocolViolation, message) }
}

extension PostgresClientError {
    /// A socket failure in this client's words. `timeout` is the limit that ran out; `awaiting`
    /// says what a read was waiting for ("a query"), for the timeout message.
    init(_ error: SocketError, timeout: TimeInterval, awaiting: String) {
        let address = error.address
        let because = error.reason.map { ": \($0)" } ?? ""
        switch (error.kind, error.operation) {
        case (.resolve, _):
            self.init(.connect, "failed to connect to \(address): cannot resolve host\(because)")
        case (.connect, _):
            self.init(.connect, "failed to connect to \(address)\(because)")
        case (.timeout, .connect):
            self.init(.connect, "failed to connect to \(address): timed out after \(formatSeconds(timeout))")
        case (.timeout, .write):
            self.init(.timeout, "timed out writing to \(address)")
        case (.timeout, .read):
            self.init(.timeout, "timed out after \(formatSeconds(timeout)) waiting for \(address) to answer \(awaiting)")
        case (.closed, _):
            self.init(.io, error.byPeer ? "server at \(address) closed the connection" : "connection to \(address) is closed")
        case (.io, .write):
            self.init(.io, "failed writing to \(address)\(because)")
        case (.io, _):
            self.init(.io, "failed reading from \(address)\(because)")
        case (.stopped, _):
            self.init(.io, "stopped waiting for \(address): the process is shutting down")
        }
    }
}

/// An ErrorResponse or NoticeResponse: the fields PostgreSQL sends, keyed by their type byte.
public struct PostgresServerError: Error, CustomStringConvertible, Sendable, Equatable {
    public var fields: [UInt8: String]

    public init(fields: [UInt8: String]) { self.fields = fields }

    /// ERROR, FATAL, PANIC, WARNING, NOTICE, … (the non-localized form when the server sends it).
    public var severity: String { fields[UInt8(ascii: "V")] ?? fields[UInt8(ascii: "S")] ?? "ERROR" }
    /// The SQLSTATE code, e.g. 42704 for an undefined object.
    public var sqlState: String { fields[UInt8(ascii: "C")] ?? "" }
    public var message: String { fields[UInt8(ascii: "M")] ?? "" }
    public var detail: String? { fields[UInt8(ascii: "D")] }
    public var hint: String? { fields[UInt8(ascii: "H")] }

    /// pgx's wording, which is what Vault users see: `ERROR: role "x" does not exist (SQLSTATE 42704)`.
    public var description: String { "\(severity): \(message) (SQLSTATE \(sqlState))" }
}
