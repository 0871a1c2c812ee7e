import Basics
import CryptoPrimitives
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677), and of SCRAM-SHA-256-PLUS with the
/// `tls-server-end-point` channel binding (RFC 5929) over TLS, as PostgreSQL speaks them.
///
/// PostgreSQL takes the user from the startup message and ignores the SCRAM user name, so the
/// connection sends an empty one; the name is a parameter only so the RFC's example can be replayed.
struct SCRAMAuthenticator {
    static let mechanism = "SCRAM-SHA-256"
    static let mechanismPlus = "SCRAM-SHA-256-PLUS"

    /// The GS2 channel-binding flag the client sends.
    enum Binding: Equatable {
        /// "n": no TLS, or binding disabled.
        case notSupported
        /// "y": the client could bind, but the server did not offer SCRAM-SHA-256-PLUS.
        case supportedButNotUsed
        /// "p=tls-server-end-point": bound to the server certificate's hash.
        case serverEndPoint([UInt8])
    }
    /// PostgreSQL's default is 4096; 1,000,000 is far beyond any real setting yet takes seconds.
    static let maximumIterations = 1_000_000

    private let username: String
    private let password: String
    private let clientNonce: String
    let binding: Binding
    private var expectedServerSignature: [UInt8]?
    /// True once the server's final message carried the signature only the password's owner can make.
    private(set) var isVerified = false
    /// The salted password of this login and its digest in `DerivedKeys`: remembered once the
    /// server's signature proves it right, forgotten if it came from the store and was refused.
    private var salted: (digest: [UInt8], key: [UInt8], fromStore: Bool)?

    init(username: String = "", password: String, binding: Binding = .notSupported,
         clientNonce: String = SCRAMAuthenticator.randomNonce()) {
        self.username = username
        self.password = password
        self.binding = binding
        self.clientNonce = clientNonce
    }

    /// The mechanism name to announce in SASLInitialResponse.
    var mechanismName: String {
        if case .serverEndPoint = binding { return Self.mechanismPlus }
        return Self.mechanism
    }

    private var gs2Header: String {
        switch binding {
        case .notSupported: return "n,,"
        case .supportedButNotUsed: return "y,,"
        case .serverEndPoint: return "p=tls-server-end-point,,"
        }
    }

    /// The GS2 header and, when bound, the certificate hash: what `c=` carries.
    private var channelBindingInput: [UInt8] {
        if case .serverEndPoint(let hash) = binding { return Array(gs2Header.utf8) + hash }
        return Array(gs2Header.utf8)
    }

    private var clientFirstBare: String { "n=\(Self.saslName(username)),r=\(clientNonce)" }

    var clientFirstMessage: String { gs2Header + clientFirstBare }

    /// Answers the server-first message with the client-final message carrying the proof.
    mutating func clientFinalMessage(serverFirst: String) throws -> String {
        let attributes = Self.attributes(serverFirst)
        guard let nonce = attributes["r"], let saltText = attributes["s"], let iterationText = attributes["i"],
              let salt = Data(base64Encoded: saltText), let iterations = Int(iterationText), iterations > 0 else {
            throw PostgresClientError.authentication("SCRAM-SHA-256: malformed server-first message")
        }
        // The count comes from the server and PBKDF2 cannot be interrupted: a hostile or broken
        // server asking for billions would hang the login past every timeout.
        guard iterations <= Self.maximumIterations else {
            throw PostgresClientError.authentication(
                "SCRAM-SHA-256: the server asks for \(iterations) iterations, more than the \(Self.maximumIterations) this client allows")
        }
        guard nonce.hasPrefix(clientNonce), nonce.count > clientNonce.count else {
            throw PostgresClientError.authentication("SCRAM-SHA-256: server nonce does not extend the client nonce")
        }
        let digest = Self.saltedPasswordDigest(password: password, salt: Array(salt), iterations: iterations)
        let stored = DerivedKeys.store?.key(for: digest).flatMap { $0.count == 32 ? $0 : nil }
        let key = stored ?? Self.saltedPassword(password: password, salt: Array(salt), iterations: iterations)
        salted = (digest, key, stored != nil)
        let keys = Self.keys(salted: key)
        let channelBinding = Data(channelBindingInput).base64EncodedString()
        let withoutProof = "c=\(channelBinding),r=\(nonce)"
        let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
        let clientSignature = HMAC.sha256(key: keys.storedKey, message: authMessage)
        let proof = zip(keys.clientKey, clientSignature).map { $0 ^ $1 }
        expectedServerSignature = HMAC.sha256(key: keys.serverKey, message: authMessage)
        return "\(withoutProof),p=\(Data(proof).base64EncodedString())"
    }

