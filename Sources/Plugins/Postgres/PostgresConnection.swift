import CryptoPrimitives
import DBPlugin
import Foundation

/// One session with a PostgreSQL server over protocol v3: startup, authentication (SCRAM-SHA-256,
/// MD5 or cleartext), simple queries, and a clean Terminate.
///
/// Not thread-safe; the plugin uses one connection from one thread.
public final class PostgresConnection {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var user: String
        public var password: String
        /// Empty means the server's default, the user's name.
        public var database: String
        /// Bounds TCP connect, startup and authentication together.
        public var connectTimeout: TimeInterval
        /// Bounds each query's round trip; the server keeps running a statement we gave up on
        /// only until it notices the closed connection.
        public var queryTimeout: TimeInterval
        /// Extra startup parameters (application_name, search_path, …).
        public var runtimeParameters: [(String, String)]

        public init(host: String, port: Int = 5432, user: String, password: String, database: String = "",
                    connectTimeout: TimeInterval = 5, queryTimeout: TimeInterval = 30,
                    runtimeParameters: [(String, String)] = []) {
            self.host = host
            self.port = port
            self.user = user
            self.password = password
            self.database = database
            self.connectTimeout = connectTimeout
            self.queryTimeout = queryTimeout
            self.runtimeParameters = runtimeParameters
        }
    }

    public struct QueryResult: Sendable {
        public var columns: [String] = []
        public var rows: [[String?]] = []
        public var commandTag: String = ""
    }

    public let configuration: Configuration
    private var socket: BlockingSocket?
    private var buffer: [UInt8] = []
    private var bufferStart = 0
    /// What the server reported in ParameterStatus (server_version, standard_conforming_strings, …).
    public private(set) var serverParameters: [String: String] = [:]
    public private(set) var transactionStatus: PostgresTransactionStatus = .idle
    /// NoticeResponses received since the connection opened (e.g. "role does not exist, skipping").
    public private(set) var notices: [PostgresServerError] = []

    public var isOpen: Bool { socket != nil }

    private init(configuration: Configuration, socket: BlockingSocket) {
        self.configuration = configuration
        self.socket = socket
    }

    deinit { close() }

    /// Connects and authenticates, within `connectTimeout` overall.
    public static func connect(_ configuration: Configuration) throws -> PostgresConnection {
        let socket: BlockingSocket
        do throws(SocketError) {
            // A host starting with "/" is a directory holding PostgreSQL's Unix socket, as in libpq.
            if configuration.host.hasPrefix("/") {
                socket = try BlockingSocket.connect(unixPath: "\(configuration.host)/.s.PGSQL.\(configuration.port)",
                                                    timeout: configuration.connectTimeout)
            } else {
                socket = try BlockingSocket.connect(host: configuration.host, port: configuration.port,
                                                    timeout: configuration.connectTimeout)
            }
        } catch {
            throw PostgresClientError(error, timeout: configuration.connectTimeout,
                                      awaiting: "the startup (connect_timeout)")
        }
        let connection = PostgresConnection(configuration: configuration, socket: socket)
        let deadline = Date().addingTimeInterval(configuration.connectTimeout)
        do {
            try connection.startup(deadline: deadline)
        } catch {
            connection.dropSocket()
            throw error
        }
        return connection
    }

    private func startup(deadline: Date) throws {
        var parameters = [("user", configuration.user)]
        if !configuration.database.isEmpty { parameters.append(("database", configuration.database)) }
        parameters.append(("client_encoding", "UTF8"))
        parameters += configuration.runtimeParameters
        try send(PostgresFrontendMessage.startup(parameters), deadline: deadline, exchange: .startup)

        var scram: SCRAMAuthenticator?
        while true {
            let message = try receive(deadline: deadline, exchange: .startup)
            switch message {
            case .authentication(.ok):
                continue
            case .authentication(.cleartextPassword):
                try send(PostgresFrontendMessage.password(configuration.password), deadline: deadline, exchange: .startup)
            case .authentication(.md5Password(let salt)):
                let response = Self.md5Response(user: configuration.user, password: configuration.password, salt: salt)
                try send(PostgresFrontendMessage.password(response), deadline: deadline, exchange: .startup)
            case .authentication(.sasl(let mechanisms)):
                guard mechanisms.contains(SCRAMAuthenticator.mechanism) else {
                    throw PostgresClientError.authentication(
                        "server at \(address) offers SASL mechanisms \(mechanisms.joined(separator: ", ")), "
                            + "none of which is supported (SCRAM-SHA-256 is)")
                }
                let authenticator = SCRAMAuthenticator(password: configuration.password)
                scram = authenticator
                try send(PostgresFrontendMessage.saslInitialResponse(
                    mechanism: SCRAMAuthenticator.mechanism, data: Array(authenticator.clientFirstMessage.utf8)),
                         deadline: deadline, exchange: .startup)
            case .authentication(.saslContinue(let data)):
                guard var authenticator = scram else {
                    throw PostgresClientError.protocolViolation("server at \(address) sent SASL data out of order")
                }
                let final = try authenticator.clientFinalMessage(serverFirst: String(decoding: data, as: UTF8.self))
                scram = authenticator
                try send(PostgresFrontendMessage.saslResponse(Array(final.utf8)), deadline: deadline, exchange: .startup)
            case .authentication(.saslFinal(let data)):
                guard let authenticator = scram else {
                    throw PostgresClientError.protocolViolation("server at \(address) sent SASL data out of order")
                }
                try authenticator.verify(serverFinal: String(decoding: data, as: UTF8.self))
            case .authentication(.unsupported(let code)):
                throw PostgresClientError.authentication(
                    "server at \(address) asks for an authentication method this client does not support (code \(code))")
            case .parameterStatus(let name, let value):
                serverParameters[name] = value
            case .backendKeyData, .negotiateProtocolVersion, .other:
                continue
            case .noticeResponse(let notice):
                notices.append(notice)
            case .errorResponse(let error):
                let kind: PostgresClientError.Kind = error.sqlState.hasPrefix("28") ? .authentication : .connect
                throw PostgresClientError(kind, "failed to connect to \(address) as user \"\(configuration.user)\": \(error)",
                                          serverError: error)
            case .readyForQuery(let status):
                transactionStatus = status
                return
            case .rowDescription, .dataRow, .commandComplete, .emptyQueryResponse:
                throw PostgresClientError.protocolViolation("server at \(address) sent query results during startup")
            }
        }
    }

    /// "md5" + md5(md5(password + user) + salt), in lower-case hex.
    static func md5Response(user: String, password: String, salt: [UInt8]) -> String {
        let inner = MD5.hash(Array((password + user).utf8)).hexString
        return "md5" + MD5.hash(Array(inner.utf8) + salt).hexString
    }

    /// Runs one statement (or several separated by `;`) with the simple query protocol and returns
    /// the last result set. A server error is thrown after the server is ready again, so the
    /// connection stays usable; a timeout or broken connection closes it.
    @discardableResult
    public func simpleQuery(_ sql: String) throws -> QueryResult {
        guard socket != nil else { throw PostgresClientError.io("connection to \(address) is closed") }
        let deadline = Date().addingTimeInterval(configuration.queryTimeout)
        do {
            try send(PostgresFrontendMessage.query(sql), deadline: deadline, exchange: .query)
            var result = QueryResult()
            var failure: PostgresServerError?
            while true {
                switch try receive(deadline: deadline, exchange: .query) {
                case .rowDescription(let columns):
                    result = QueryResult(columns: columns)
                case .dataRow(let values):
                    result.rows.append(values)
                case .commandComplete(let tag):
                    result.commandTag = tag
                case .errorResponse(let error):
                    failure = error
                case .noticeResponse(let notice):
                    notices.append(notice)
                case .parameterStatus(let name, let value):
                    serverParameters[name] = value
                case .readyForQuery(let status):
                    transactionStatus = status
                    if let failure {
                        throw PostgresClientError(.server, failure.description, serverError: failure)
                    }
                    return result
                case .emptyQueryResponse, .backendKeyData, .negotiateProtocolVersion, .other, .authentication:
                    continue
                }
            }
        } catch let error as PostgresClientError where error.kind != .server {
            dropSocket()
            throw error
        }
    }

    /// Sends Terminate so the server logs a clean disconnect, then closes. Safe to call twice.
    public func close() {
        guard let socket else { return }
        try? socket.write(PostgresFrontendMessage.terminate, deadline: Date().addingTimeInterval(1))
        socket.close()
        self.socket = nil
    }

    private var address: String { socket?.address ?? "\(configuration.host):\(configuration.port)" }

    private func dropSocket() {
        socket?.close()
        socket = nil
    }

    /// What a deadline bounds, for the timeout message.
    private enum Exchange {
        case startup, query
    }

    /// Runs a socket call; its failure is worded by `PostgresClientError` with the exchange's timeout.
    private func onSocket<T>(_ exchange: Exchange, _ call: () throws(SocketError) -> T) throws(PostgresClientError) -> T {
        do throws(SocketError) {
            return try call()
        } catch {
            switch exchange {
            case .startup:
                throw PostgresClientError(error, timeout: configuration.connectTimeout,
                                          awaiting: "the startup (connect_timeout)")
            case .query:
                throw PostgresClientError(error, timeout: configuration.queryTimeout, awaiting: "a query")
            }
        }
    }

    private func send(_ bytes: [UInt8], deadline: Date, exchange: Exchange) throws {
        guard let socket else { throw PostgresClientError.io("connection to \(address) is closed") }
        try onSocket(exchange) { () throws(SocketError) in try socket.write(bytes, deadline: deadline) }
    }

    private func receive(deadline: Date, exchange: Exchange) throws -> PostgresBackendMessage {
        while true {
            let available = buffer.count - bufferStart
            if available >= 5 {
                let type = buffer[bufferStart]
                var header = ByteReader(Array(buffer[bufferStart + 1..<bufferStart + 5]))
                let length = Int(try header.int32())
                guard length >= 4, length < 1 << 30 else {
                    throw PostgresClientError.protocolViolation("server at \(address) sent an invalid message length")
                }
                if available >= 1 + length {
                    let body = Array(buffer[bufferStart + 5..<bufferStart + 1 + length])
                    bufferStart += 1 + length
                    if bufferStart == buffer.count {
                        buffer.removeAll(keepingCapacity: true)
                        bufferStart = 0
                    }
                    return try PostgresBackendMessage.decode(type: type, body: body)
                }
            }
            guard let socket else { throw PostgresClientError.io("connection to \(address) is closed") }
            if bufferStart > 0 {
                buffer.removeFirst(bufferStart)
                bufferStart = 0
            }
            buffer += try onSocket(exchange) { () throws(SocketError) in try socket.readSome(deadline: deadline) }
        }
    }
}
