import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TLS

/// One RESP2 connection to a stand-alone Redis server, spoken as the Go plugin does it:
/// TCP (and TLS when configured), then `AUTH <username> <password>`, then commands one at a time
/// (no pipelining, no HELLO). Each command's whole round trip is bounded by its timeout and each
/// reply by `RESPStreamDecoder.Limits.connection`.
///
/// Error replies become `RedisError`s whose messages name the server and the command
/// (`ACL SETUSER`), never the command's arguments, so a password cannot leak through them.
public final class RedisConnection {
    public let host: String
    public let port: Int
    /// `host:port` as it appears in messages.
    public let endpoint: String
    /// How long one reply may take once the command is sent.
    public var readTimeout: TimeInterval
    /// The user the connection authenticated as; Redis' `default` user before any AUTH.
    public private(set) var username: String = "default"

    private let stream: ByteStream
    /// The TLS session, when there is one.
    public let tls: TLSStream?
    private var decoder = RESPStreamDecoder(limits: .connection)

    public init(host: String, port: Int, connectTimeout: TimeInterval = 5, readTimeout: TimeInterval = 10,
                tls configuration: TLSConfiguration? = nil) throws(RedisError) {
        self.host = host
        self.port = port
        self.readTimeout = readTimeout
        let deadline = Date().addingTimeInterval(connectTimeout)
        let socket: BlockingSocket
        do throws(SocketError) {
            socket = try BlockingSocket.connect(host: host, port: port, timeout: connectTimeout)
        } catch {
            throw RedisError(error, host: host, timeout: connectTimeout)
        }
        endpoint = socket.address
        guard let configuration else {
            stream = socket
            tls = nil
            return
        }
        do throws(TLSError) {
            let session = try TLSStream.handshake(over: socket, configuration, deadline: deadline)
            stream = session
            tls = session
        } catch {
            if let socketError = error.socketError {
                let failure = RedisError(socketError, host: host, timeout: connectTimeout)
                throw RedisError(failure.kind, "TLS handshake failed: \(failure.message) (does the server speak TLS on this port?)")
            }
            throw RedisError(error.kind == .configuration ? .configuration : .connection, error.message)
        }
    }

    /// Connects and authenticates; the whole handshake is bounded by `connectTimeout`.
    public static func connect(host: String, port: Int, username: String, password: String,
                               connectTimeout: TimeInterval = 5, readTimeout: TimeInterval = 10,
                               tls: TLSConfiguration? = nil) throws(RedisError) -> RedisConnection {
        try connect(host: host, port: port, username: username, password: password, connectTimeout: connectTimeout,
                    readTimeout: readTimeout, tls: tls, then: nil).connection
    }

    /// As `connect`, sending `then` in the same write as `AUTH` (one round trip for both) and
    /// returning its reply. Only for a command that changes nothing: it reaches the server before
    /// the login is known to have worked, and runs as the default user if it did not.
    public static func connect(host: String, port: Int, username: String, password: String,
                               connectTimeout: TimeInterval = 5, readTimeout: TimeInterval = 10,
                               tls: TLSConfiguration? = nil, then: [String]?) throws(RedisError) -> (connection: RedisConnection, reply: RESPValue?) {
        let deadline = Date().addingTimeInterval(connectTimeout)
        let connection = try RedisConnection(host: host, port: port, connectTimeout: connectTimeout, readTimeout: readTimeout, tls: tls)
        let replies = try connection.send([["AUTH", username, password]] + (then.map { [$0] } ?? []), timeout: connectTimeout, deadline: deadline)
        do throws(RedisError) {
            try connection.checkLogin(replies[0], username: username, password: password)
        } catch {
            connection.close()
            throw error
        }
        return (connection, replies.count > 1 ? replies[1] : nil)
    }

    public func authenticate(username: String, password: String, timeout: TimeInterval? = nil,
                             deadline: Date? = nil) throws(RedisError) {
        try checkLogin(try send(["AUTH", username, password], timeout: timeout, deadline: deadline), username: username, password: password)
    }

