import DBPlugin

/// Where a MySQL server listens.
public enum MySQLAddress: Sendable, Equatable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)

    /// How errors name the server: `host:port` or the socket path.
    public var description: String {
        switch self {
        case .tcp(let host, let port): return BlockingSocket.address(host: host, port: port)
        case .unix(let path): return path
        }
    }
}
