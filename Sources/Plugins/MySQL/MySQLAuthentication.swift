import CryptoPrimitives

/// The password scrambles of the two authentication plugins this client speaks.
public enum MySQLScramble {
    /// `mysql_native_password`: SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password))).
    public static func nativePassword(password: String, nonce: [UInt8]) -> [UInt8] {
        guard !password.isEmpty else { return [] }
        let stage1 = SHA1.hash(Array(password.utf8))
        let stage2 = SHA1.hash(stage1)
        let mask = SHA1.hash(Array(nonce.prefix(20)) + stage2)
        return zip(stage1, mask).map { $0 ^ $1 }
    }

    /// `caching_sha2_password` fast path: SHA256(password) XOR SHA256(SHA256(SHA256(password)) + nonce).
    public static func cachingSHA2(password: String, nonce: [UInt8]) -> [UInt8] {
        guard !password.isEmpty else { return [] }
        let stage1 = SHA256.hash(Array(password.utf8))
        let stage2 = SHA256.hash(stage1)
        let mask = SHA256.hash(stage2 + Array(nonce.prefix(20)))
        return zip(stage1, mask).map { $0 ^ $1 }
    }
}

/// How the password may leave this client during one login, decided by the configuration.
struct MySQLPasswordTransport: Sendable, Equatable {
    /// The session is encrypted: the password may travel as it is.
    var overTLS = false
    /// A Unix-domain socket, which MySQL counts as secure for caching_sha2_password (and only for
    /// it: sha256_password wants TLS or RSA there too), as go-sql-driver and MySQL's clients do.
    var overUnixSocket = false
    /// `server_public_key`: the server's RSA key, pinned.
    var serverPublicKey: MySQLRSAPublicKey?
    /// `allowPublicKeyRetrieval=true`: without TLS and without a pinned key, the key the server
    /// sends over the clear connection may be used.
    var allowPublicKeyRetrieval = false

    /// Whether the RSA exchange may run: with a key to check the server's against, or when told
    /// that the server's may be taken as it comes.
    var allowsRSA: Bool { serverPublicKey != nil || allowPublicKeyRetrieval }
}

/// Answers the server's authentication packets for one login: the first response, one auth
/// switch request, caching_sha2_password's "more data" replies and the RSA key exchange. Works on
/// bytes so it can be tested without a server.
///
/// The password itself (caching_sha2_password's full authentication, sha256_password,
/// mysql_clear_password) is sent only over TLS, or, for the first two, encrypted with the
/// server's RSA key. That key is requested from the server (`0x02`, or `0x01` for
/// sha256_password) and then either compared with the pinned `server_public_key` — a mismatch
/// stops the login before anything is sent, so a wrong key is never mistaken for a wrong
/// password — or, with `allowPublicKeyRetrieval=true` only, used as it is. Otherwise nothing is
/// sent and the error names the plugin and what to configure.
struct MySQLAuthenticator {
    static let nativePassword = "mysql_native_password"
    static let cachingSHA2 = "caching_sha2_password"
    static let sha256Password = "sha256_password"
    static let clearPassword = "mysql_clear_password"

    enum Step: Equatable {
        /// Send these bytes as the next packet.
        case send([UInt8])
        /// Nothing to send; read the next packet.
        case wait
        /// The server accepted the login (OK packet).
        case done
    }

    private let password: String
    private(set) var pluginName: String
    private var nonce: [UInt8]
    private let transport: MySQLPasswordTransport
    /// Set once the server switched plugins: a second switch is refused, as go-sql-driver does.
    private var switched = false
    /// Set after asking for the server's RSA key: the next "more data" packet is that key.
    private var awaitingPublicKey = false

    init(password: String, serverPlugin: String, nonce: [UInt8], transport: MySQLPasswordTransport = .init()) {
        self.password = password
        self.nonce = nonce
        self.transport = transport
        // Like go-sql-driver: a default plugin we do not speak (or cannot use here) gets a native
        // answer, and the server then switches to whatever the account really uses.
        var spoken = [Self.nativePassword, Self.cachingSHA2]
        if transport.overTLS || transport.allowsRSA { spoken.append(Self.sha256Password) }
        self.pluginName = spoken.contains(serverPlugin) ? serverPlugin : Self.nativePassword
    }

    /// The password as the plain-text plugins send it: NUL-terminated.
    private var passwordPacket: [UInt8] { Array(password.utf8) + [0] }

    /// The auth response that goes into the handshake response packet.
    mutating func initialResponse() throws -> [UInt8] {
        try response(plugin: pluginName)
    }