    /// Checks the server knew the password too: without this a server could accept anyone.
    mutating func verify(serverFinal: String) throws {
        let attributes = Self.attributes(serverFinal)
        if let error = attributes["e"] {
            refused()
            throw PostgresClientError.authentication("SCRAM-SHA-256: server rejected the proof: \(error)")
        }
        guard let expected = expectedServerSignature, let text = attributes["v"],
              let signature = Data(base64Encoded: text), Array(signature) == expected else {
            refused()
            throw PostgresClientError.authentication("SCRAM-SHA-256: server signature does not match")
        }
        isVerified = true
        if let salted, !salted.fromStore { DerivedKeys.store?.remember(salted.key, for: salted.digest) }
    }

    /// The server refused the login: a salted password from the store is forgotten, so a damaged
    /// store costs one failed login, never more.
    func refused() {
        if let salted, salted.fromStore { DerivedKeys.store?.forget(salted.digest) }
    }

    /// What the salted password is derived from, unambiguously: the salt's length, the salt, the
    /// count, the password.
    static func saltedPasswordDigest(password: String, salt: [UInt8], iterations: Int) -> [UInt8] {
        func bigEndian(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
        return SHA256.hash(Array("dbsecrets SCRAM-SHA-256 salted password\u{0}".utf8) + bigEndian(salt.count) + salt
                           + bigEndian(iterations) + Array(password.utf8))
    }

    struct Keys {
        var clientKey: [UInt8]
        var storedKey: [UInt8]
        var serverKey: [UInt8]
    }

    static func keys(password: String, salt: [UInt8], iterations: Int) -> Keys {
        keys(salted: saltedPassword(password: password, salt: salt, iterations: iterations))
    }

    static func saltedPassword(password: String, salt: [UInt8], iterations: Int) -> [UInt8] {
        // SASLprep is the identity for the ASCII passwords Vault generates; like libpq when
        // normalization does not apply, the raw UTF-8 bytes are used otherwise.
        PBKDF2.sha256(password: Array(password.utf8), salt: salt, iterations: iterations, keyLength: 32)
    }

    static func keys(salted: [UInt8]) -> Keys {
        let clientKey = HMAC.sha256(key: salted, message: Array("Client Key".utf8))
        return Keys(clientKey: clientKey,
                    storedKey: SHA256.hash(clientKey),
                    serverKey: HMAC.sha256(key: salted, message: Array("Server Key".utf8)))
    }

    /// The verifier PostgreSQL stores in pg_authid, for `password_authentication=scram-sha-256`
    /// where the plaintext password never reaches the server.
    static func verifier(password: String, salt: [UInt8] = SecureRandom.bytes(16), iterations: Int = 4096) -> String {
        let k = keys(password: password, salt: salt, iterations: iterations)
        return "SCRAM-SHA-256$\(iterations):\(Data(salt).base64EncodedString())$"
            + "\(Data(k.storedKey).base64EncodedString()):\(Data(k.serverKey).base64EncodedString())"
    }

    static func randomNonce() -> String {
        Data(SecureRandom.bytes(18)).base64EncodedString()
    }


    private static func saslName(_ name: String) -> String {
        name.replacingEvery("=", with: "=3D").replacingEvery(",", with: "=2C")
    }

    private static func attributes(_ message: String) -> [String: String] {
        var result: [String: String] = [:]
        for part in message.split(separator: ",", omittingEmptySubsequences: true) {
            guard let eq = part.firstIndex(of: "=") else { continue }
            result[String(part[..<eq])] = String(part[part.index(after: eq)...])
        }
        return result
    }
}
