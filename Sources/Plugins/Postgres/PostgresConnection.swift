import CryptoPrimitives
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TLS

/// One session with a PostgreSQL server over protocol v3: TLS as `sslmode` asks, startup,
/// authentication (SCRAM-SHA-256[-PLUS], MD5 or cleartext, as the policy allows), simple queries,
/// and a clean Terminate. Every exchange is bounded by one deadline and every message by a size.
///
/// Not thread-safe; the plugin uses one connection from one thread.
public final class PostgresConnection {
    /// Each statement's whole round trip is bounded by this by default (`statement_timeout`).
    public static let defaultStatementTimeout: TimeInterval = ConnectionConfig.defaultStatementTimeout
    /// The largest backend message accepted (a DataRow, an ErrorResponse, …): the statements
    /// dbsecrets runs answer with a few hundred bytes; a hostile server's "1 GiB" is refused.
    public static let maximumMessageLength = 4 << 20
    /// The rows of one result set, in bytes of values, at most.
    public static let maximumResultBytes = 16 << 20
    /// Notices kept per connection: the first 100, at most 1 MiB of them; the rest are dropped.
    public static let maximumNotices = 100
    public static let maximumNoticeBytes = 1 << 20
    /// ParameterStatus names kept (PostgreSQL sends about 15).
    static let maximumServerParameters = 256

    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var user: String
        public var password: String
        /// Empty means the server's default, the user's name.
        public var database: String
        /// Bounds TCP connect, TLS, startup and authentication together.
        public var connectTimeout: TimeInterval
        /// Bounds each query's whole round trip; the server keeps running a statement we gave up
        /// on only until it notices the closed connection.
        public var queryTimeout: TimeInterval
        /// Extra startup parameters (application_name, search_path, …).
        public var runtimeParameters: [(String, String)]
        /// sslmode and the TLS session's settings.
        public var security: PostgresTransportSecurity
        /// Which authentication requests the client answers.
        public var authentication: PostgresAuthenticationPolicy

