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

/// Answers the server's authentication packets for one login: the first response, auth switch
/// requests, and caching_sha2_password's "more data" replies. Works on bytes so it can be tested
/// without a server.
///
/// The password itself is sent only over TLS: for caching_sha2_password's full authentication,
/// sha256_password and mysql_clear_password. Without TLS those are refused (the RSA exchange that
/// would allow them is not implemented), whatever the server asks.
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
    /// Whether the session is encrypted, so the password may travel as it is.
    private let overTLS: Bool

    init(password: String, serverPlugin: String, nonce: [UInt8], overTLS: Bool = false) {
        self.password = password
        self.nonce = nonce
        self.overTLS = overTLS
        // Like go-sql-driver: a default plugin we do not speak gets a native answer, and the server
        // then switches to whatever the account really uses.
        let spoken = [Self.nativePassword, Self.cachingSHA2] + (overTLS ? [Self.sha256Password] : [])
        self.pluginName = spoken.contains(serverPlugin) ? serverPlugin : Self.nativePassword
    }

    /// The password as the plain-text plugins send it: NUL-terminated.
    private var passwordPacket: [UInt8] { Array(password.utf8) + [0] }

    /// The auth response that goes into the handshake response packet.
    func initialResponse() throws -> [UInt8] {
        try response(plugin: pluginName)
    }

    private func response(plugin: String) throws -> [UInt8] {
        switch plugin {
        case Self.nativePassword: return MySQLScramble.nativePassword(password: password, nonce: nonce)
        case Self.cachingSHA2: return MySQLScramble.cachingSHA2(password: password, nonce: nonce)
        case Self.clearPassword where overTLS, Self.sha256Password where overTLS:
            return passwordPacket
        case Self.clearPassword:
            throw MySQLError(.unsupported, "the server asked for mysql_clear_password, which would send the password "
                + "in clear text without TLS; dbsecrets refuses it (use tls=true or the tls_* fields)")
        case Self.sha256Password:
            throw MySQLError(.unsupported, "the server asked for sha256_password, which needs TLS or the server's RSA "
                + "key; dbsecrets sends it only over TLS (use tls=true or the tls_* fields)")
        default:
            throw MySQLError(.unsupported, "the server asked for the authentication plugin \(plugin), which dbsecrets "
                + "does not support (it supports mysql_native_password and caching_sha2_password)")
        }
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
            var reader = MySQLPacketReader(payload)
            try reader.skip(1)
            pluginName = reader.nulTerminatedString()
            var data = reader.rest()
            if data.last == 0 { data.removeLast() }
            nonce = data
            return .send(try response(plugin: pluginName))
        case 0x01:
            let data = Array(payload.dropFirst())
            if pluginName == Self.cachingSHA2 {
                if data == [0x03] { return .wait }
                if data == [0x04] {
                    // Full authentication: over TLS the password itself, as every client does.
                    if overTLS { return .send(passwordPacket) }
                    throw MySQLError(.unsupported, "caching_sha2_password full authentication is needed (the server "
                        + "has not cached this account's password yet), which requires TLS or the server's RSA key; "
                        + "without TLS dbsecrets does not send it. Connect with tls=true (or the tls_* fields), or "
                        + "log in once with another client to warm the cache")
                }
            }
            throw MySQLError(.unsupported, "the server asked for more authentication data for \(pluginName), "
                + "which dbsecrets does not support")
        default:
            throw MySQLError(.protocolViolation, "unexpected packet 0x\(String(header, radix: 16)) during authentication")
        }
    }
}
