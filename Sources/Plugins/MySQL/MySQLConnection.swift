import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TLS

/// The rows of a text-protocol result set, every value as text (nil for SQL NULL).
public struct MySQLRows: Sendable, Equatable {
    public var columns: [String]
    public var rows: [[String?]]
}

/// What a statement returned: counters (OK packet) or rows.
public enum MySQLResult: Sendable, Equatable {
    case ok(MySQLOK)
    case rows(MySQLRows)
}

/// One authenticated session with a MySQL or MariaDB server over the classic protocol, with TLS
/// when the configuration asks for it. The login is bounded by the connect timeout and each
/// statement by the statement timeout, whatever the server sends; nothing here is thread-safe.
public final class MySQLConnection {
    /// TLS as the DSN's `tls=` or Vault's TLS fields ask for it.
    public struct TransportSecurity: Sendable, Equatable {
        /// False for `tls=preferred`: clear text when the server does not offer TLS.
        public var required: Bool
        public var tls: TLSConfiguration
        public init(required: Bool, tls: TLSConfiguration) {
            self.required = required
            self.tls = tls
        }
    }

    public struct Configuration: Sendable {
        public var address: MySQLAddress
        public var username: String
        public var password: String
        public var database: String?
        public var connectTimeout: Double
        public var readTimeout: Double
        public var writeTimeout: Double
        /// Bounds each statement's whole round trip.
        public var statementTimeout: Double
        /// Nil: no TLS.
        public var security: TransportSecurity?
        /// `server_public_key`: the PEM of the server's RSA key, for caching_sha2_password and
        /// sha256_password without TLS (checked when the configuration is written).
        public var serverPublicKey: [UInt8]?
        /// `allowPublicKeyRetrieval=true`: without TLS or `serverPublicKey`, take the key the server sends.
        public var allowPublicKeyRetrieval: Bool

        public init(address: MySQLAddress, username: String, password: String, database: String? = nil,
                    connectTimeout: Double = 10, readTimeout: Double = 30, writeTimeout: Double = 30,
                    statementTimeout: Double = ConnectionConfig.defaultStatementTimeout,
                    security: TransportSecurity? = nil, serverPublicKey: [UInt8]? = nil,
                    allowPublicKeyRetrieval: Bool = false) {
            self.address = address
            self.username = username
            self.password = password
            self.database = database
            self.connectTimeout = connectTimeout
            self.readTimeout = readTimeout
            self.writeTimeout = writeTimeout
            self.statementTimeout = statementTimeout
            self.security = security
            self.serverPublicKey = serverPublicKey
            self.allowPublicKeyRetrieval = allowPublicKeyRetrieval
        }
    }

    /// The rows of one result set, in bytes, at most.
    static let maximumResultBytes = 16 << 20

    private let stream: MySQLPacketStream
    private let statementTimeout: Double
    private var sequence: UInt8 = 0
    private var closed = false
    public let serverVersion: String
    /// The authentication plugin the login finished with.
    public let authPluginName: String
    /// The TLS version of the session ("TLSv1.3"), nil without TLS.
    public var tlsVersion: String? { stream.tls?.protocolVersion }

    private static let clientCapabilities: MySQLCapabilities = [
        .longPassword, .foundRows, .longFlag, .protocol41, .transactions, .secureConnection, .multiResults,
        .pluginAuth, .pluginAuthLengthEncodedData,
    ]

    /// Connects, reads the handshake, sets up TLS if asked, and logs in, all within the connect
    /// timeout (`timeout=` in the DSN): a server that accepts and never greets, or greets a byte
    /// at a time, fails as fast as one that does not answer at all.
    public static func connect(_ configuration: Configuration) throws -> MySQLConnection {
        let started = Date()
        let stream = try MySQLPacketStream.connect(to: configuration.address,
                                                   connectTimeout: configuration.connectTimeout,
                                                   readTimeout: configuration.readTimeout,
                                                   writeTimeout: configuration.writeTimeout)
        stream.begin("timeout", seconds: configuration.connectTimeout, from: started)
        do {
            return try MySQLConnection(stream: stream, configuration: configuration)
        } catch {
            stream.close()
            throw error
        }
    }

    private init(stream: MySQLPacketStream, configuration: Configuration) throws {
        self.stream = stream
        statementTimeout = configuration.statementTimeout
        let first = try stream.readPacket(sequence: &sequence)
        if MySQLResponse.isError(first) { throw MySQLResponse.error(from: first) }
        let handshake = try MySQLHandshake.decode(first)
        guard handshake.capabilities.contains(.protocol41) else {
            throw MySQLError(.unsupported, "the server at \(configuration.address) does not speak protocol 4.1")
        }
        serverVersion = handshake.serverVersion

        var capabilities = Self.clientCapabilities.intersection(handshake.capabilities)
        capabilities.insert(.protocol41)
        if configuration.database.map({ !$0.isEmpty }) == true { capabilities.insert(.connectWithDB) }
        if let security = configuration.security {
            if handshake.capabilities.contains(.ssl) {
                capabilities.insert(.ssl)
                try stream.writePacket(MySQLHandshakeResponse.sslRequest(capabilities: capabilities), sequence: &sequence)
                try stream.startTLS(security.tls)
            } else if security.required {
                throw MySQLError(.connection, "the server at \(configuration.address) does not offer TLS, which the "
                    + "configuration requires (tls=\(security.tls.verification == .none ? "skip-verify" : "true") or the "
                    + "tls_* fields): not connecting in clear text")
            }
        }

        var transport = MySQLPasswordTransport(overTLS: stream.tls != nil,
                                               allowPublicKeyRetrieval: configuration.allowPublicKeyRetrieval)
        if case .unix = configuration.address { transport.overUnixSocket = true }
        transport.serverPublicKey = configuration.serverPublicKey.map(MySQLRSAPublicKey.init(checkedPEM:))
        var authenticator = MySQLAuthenticator(password: configuration.password, serverPlugin: handshake.authPluginName,
                                               nonce: handshake.nonce, transport: transport)
        let response = MySQLHandshakeResponse(capabilities: capabilities, username: configuration.username,
                                              authResponse: try authenticator.initialResponse(),
                                              database: configuration.database,
                                              authPluginName: authenticator.pluginName)
        try stream.writePacket(response.encode(), sequence: &sequence)
        while true {
            let packet = try stream.readPacket(sequence: &sequence)
            switch try authenticator.handle(packet) {
            case .done:
                authPluginName = authenticator.pluginName
                return
            case .wait:
                continue
            case .send(let bytes):
                try stream.writePacket(bytes, sequence: &sequence)
            }
        }
    }