    private mutating func response(plugin: String) throws -> [UInt8] {
        switch plugin {
        case Self.nativePassword: return MySQLScramble.nativePassword(password: password, nonce: nonce)
        case Self.cachingSHA2: return MySQLScramble.cachingSHA2(password: password, nonce: nonce)
        case Self.sha256Password:
            if password.isEmpty { return [0] }
            if transport.overTLS { return passwordPacket }
            guard transport.allowsRSA else { throw refusal(Self.sha256Password) }
            awaitingPublicKey = true
            return [0x01]
        case Self.clearPassword where transport.overTLS:
            return passwordPacket
        case Self.clearPassword:
            throw MySQLError(.unsupported, "the server asked for mysql_clear_password, which would send the password "
                + "in clear text without TLS; dbsecrets refuses it (use tls=true or the tls_* fields)")
        default:
            throw MySQLError(.unsupported, "the server asked for the authentication plugin \(plugin), which dbsecrets "
                + "does not support: give the account caching_sha2_password, sha256_password or mysql_native_password "
                + "(or mysql_clear_password, over TLS only)")
        }
    }

    /// Why the password stays here: the plugin the server asked for, and what would allow it.
    private func refusal(_ what: String) -> MySQLError {
        MySQLError(.unsupported, "the server asked for \(what), which sends the password; without TLS dbsecrets sends "
            + "it only encrypted with the server's RSA key, and none is configured. Use tls=true or the tls_* fields, or "
            + "give the server's public key (its public_key.pem) in server_public_key, or add allowPublicKeyRetrieval=true "
            + "to connection_url to take the key the server sends over this unencrypted connection (Vault's driver always "
            + "does; a man in the middle could hand over its own)")
    }

    /// What to do with a packet the server sent after the handshake response.
    mutating func handle(_ payload: [UInt8]) throws -> Step {
        guard let header = payload.first else {
            throw MySQLError(.protocolViolation, "empty packet from the server during authentication")
        }
        switch header {
        case MySQLResponse.okHeader:
            return .done
        case MySQLResponse.errHeader:
            throw MySQLResponse.error(from: payload)
        case 0xfe:
            guard payload.count > 1 else {
                throw MySQLError(.unsupported, "the server asked for the pre-4.1 mysql_old_password authentication, "
                    + "which dbsecrets does not support")
            }
            guard !switched else {
                throw MySQLError(.protocolViolation, "the server asked to switch the authentication plugin a second time")
            }
            switched = true
            awaitingPublicKey = false
            var reader = MySQLPacketReader(payload)
            try reader.skip(1)
            pluginName = reader.nulTerminatedString()
            var data = reader.rest()
            if data.last == 0 { data.removeLast() }
            nonce = data
            return .send(try response(plugin: pluginName))
        case 0x01:
            let data = Array(payload.dropFirst())
            if awaitingPublicKey {
                awaitingPublicKey = false
                return .send(try encryptedPassword(serverKey: data))
            }
            if pluginName == Self.cachingSHA2 {
                if data == [0x03] { return .wait }
                if data == [0x04] { return .send(try fullAuthentication()) }
            }
            throw MySQLError(.protocolViolation, "the server sent unexpected authentication data for \(pluginName)")
        default:
            throw MySQLError(.protocolViolation, "unexpected packet 0x\(String(header, radix: 16)) during authentication")
        }
    }

    /// caching_sha2_password's full authentication: the account is not in the server's cache
    /// (after a restart, FLUSH PRIVILEGES or a password change).
    private mutating func fullAuthentication() throws -> [UInt8] {
        if transport.overTLS || transport.overUnixSocket { return passwordPacket }
        guard transport.allowsRSA else {
            throw refusal("caching_sha2_password full authentication (its cache does not hold this account, as after "
                + "a restart or a password change)")
        }
        awaitingPublicKey = true
        return [0x02]
    }

    /// The password for the RSA key the server sent, once that key is the pinned one or may be taken.
    private mutating func encryptedPassword(serverKey pem: [UInt8]) throws -> [UInt8] {
        let offered = try MySQLRSAPublicKey(pem: pem, kind: .protocolViolation, source: "the RSA key the server sent")
        if let pinned = transport.serverPublicKey {
            guard try offered.sameKey(as: pinned) else {
                throw MySQLError(.configuration, "the server's RSA public key (for \(pluginName)) is not the one in "
                    + "server_public_key, so the password was not sent: give the key of this server (its public_key.pem), "
                    + "or check that this is the server meant")
            }
        }
        return try (transport.serverPublicKey ?? offered).encryptPassword(password, nonce: nonce)
    }
}
