import Foundation
import TestSupport
import XCTest
@testable import MySQLPlugin

/// An RSA key pair made with the `openssl` command for one test, and its decryption by the same
/// command: an implementation independent of ours checks what we encrypt.
final class RSATestKey {
    private let folder = TemporaryFolder("dbsecrets-rsa")
    let publicPEM: String
    var privateKeyFile: String { folder.url.appendingPathComponent("private.pem").path }

    init(bits: Int = 2048) throws {
        let key = folder.url.appendingPathComponent("private.pem").path
        let made = try ProcessRunner.run("/usr/bin/openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:\(bits)", "-out", key])
        guard made.status == 0 else { throw NSError(domain: "RSATestKey", code: 1, userInfo: [NSLocalizedDescriptionKey: made.stderr]) }
        publicPEM = try ProcessRunner.run("/usr/bin/openssl", ["pkey", "-in", key, "-pubout"]).stdout
    }

    deinit { folder.remove() }

    /// Two key pairs for the whole run: making one takes up to a second.
    nonisolated(unsafe) private static var pairs: [RSATestKey] = []
    private static let lock = NSLock()
    static func shared() throws -> RSATestKey { try pair(0) }
    static func other() throws -> RSATestKey { try pair(1) }
    private static func pair(_ index: Int) throws -> RSATestKey {
        try lock.withLock {
            while pairs.count <= index { pairs.append(try RSATestKey()) }
            return pairs[index]
        }
    }

    var publicKey: MySQLRSAPublicKey { get throws { try MySQLRSAPublicKey(pem: Array(publicPEM.utf8), kind: .configuration, source: "test key") } }

    /// RSA-OAEP decryption with SHA-1 and MGF1-SHA-1, as MySQL's server does it.
    func decrypt(_ ciphertext: [UInt8]) throws -> [UInt8] {
        let input = folder.url.appendingPathComponent("in"), output = folder.url.appendingPathComponent("out")
        try Data(ciphertext).write(to: input)
        let result = try ProcessRunner.run("/usr/bin/openssl", [
            "pkeyutl", "-decrypt", "-inkey", folder.url.appendingPathComponent("private.pem").path, "-in", input.path,
            "-out", output.path, "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha1", "-pkeyopt", "rsa_mgf1_md:sha1",
        ])
        guard result.status == 0 else { throw NSError(domain: "RSATestKey", code: 2, userInfo: [NSLocalizedDescriptionKey: result.stderr]) }
        return Array(try Data(contentsOf: output))
    }
}

/// (password + NUL) XOR the nonce, which the server recovers by decrypting and XORing again.
func maskedPassword(_ password: String, _ nonce: [UInt8]) -> [UInt8] {
    (Array(password.utf8) + [0]).enumerated().map { $0.element ^ nonce[$0.offset % nonce.count] }
}

final class MySQLRSATests: XCTestCase {
    private let nonce = Array(UInt8(1)...UInt8(20))

    func testThePasswordEncryptedWithOAEPDecryptsWithOpenSSLsCommand() throws {
        let key = try RSATestKey.shared()
        let password = "Pw-rsa-0123456789-longer-than-the-twenty-byte-nonce"
        let ciphertext = try key.publicKey.encryptPassword(password, nonce: nonce)
        XCTAssertEqual(ciphertext.count, 256, "one block of a 2048-bit key")
        XCTAssertEqual(try key.decrypt(ciphertext), maskedPassword(password, nonce))
        XCTAssertNotEqual(try key.publicKey.encryptPassword(password, nonce: nonce), ciphertext, "OAEP is randomized")
    }

    func testTheSameKeyIsRecognizedHoweverItsPEMIsLaidOut() throws {
        let key = try RSATestKey.shared(), other = try RSATestKey.other()
        let rewrapped = key.publicPEM.replacingOccurrences(of: "\n", with: "\r\n")
        let same = try MySQLRSAPublicKey(pem: Array(rewrapped.utf8), kind: .configuration, source: "test")
        XCTAssertTrue(try key.publicKey.sameKey(as: same))
        XCTAssertFalse(try key.publicKey.sameKey(as: other.publicKey))
    }

    func testWhatIsNotAnRSAPublicKeyIsRefusedWithItsSource() throws {
        for text in ["", "not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"] {
            XCTAssertThrowsError(try MySQLRSAPublicKey(pem: Array(text.utf8), kind: .configuration, source: "server_public_key")) { error in
                XCTAssertEqual((error as? MySQLError)?.kind, .configuration)
                XCTAssertTrue("\(error)".hasPrefix("server_public_key is not a PEM public key (-----BEGIN PUBLIC KEY-----"), "\(error)")
            }
        }
        let folder = TemporaryFolder("dbsecrets-ec")
        defer { folder.remove() }
        let ecKey = folder.url.appendingPathComponent("ec.pem").path
        _ = try ProcessRunner.run("/usr/bin/openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", ecKey])
        let ecPublic = try ProcessRunner.run("/usr/bin/openssl", ["pkey", "-in", ecKey, "-pubout"]).stdout
        XCTAssertThrowsError(try MySQLRSAPublicKey(pem: Array(ecPublic.utf8), kind: .protocolViolation, source: "the RSA key the server sent")) { error in
            XCTAssertEqual("\(error)", "the RSA key the server sent is not an RSA public key")
        }
    }

    func testAPasswordTooLongForTheKeyIsAClearError() throws {
        let key = try RSATestKey(bits: 1024)  // OAEP-SHA-1 fits 86 bytes in a 1024-bit block
        XCTAssertThrowsError(try key.publicKey.encryptPassword(String(repeating: "p", count: 100), nonce: nonce)) { error in
            XCTAssertTrue("\(error)".hasPrefix("could not encrypt the password with the server's RSA key: "), "\(error)")
            XCTAssertFalse("\(error)".contains("ppppp"))
        }
    }
}
