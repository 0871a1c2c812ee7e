#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What one client may take of the server, so that slow, large or many clients cannot exhaust it.
/// The names of Vault's listener options are given where they match.
public struct ServerLimits: Sendable, Equatable {
    /// The request line and headers, in bytes (Go's `MaxHeaderBytes`): beyond it, 431.
    public var maximumHeaderBytes = 64 << 10
    /// The body, in bytes, however it is sent (`max_request_size`; Vault's default is 32 MiB, and
    /// no request of this engine comes near 1 MiB): beyond it, 413 before any of it is read.
    public var maximumRequestBytes = 1 << 20
    /// From the first byte of a request to the end of its headers (`http_read_header_timeout`).
    public var headerTimeout: TimeInterval = 10
    /// From the first byte of a request to the end of its body (`http_read_timeout`).
    public var readTimeout: TimeInterval = 30
    /// Writing one response; a client that does not read loses its connection.
    public var writeTimeout: TimeInterval = 30
    /// An open connection with no request in it (`http_idle_timeout`).
    public var idleTimeout: TimeInterval = 300
    /// Connections served at once; one more is answered 503 and closed.
    public var maximumConnections = 64
    /// Headers per request.
    public var maximumHeaderCount = 100

    public init() {}
}