    private func checkLogin(_ reply: RESPValue, username: String, password: String) throws(RedisError) {
        if case .error(let line) = reply {
            let code = reply.errorCode
            let text = line.redacting([password])
            if code == "WRONGPASS" {
                throw RedisError(.authentication, "Redis at \(endpoint) refused the login of user \"\(username)\": \(text)", code: code)
            }
            throw RedisError(.authentication, "could not log in to Redis at \(endpoint) as \"\(username)\": \(text)", code: code)
        }
        self.username = username
    }

    /// Sends a command and returns its reply; an error reply is returned, not thrown. The whole
    /// round trip ends by `deadline` (default: `timeout`, else `readTimeout`, from now).
    public func send(_ arguments: [String], timeout: TimeInterval? = nil, deadline: Date? = nil) throws(RedisError) -> RESPValue {
        try send([arguments], timeout: timeout, deadline: deadline)[0]
    }

    /// Several commands in one write, their replies in order (a pipeline): one round trip.
    public func send(_ commands: [[String]], timeout: TimeInterval? = nil, deadline: Date? = nil) throws(RedisError) -> [RESPValue] {
        let limit = timeout ?? readTimeout
        let deadline = deadline ?? Date().addingTimeInterval(limit)
        do throws(RedisError) {
            try onSocket(timeout: limit) { () throws(SocketError) in
                try stream.write(commands.flatMap { RESPEncoder.command($0) }, deadline: deadline)
            }
            var replies: [RESPValue] = []
            while replies.count < commands.count {
                let parsed: RESPValue?
                do {
                    parsed = try decoder.next()
                } catch {
                    throw RedisError(.protocolViolation, "Redis at \(endpoint) sent a malformed reply to \(Self.commandName(commands[replies.count])): \(error.message)")
                }
                if let parsed {
                    replies.append(parsed)
                    continue
                }
                decoder.feed(try onSocket(timeout: limit) { () throws(SocketError) in try stream.readSome(deadline: deadline) })
            }
            return replies
        } catch {
            // After a timeout or garbage, a late reply would answer the wrong command: start over.
            close()
            throw error
        }
    }

    /// Sends a command and returns its reply, throwing error replies as `RedisError`.
    @discardableResult
    public func command(_ arguments: [String], timeout: TimeInterval? = nil) throws(RedisError) -> RESPValue {
        try check(try send(arguments, timeout: timeout), of: arguments)
    }

    /// The reply of `arguments`, error replies thrown as `RedisError`.
    @discardableResult
    public func check(_ reply: RESPValue, of arguments: [String]) throws(RedisError) -> RESPValue {
        guard case .error(let line) = reply else { return reply }
        let name = Self.commandName(arguments)
        let code = reply.errorCode
        switch code {
        case "NOPERM":
            throw RedisError(.permission, "user \"\(username)\" is not allowed to run \(name) on Redis at \(endpoint): \(line)", code: code)
        case "NOAUTH", "WRONGPASS":
            throw RedisError(.authentication, "Redis at \(endpoint) refused \(name): \(line)", code: code)
        default:
            throw RedisError(.server, "Redis at \(endpoint) rejected \(name): \(line)", code: code)
        }
    }

    /// Runs a socket call, its failure worded for Redis.
    private func onSocket<T>(timeout: TimeInterval, _ call: () throws(SocketError) -> T) throws(RedisError) -> T {
        do throws(SocketError) {
            return try call()
        } catch {
            throw RedisError(error, host: host, timeout: timeout)
        }
    }

    public var isOpen: Bool { stream.isOpen }

    public func close() {
        stream.close()
        decoder = RESPStreamDecoder(limits: .connection)
    }

    /// The command as named in messages: its name, and the subcommand for container commands
    /// (`ACL SETUSER`). Never further arguments, which may be passwords.
    static func commandName(_ arguments: [String]) -> String {
        guard let first = arguments.first?.uppercased() else { return "an empty command" }
        if containerCommands.contains(first), arguments.count > 1 {
            return "\(first) \(arguments[1].uppercased())"
        }
        return first
    }

    private static let containerCommands: Set<String> = [
        "ACL", "CONFIG", "CLIENT", "CLUSTER", "COMMAND", "FUNCTION", "MEMORY", "MODULE", "OBJECT", "SCRIPT", "XINFO",
    ]
}