        public init(host: String, port: Int = 5432, user: String, password: String, database: String = "",
                    connectTimeout: TimeInterval = 5, queryTimeout: TimeInterval = PostgresConnection.defaultStatementTimeout,
                    runtimeParameters: [(String, String)] = [], security: PostgresTransportSecurity? = nil,
                    authentication: PostgresAuthenticationPolicy = .permissive) {
            self.host = host
            self.port = port
            self.user = user
            self.password = password
            self.database = database
            self.connectTimeout = connectTimeout
            self.queryTimeout = queryTimeout
            self.runtimeParameters = runtimeParameters
            self.security = security ?? .preferred(host: host)
            self.authentication = authentication
        }
    }

    public struct QueryResult: Sendable {
        public var columns: [String] = []
        public var rows: [[String?]] = []
        public var commandTag: String = ""
    }

    public let configuration: Configuration
    private var stream: ByteStream?
    private var buffer: [UInt8] = []
    private var bufferStart = 0
    /// What the server reported in ParameterStatus (server_version, standard_conforming_strings, …).
    public private(set) var serverParameters: [String: String] = [:]
    public private(set) var transactionStatus: PostgresTransactionStatus = .idle
    /// NoticeResponses received since the connection opened (e.g. "role does not exist, skipping"),
    /// within `maximumNotices` and `maximumNoticeBytes`.
    public private(set) var notices: [PostgresServerError] = []
    private var noticeBytes = 0
    /// The TLS session, when the connection has one: its version and cipher, for diagnostics.
    public private(set) var tls: TLSStream?
    /// Whether SCRAM was bound to the TLS session (SCRAM-SHA-256-PLUS).
    public private(set) var usedChannelBinding = false

    public var isOpen: Bool { stream != nil }

    private init(configuration: Configuration, stream: ByteStream, tls: TLSStream?) {
        self.configuration = configuration
        self.stream = stream
        self.tls = tls
    }

    deinit { close() }

    /// Connects (with TLS as `security` says) and authenticates, all within `connectTimeout`.
    public static func connect(_ configuration: Configuration) throws -> PostgresConnection {
        let deadline = Date().addingTimeInterval(configuration.connectTimeout)
        let isUnixSocket = configuration.host.hasPrefix("/")
        guard configuration.security.mode == .allow && !isUnixSocket else {
            return try attempt(configuration, tls: !isUnixSocket && configuration.security.mode != .disable, deadline: deadline)
        }
        // sslmode=allow: clear text first; TLS only when that login is refused, by the server
        // (pg_hba's "no encryption") or by the policy (a password that may go only over TLS).
        do {
            return try attempt(configuration, tls: false, deadline: deadline)
        } catch let error as PostgresClientError
                    where error.serverError?.sqlState == "28000" || (error.kind == .authentication && error.serverError == nil) {
            return try attempt(configuration, tls: true, deadline: deadline)
        }
    }

    private static func attempt(_ configuration: Configuration, tls wantsTLS: Bool, deadline: Date) throws -> PostgresConnection {
        let socket: BlockingSocket
        let remaining = max(0.001, deadline.timeIntervalSinceNow)
        do throws(SocketError) {
            // A host starting with "/" is a directory holding PostgreSQL's Unix socket, as in libpq.
            if configuration.host.hasPrefix("/") {
                socket = try BlockingSocket.connect(unixPath: "\(configuration.host)/.s.PGSQL.\(configuration.port)",
                                                    timeout: remaining)
            } else {
                socket = try BlockingSocket.connect(host: configuration.host, port: configuration.port, timeout: remaining)
            }
        } catch {
            throw PostgresClientError(error, timeout: configuration.connectTimeout,
                                      awaiting: "the startup (connect_timeout)")
        }
        let session = wantsTLS ? try negotiateTLS(over: socket, configuration, deadline: deadline) : nil
        let connection = PostgresConnection(configuration: configuration, stream: session ?? socket, tls: session)
        do {
            try connection.startup(deadline: deadline)
        } catch {
            connection.dropSocket()
            throw error
        }
        return connection
    }

    /// SSLRequest (or, with `sslnegotiation=direct`, nothing) and the TLS handshake. Nil when the
    /// server has no TLS and `sslmode=prefer` allows clear text.
    private static func negotiateTLS(over socket: BlockingSocket, _ configuration: Configuration,
                                     deadline: Date) throws -> TLSStream? {
        let security = configuration.security
        let address = socket.address
        if !security.direct {
            let answer: [UInt8]
            do throws(SocketError) {
                try socket.write(PostgresFrontendMessage.sslRequest, deadline: deadline)
                answer = try socket.readSome(deadline: deadline)
            } catch {
                socket.close()
                throw PostgresClientError(error, timeout: configuration.connectTimeout, awaiting: "the SSLRequest (connect_timeout)")
            }
            // CVE-2021-23222: bytes a man in the middle slipped in before the handshake would
            // later be read as if they had come over TLS. The answer is one byte, alone.
            if answer.count > 1 && (answer[0] == UInt8(ascii: "S") || answer[0] == UInt8(ascii: "N")) {
                socket.close()
                throw PostgresClientError.protocolViolation("server at \(address) sent unencrypted data after its answer to the SSLRequest; refused")
            }
            switch answer.first {
            case UInt8(ascii: "S"):
                break
            case UInt8(ascii: "N"):
                guard security.fallsBackToPlain else {
                    socket.close()
                    throw PostgresClientError.connect(
                        "server at \(address) refused TLS (it answered N to the SSLRequest), and the configuration requires TLS "
                            + "(sslmode=require, verify-ca, verify-full or a tls_* field): not connecting in clear text")
                }
                return nil
            default:
                socket.close()
                throw PostgresClientError.protocolViolation(
                    "server at \(address) answered the SSLRequest with neither S nor N; refused")
            }
        }
        do throws(TLSError) {
            let session = try TLSStream.handshake(over: socket, security.tls, deadline: deadline)
            if security.direct && session.negotiatedProtocol != "postgresql" {
                session.close()
                throw TLSError(.handshake, "server at \(address) did not select ALPN \"postgresql\" for sslnegotiation=direct")
            }
            return session
        } catch {
            if let socketError = error.socketError {
                throw PostgresClientError(socketError, timeout: configuration.connectTimeout, awaiting: "the TLS handshake (connect_timeout)")
            }
            throw PostgresClientError(error.kind == .configuration ? .configuration : .connect, error.message)
        }
    }

    private func startup(deadline: Date) throws {
        var parameters = [("user", configuration.user)]
        if !configuration.database.isEmpty { parameters.append(("database", configuration.database)) }
        parameters.append(("client_encoding", "UTF8"))
        parameters += configuration.runtimeParameters
        try send(PostgresFrontendMessage.startup(parameters), deadline: deadline, exchange: .startup)

        let policy = configuration.authentication
        let encrypted = tls != nil
        var scram: SCRAMAuthenticator?
        var method: PostgresAuthenticationPolicy.Method?
        var authenticated = false
        while true {
            let message = try receive(deadline: deadline, exchange: .startup)
            switch message {
            case .authentication(.ok):
                guard !authenticated else { continue }
                try policy.checkCompleted(method: method, scramVerified: scram?.isVerified ?? false,
                                          channelBound: usedChannelBinding, server: address)
                authenticated = true
            case .authentication(.cleartextPassword):
                try policy.checkPasswordRequest(.password, encrypted: encrypted, server: address)
                method = .password
                try send(PostgresFrontendMessage.password(configuration.password), deadline: deadline, exchange: .startup)
            case .authentication(.md5Password(let salt)):
                try policy.checkPasswordRequest(.md5, encrypted: encrypted, server: address)
                method = .md5
                let response = Self.md5Response(user: configuration.user, password: configuration.password, salt: salt)
                try send(PostgresFrontendMessage.password(response), deadline: deadline, exchange: .startup)
            case .authentication(.sasl(let mechanisms)):
                guard scram == nil else {
                    throw PostgresClientError.protocolViolation("server at \(address) started SASL twice")
                }
                let binding = try policy.chooseSASL(offered: mechanisms, tlsEndPoint: tls?.serverEndPoint,
                                                    encrypted: encrypted, server: address)
                let authenticator = SCRAMAuthenticator(password: configuration.password, binding: binding)
                scram = authenticator
                method = .scramSHA256
                if case .serverEndPoint = binding { usedChannelBinding = true }
                try send(PostgresFrontendMessage.saslInitialResponse(
                    mechanism: authenticator.mechanismName, data: Array(authenticator.clientFirstMessage.utf8)),
                         deadline: deadline, exchange: .startup)
            case .authentication(.saslContinue(let data)):
                guard var authenticator = scram else {
                    throw PostgresClientError.protocolViolation("server at \(address) sent SASL data out of order")
                }
                let final = try authenticator.clientFinalMessage(serverFirst: String(decoding: data, as: UTF8.self))
                scram = authenticator
                try send(PostgresFrontendMessage.saslResponse(Array(final.utf8)), deadline: deadline, exchange: .startup)
            case .authentication(.saslFinal(let data)):
                guard var authenticator = scram else {
                    throw PostgresClientError.protocolViolation("server at \(address) sent SASL data out of order")
                }
                try authenticator.verify(serverFinal: String(decoding: data, as: UTF8.self))
                scram = authenticator
            case .authentication(.unsupported(let code)):
                throw PostgresClientError.authentication(
                    "server at \(address) asks for an authentication method this client does not support (code \(code))")
            case .parameterStatus(let name, let value):
                keepParameter(name, value)
            case .backendKeyData, .negotiateProtocolVersion, .other:
                continue
            case .noticeResponse(let notice):
                keep(notice)
            case .errorResponse(let error):
                let kind: PostgresClientError.Kind = error.sqlState.hasPrefix("28") ? .authentication : .connect
                if kind == .authentication { scram?.refused() }
                throw PostgresClientError(kind, "failed to connect to \(address) as user \"\(configuration.user)\": \(error)",
                                          serverError: error)
            case .readyForQuery(let status):
                guard authenticated else {
                    throw PostgresClientError.protocolViolation("server at \(address) said it was ready before authentication ended")
                }
                transactionStatus = status
                return
            case .rowDescription, .dataRow, .commandComplete, .emptyQueryResponse:
                throw PostgresClientError.protocolViolation("server at \(address) sent query results during startup")
            }
        }
    }

    private func keep(_ notice: PostgresServerError) {
        let size = notice.fields.values.reduce(0) { $0 + $1.utf8.count }
        guard notices.count < Self.maximumNotices, noticeBytes + size <= Self.maximumNoticeBytes else { return }
        notices.append(notice)
        noticeBytes += size
    }

    private func keepParameter(_ name: String, _ value: String) {
        guard serverParameters[name] != nil || serverParameters.count < Self.maximumServerParameters else { return }
        serverParameters[name] = value
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
        guard stream != nil else { throw PostgresClientError.io("connection to \(address) is closed") }
        let deadline = Date().addingTimeInterval(configuration.queryTimeout)
        do {
            try send(PostgresFrontendMessage.query(sql), deadline: deadline, exchange: .query)
            return try receiveResult(deadline: deadline)
        } catch let error as PostgresClientError where error.kind != .server {
            dropSocket()
            throw error
        }
    }

    /// Several statements, each its own Query message, sent in one write and answered in order:
    /// one round trip instead of one each. Returns each statement's server error, nil for one
    /// that succeeded; every answer is read, so the connection stays usable. The server runs
    /// every message whatever became of the one before (after a failure in a transaction block
    /// it refuses the statements that follow, "current transaction is aborted", but a COMMIT or
    /// ROLLBACK ends the block and what comes after it runs), so a caller pipelines only what is
    /// safe to run after a failure. Each answer is bounded by `queryTimeout`, as a `simpleQuery`.
    public func pipelinedQueries(_ statements: [String]) throws -> [PostgresClientError?] {
        guard stream != nil else { throw PostgresClientError.io("connection to \(address) is closed") }
        do {
            try send(statements.flatMap(PostgresFrontendMessage.query), deadline: Date().addingTimeInterval(configuration.queryTimeout),
                     exchange: .query)
            return try statements.map { _ in
                do {
                    _ = try receiveResult(deadline: Date().addingTimeInterval(configuration.queryTimeout))
                    return nil
                } catch let error as PostgresClientError where error.kind == .server {
                    return error
                }
            }
        } catch let error as PostgresClientError where error.kind != .server {
            dropSocket()
            throw error
        }
    }

    /// The answer to one Query message, up to its ReadyForQuery: its last result set, or the
    /// server's error.
    private func receiveResult(deadline: Date) throws -> QueryResult {
        var result = QueryResult()
        var resultBytes = 0
        var failure: PostgresServerError?
        while true {
            switch try receive(deadline: deadline, exchange: .query) {
            case .rowDescription(let columns):
                result = QueryResult(columns: columns)
            case .dataRow(let values):
                resultBytes += values.reduce(0) { $0 + ($1?.utf8.count ?? 0) + 4 }
                guard resultBytes <= Self.maximumResultBytes else {
                    throw PostgresClientError.protocolViolation(
                        "server at \(address) sent a result larger than \(Self.maximumResultBytes >> 20) MiB; the connection is dropped")
                }
                result.rows.append(values)
            case .commandComplete(let tag):
                result.commandTag = tag
            case .errorResponse(let error):
                failure = error
            case .noticeResponse(let notice):
                keep(notice)
            case .parameterStatus(let name, let value):
                keepParameter(name, value)
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
    }

    /// Sends Terminate so the server logs a clean disconnect, then closes. Safe to call twice.
    public func close() {
        guard let stream else { return }
        try? stream.write(PostgresFrontendMessage.terminate, deadline: Date().addingTimeInterval(1))
        stream.close()
        self.stream = nil
    }

    private var address: String { stream?.address ?? BlockingSocket.address(host: configuration.host, port: configuration.port) }

    private func dropSocket() {
        stream?.close()
        stream = nil
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
        guard let stream else { throw PostgresClientError.io("connection to \(address) is closed") }
        try onSocket(exchange) { () throws(SocketError) in try stream.write(bytes, deadline: deadline) }
    }

    private func receive(deadline: Date, exchange: Exchange) throws -> PostgresBackendMessage {
        while true {
            let available = buffer.count - bufferStart
            if available >= 5 {
                let type = buffer[bufferStart]
                var header = ByteReader(Array(buffer[bufferStart + 1..<bufferStart + 5]))
                let length = Int(try header.int32())
                guard length >= 4 else {
                    throw PostgresClientError.protocolViolation("server at \(address) sent an invalid message length")
                }
                guard length <= Self.maximumMessageLength else {
                    throw PostgresClientError.protocolViolation(
                        "server at \(address) announced a message of \(length) bytes, more than the \(Self.maximumMessageLength >> 20) MiB this client accepts")
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
            guard let stream else { throw PostgresClientError.io("connection to \(address) is closed") }
            if bufferStart > 0 {
                buffer.removeFirst(bufferStart)
                bufferStart = 0
            }
            buffer += try onSocket(exchange) { () throws(SocketError) in try stream.readSome(deadline: deadline) }
        }
    }
}