    /// Runs one statement with COM_QUERY (one statement per call: multi-statements are off).
    @discardableResult
    public func execute(_ sql: String) throws -> MySQLResult {
        guard !closed else { throw MySQLError(.connection, "connection to \(stream.address) is closed") }
        stream.begin("statement_timeout", seconds: statementTimeout)
        sequence = 0
        var command = MySQLPacketWriter()
        command.int1(0x03)
        command.raw(Array(sql.utf8))
        try stream.writePacket(command.bytes, sequence: &sequence)

        let first = try stream.readPacket(sequence: &sequence)
        if MySQLResponse.isError(first) { throw MySQLResponse.error(from: first) }
        if MySQLResponse.isOK(first) {
            let ok = try MySQLOK.decode(first)
            try drainMoreResults(ok.statusFlags)
            return .ok(ok)
        }
        if first.first == 0xfb {
            throw MySQLError(.unsupported, "the server asked for a LOCAL INFILE, which dbsecrets does not send")
        }
        var reader = MySQLPacketReader(first)
        guard let columnCount = try reader.lengthEncoded() else {
            throw MySQLError(.protocolViolation, "malformed result set header from the server")
        }
        var columns: [String] = []
        for _ in 0..<columnCount {
            columns.append(try Self.columnName(try stream.readPacket(sequence: &sequence)))
        }
        var packet = try stream.readPacket(sequence: &sequence)
        if MySQLResponse.isEOF(packet) { packet = try stream.readPacket(sequence: &sequence) }
        var rows: [[String?]] = []
        var resultBytes = 0
        while true {
            if MySQLResponse.isError(packet) { throw MySQLResponse.error(from: packet) }
            resultBytes += packet.count
            guard resultBytes <= Self.maximumResultBytes else {
                throw MySQLError(.protocolViolation, "the server at \(stream.address) sent a result larger than "
                    + "\(Self.maximumResultBytes >> 20) MiB")
            }
            if MySQLResponse.isEOF(packet) {
                var eof = MySQLPacketReader(packet)
                try eof.skip(1)
                var status: UInt16 = 0
                if eof.remaining >= 4 {
                    _ = try eof.int2()  // warnings
                    status = try eof.int2()
                }
                try drainMoreResults(status)
                break
            }
            var row = MySQLPacketReader(packet)
            var values: [String?] = []
            for _ in 0..<columnCount { values.append(try row.lengthEncodedString()) }
            rows.append(values)
            packet = try stream.readPacket(sequence: &sequence)
        }
        return .rows(MySQLRows(columns: columns, rows: rows))
    }

    /// Rows of a query; an OK answer (no result set) gives no rows.
    public func query(_ sql: String) throws -> MySQLRows {
        switch try execute(sql) {
        case .rows(let rows): return rows
        case .ok: return MySQLRows(columns: [], rows: [])
        }
    }

    /// Further results (SERVER_MORE_RESULTS_EXISTS) are read and dropped so the next command starts clean.
    private func drainMoreResults(_ status: UInt16) throws {
        guard status & 0x0008 != 0 else { return }
        while true {
            let packet = try stream.readPacket(sequence: &sequence)
            if MySQLResponse.isError(packet) { throw MySQLResponse.error(from: packet) }
            if MySQLResponse.isOK(packet) {
                if try MySQLOK.decode(packet).statusFlags & 0x0008 == 0 { return }
                continue
            }
            // A result set: skip to its final EOF.
            var eofs = 0
            while eofs < 2 {
                let next = try stream.readPacket(sequence: &sequence)
                if MySQLResponse.isError(next) { throw MySQLResponse.error(from: next) }
                if MySQLResponse.isEOF(next) {
                    eofs += 1
                    if eofs == 2, next.count >= 5, (UInt16(next[3]) | UInt16(next[4]) << 8) & 0x0008 == 0 { return }
                }
            }
        }
    }

    private static func columnName(_ payload: [UInt8]) throws -> String {
        var reader = MySQLPacketReader(payload)
        for _ in 0..<4 { _ = try reader.lengthEncodedBytes() }  // catalog, schema, table, org_table
        return try reader.lengthEncodedString() ?? ""
    }

    /// Sends COM_QUIT and closes the socket. Safe to call more than once.
    public func close() {
        guard !closed else { return }
        closed = true
        sequence = 0
        stream.begin("close", seconds: 1)
        try? stream.writePacket([0x01], sequence: &sequence)
        stream.close()
    }

    deinit { close() }
}
