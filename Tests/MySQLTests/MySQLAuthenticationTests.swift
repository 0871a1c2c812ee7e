import Foundation
import TestSupport
import XCTest
@testable import MySQLPlugin

/// The password scrambles and the login conversation, on bytes, without a server.
final class MySQLAuthenticationTests: XCTestCase {
    /// Nonce 0x01…0x14 and password "secret"; expected values computed independently with Python's hashlib.
    private let nonce = Array(UInt8(1)...UInt8(20))

    func testNativePasswordScrambleMatchesIndependentVector() {
        XCTAssertEqual(MySQLScramble.nativePassword(password: "secret", nonce: nonce).hex,
                       "b32bb3a583e1340c0a1108d58b1be49781ad8c2f")
    }

    func testCachingSHA2ScrambleMatchesIndependentVector() {
        XCTAssertEqual(MySQLScramble.cachingSHA2(password: "secret", nonce: nonce).hex,
                       "746ebe205d56a0707acb3e796e834e0dd7b1d61743b26bd5202c7a623230c7c9")
    }

    func testEmptyPasswordSendsEmptyAuthResponse() {
        XCTAssertEqual(MySQLScramble.nativePassword(password: "", nonce: nonce), [])
        XCTAssertEqual(MySQLScramble.cachingSHA2(password: "", nonce: nonce), [])
    }

    func testMariaDBHandshakeIsDecoded() throws {
        // The first packet of MariaDB 10.11.19 (payload only), captured from the test server.
        let payload = bytes("0a352e352e352d31302e31312e31392d4d6172696144422d302b6465623132753100070000002e29257a5a322d2900"
            + "fef7080200ff81150000000000001d000000272523232221217e7b6d324e006d7973716c5f6e61746976655f70617373776f726400")
        let handshake = try MySQLHandshake.decode(payload)
        XCTAssertEqual(handshake.serverVersion, "5.5.5-10.11.19-MariaDB-0+deb12u1")
        XCTAssertEqual(handshake.connectionID, 7)
        XCTAssertEqual(handshake.authPluginName, "mysql_native_password")
        XCTAssertEqual(handshake.nonce.count, 20)
        XCTAssertEqual(Array(handshake.nonce.prefix(8)), bytes("2e29257a5a322d29"))
        XCTAssertTrue(handshake.capabilities.contains([.protocol41, .secureConnection, .pluginAuth]))
    }

    func testCachingSHA2FastAuthSuccessWaitsForOK() throws {
        var auth = MySQLAuthenticator(password: "secret", serverPlugin: "caching_sha2_password", nonce: nonce)
        XCTAssertEqual(try auth.initialResponse(), MySQLScramble.cachingSHA2(password: "secret", nonce: nonce))
        XCTAssertEqual(try auth.handle([0x01, 0x03]), .wait)
        XCTAssertEqual(try auth.handle([0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00]), .done)
    }

    func testCachingSHA2FullAuthenticationIsAClearError() {
        var auth = MySQLAuthenticator(password: "Pw-full-auth-0123", serverPlugin: "caching_sha2_password", nonce: nonce)
        XCTAssertThrowsError(try auth.handle([0x01, 0x04])) { error in
            let error = error as? MySQLError
            XCTAssertEqual(error?.kind, .unsupported)
            XCTAssertTrue(error?.message.contains("requires TLS or the server's RSA key") == true, "\(String(describing: error))")
            XCTAssertFalse(error?.message.contains("Pw-full-auth-0123") == true)
        }
    }

    func testAuthSwitchRequestIsAnsweredWithTheNewPluginAndNonce() throws {
        var auth = MySQLAuthenticator(password: "secret", serverPlugin: "mysql_native_password", nonce: Array(repeating: 9, count: 20))
        let switchNonce = Array(UInt8(1)...UInt8(20))
        let request: [UInt8] = [0xfe] + Array("caching_sha2_password".utf8) + [0] + switchNonce + [0]
        XCTAssertEqual(try auth.handle(request), .send(MySQLScramble.cachingSHA2(password: "secret", nonce: switchNonce)))
        XCTAssertEqual(auth.pluginName, "caching_sha2_password")
        XCTAssertEqual(try auth.handle([0x01, 0x03]), .wait)
    }

    func testUnknownDefaultPluginStartsWithNativeAnswer() throws {
        let auth = MySQLAuthenticator(password: "secret", serverPlugin: "client_ed25519", nonce: nonce)
        XCTAssertEqual(auth.pluginName, "mysql_native_password")
        XCTAssertEqual(try auth.initialResponse(), MySQLScramble.nativePassword(password: "secret", nonce: nonce))
    }

    func testSwitchToUnsupportedPluginIsRefused() {
        var auth = MySQLAuthenticator(password: "secret", serverPlugin: "mysql_native_password", nonce: nonce)
        XCTAssertThrowsError(try auth.handle([0xfe] + Array("mysql_clear_password".utf8) + [0])) { error in
            XCTAssertEqual((error as? MySQLError)?.kind, .unsupported)
        }
        XCTAssertThrowsError(try auth.handle([0xfe] + Array("client_ed25519".utf8) + [0] + nonce)) { error in
            XCTAssertTrue("\(error)".contains("client_ed25519"))
        }
    }

    func testErrorPacketDuringLoginCarriesCodeAndSQLState() {
        var auth = MySQLAuthenticator(password: "secret", serverPlugin: "mysql_native_password", nonce: nonce)
        let message = "Access denied for user 'x'@'localhost' (using password: YES)"
        let packet: [UInt8] = [0xff, 0x15, 0x04] + Array("#28000".utf8) + Array(message.utf8)
        XCTAssertThrowsError(try auth.handle(packet)) { error in
            let error = error as? MySQLError
            XCTAssertEqual(error?.code, 1045)
            XCTAssertEqual(error?.sqlState, "28000")
            XCTAssertEqual(error?.description, "Error 1045 (28000): \(message)")
        }
    }
}

extension Array where Element == UInt8 {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}

func bytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        out.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return out
}
