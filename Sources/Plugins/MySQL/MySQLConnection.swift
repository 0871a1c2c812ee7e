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

/// One authenticated session with a MySQL or MariaDB server over the classic protocol, without TLS.
/// Every network wait is bounded by the configured timeouts; nothing here is thread-safe.
public final class MySQLConnection {
    public struct Configuration: Sendable {
        public var address: MySQLAddress
        public var username: String
        public var password: String
        public var database: String?
        public var connectTimeout: Double
        public var readTimeout: Double
        public var writeTimeout: Double

        public init(address: MySQLAddress, username: String, password: String, database: String? = nil,
                    connectTimeout: Double = 10, readTimeout: Double = 30, writeTimeout: Double = 30) {
            self.address = address
            self.username = username
            self.password = password
            self.database = database
            self.connectTimeout = connectTimeout
            self.readTimeout = readTimeout
            self.writeTimeout = writeTimeout
        }
    }

    private let stream: MySQLPacketStream
    private var sequence: UInt8 = 0
    private var closed = false
    public let serverVersion: String
    /// The authentication plugin the login finished with.
    public let authPluginName: String

    private static let clientCapabilities: MySQLCapabilities = [
        .longPassword, .foundRows, .longFlag, .protocol41, .transactions, .secureConnection, .multiResults,
        .pluginAuth, .pluginAuthLengthEncodedData,
    ]

    /// Connects, reads the handshake and logs in. The connect timeout (`timeout=` in the DSN) also
    /// bounds each wait of the login, so a server that accepts and never greets fails as fast as
    /// one that does not answer at all, not after the 30 s read timeout.
    public static func connect(_ configuration: Configuration) throws -> MySQLConnection {
        let stream = try MySQLPacketStream.connect(to: configuration.address,
                                                   connectTimeout: configuration.connectTimeout,
                                                   readTimeout: min(configuration.readTimeout, configuration.connectTimeout),
                                                   writeTimeout: configuration.writeTimeout)
        do {
            let connection = try MySQLConnection(stream: stream, configuration: configuration)
            stream.readTimeout = configuration.readTimeout
            return connection
        } catch {
            stream.close()
            throw error
        }
    }

    private init(stream: MySQLPacketStream, configuration: Configuration) throws {
        self.stream = stream
        let first = try stream.readPacket(sequence: &sequence)
        if MySQLResponse.isError(first) { throw MySQLResponse.error(from: first) }
        let handshake = try MySQLHandshake.decode(first)
        guard handshake.capabilities.contains(.protocol41) else {
            throw MySQLError(.unsupported, "the server at \(configuration.address) does not speak protocol 4.1")
        }
        serverVersion = handshake.serverVersion

        var authenticator = MySQLAuthenticator(password: configuration.password,
                                               serverPlugin: handshake.authPluginName, nonce: handshake.nonce)
        var capabilities = Self.clientCapabilities.intersection(handshake.capabilities)
        capabilities.insert(.protocol41)
        if configuration.database.map({ !$0.isEmpty }) == true { capabilities.insert(.connectWithDB) }
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
        while true {
            if MySQLResponse.isError(packet) { throw MySQLResponse.error(from: packet) }
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
        try? stream.writePacket([0x01], sequence: &sequence)
        stream.close()
    }

    deinit { close() }
}
