/// The server's first packet, "Initial Handshake Packet" protocol version 10.
struct MySQLHandshake: Equatable {
    var serverVersion: String
    var connectionID: UInt32
    /// The 20-byte nonce both password plugins hash with (parts 1 and 2, trailing NUL dropped).
    var nonce: [UInt8]
    var capabilities: MySQLCapabilities
    /// The server's default authentication plugin; `mysql_native_password` when absent.
    var authPluginName: String

    static func decode(_ payload: [UInt8]) throws -> MySQLHandshake {
        var reader = MySQLPacketReader(payload)
        let version = try reader.int1()
        guard version == 10 else {
            throw MySQLError(.unsupported, "the server speaks handshake protocol \(version); only version 10 is supported")
        }
        let serverVersion = reader.nulTerminatedString()
        let connectionID = try reader.int4()
        var nonce = try reader.bytes(8)
        try reader.skip(1)
        var capabilities = UInt32(try reader.int2())
        var pluginName = "mysql_native_password"
        if !reader.isAtEnd {
            _ = try reader.int1()  // character set
            _ = try reader.int2()  // status flags
            capabilities |= UInt32(try reader.int2()) << 16
            let authDataLength = Int(try reader.int1())
            try reader.skip(10)  // reserved (MariaDB keeps extended capabilities in the last 4)
            if capabilities & MySQLCapabilities.secureConnection.rawValue != 0 {
                let part2Length = max(13, authDataLength - 8)
                var part2 = try reader.bytes(min(part2Length, reader.remaining))
                if part2.last == 0 { part2.removeLast() }
                nonce += part2
            }
            if capabilities & MySQLCapabilities.pluginAuth.rawValue != 0, !reader.isAtEnd {
                let name = reader.nulTerminatedString()
                if !name.isEmpty { pluginName = name }
            }
        }
        return MySQLHandshake(serverVersion: serverVersion, connectionID: connectionID, nonce: nonce,
                              capabilities: MySQLCapabilities(rawValue: capabilities), authPluginName: pluginName)
    }
}

/// The client's answer, "Handshake Response Packet 41".
struct MySQLHandshakeResponse {
    var capabilities: MySQLCapabilities
    var username: String
    var authResponse: [UInt8]
    var database: String?
    var authPluginName: String

    /// utf8mb4_general_ci; every MySQL ≥ 5.5 and MariaDB knows it.
    static let characterSet: UInt8 = 45

    /// The "SSL Request" packet: the fixed start of the handshake response, sent in clear before
    /// the TLS handshake; the full response follows over TLS.
    static func sslRequest(capabilities: MySQLCapabilities) -> [UInt8] {
        var writer = MySQLPacketWriter()
        writeFixedPart(&writer, capabilities)
        return writer.bytes
    }

    private static func writeFixedPart(_ writer: inout MySQLPacketWriter, _ capabilities: MySQLCapabilities) {
        writer.int4(capabilities.rawValue)
        writer.int4(16 * 1024 * 1024)
        writer.int1(characterSet)
        writer.zeros(23)
    }

    func encode() -> [UInt8] {
        var writer = MySQLPacketWriter()
        Self.writeFixedPart(&writer, capabilities)
        writer.nulTerminated(username)
        if capabilities.contains(.pluginAuthLengthEncodedData) {
            writer.lengthEncoded(bytes: authResponse)
        } else {
            writer.int1(UInt8(authResponse.count))
            writer.raw(authResponse)
        }
        if let database, capabilities.contains(.connectWithDB) {
            writer.nulTerminated(database)
        }
        if capabilities.contains(.pluginAuth) {
            writer.nulTerminated(authPluginName)
        }
        return writer.bytes
    }
}
