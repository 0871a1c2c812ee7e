import Foundation
@testable import PostgresPlugin
import XCTest

/// The decisions of `PostgresAuthenticationPolicy` one by one; the hostile-server tests show the
/// same decisions against a server.
final class PostgresAuthenticationPolicyTests: XCTestCase {
    private func policy(_ requireAuth: String?, scramOnly: Bool = false, binding: String = "prefer") throws -> PostgresAuthenticationPolicy {
        try PostgresAuthenticationPolicy(requireAuth: requireAuth, scramOnly: scramOnly, channelBinding: binding)
    }

    func testPasswordsInClearOrAsMD5GoOnlyOverTLSUnlessNamed() throws {
        let open = try policy(nil)
        for method in [PostgresAuthenticationPolicy.Method.password, .md5] {
            XCTAssertNoThrow(try open.checkPasswordRequest(method, encrypted: true, server: "s"))
            XCTAssertThrowsError(try open.checkPasswordRequest(method, encrypted: false, server: "s"))
            XCTAssertNoThrow(try policy(method.rawValue).checkPasswordRequest(method, encrypted: false, server: "s"))
            // A negative list does not name it: no consent to clear text.
            XCTAssertThrowsError(try policy("!gss").checkPasswordRequest(method, encrypted: false, server: "s"))
            XCTAssertThrowsError(try policy(nil, scramOnly: true).checkPasswordRequest(method, encrypted: true, server: "s"))
            XCTAssertThrowsError(try policy("scram-sha-256").checkPasswordRequest(method, encrypted: true, server: "s"))
        }
    }

    func testRequireAuthIsParsedAsLibpqDoes() throws {
        XCTAssertEqual(try policy("password,md5").allowed, [.password, .md5])
        XCTAssertEqual(try policy("!password,!md5").allowed, [.scramSHA256, .gss, .sspi, .none])
        XCTAssertThrowsError(try policy("password,!md5"))
        XCTAssertThrowsError(try policy("kerberos"))
        XCTAssertThrowsError(try policy("md5", binding: "require"))
        XCTAssertThrowsError(try policy(nil, binding: "sometimes"))
    }

    func testAnUnauthenticatedLoginIsAllowedOnlyWhenNoneIs() throws {
        XCTAssertNoThrow(try policy(nil).checkCompleted(method: nil, scramVerified: false, channelBound: false, server: "s"))
        XCTAssertThrowsError(try policy(nil, scramOnly: true).checkCompleted(method: nil, scramVerified: false, channelBound: false, server: "s"))
        XCTAssertThrowsError(try policy(nil, binding: "require").checkCompleted(method: nil, scramVerified: false, channelBound: false, server: "s"))
    }

    func testSCRAMIsCompleteOnlyWithTheServersVerifiedProof() throws {
        XCTAssertThrowsError(try policy(nil).checkCompleted(method: .scramSHA256, scramVerified: false, channelBound: false, server: "s"))
        XCTAssertNoThrow(try policy(nil).checkCompleted(method: .scramSHA256, scramVerified: true, channelBound: false, server: "s"))
        XCTAssertThrowsError(try policy(nil, binding: "require").checkCompleted(method: .scramSHA256, scramVerified: true,
                                                                                 channelBound: false, server: "s"))
    }

    func testChannelBindingIsChosenFromWhatTheServerOffersAndTheSession() throws {
        let both = ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]
        XCTAssertEqual(try policy(nil).chooseSASL(offered: both, tlsEndPoint: [1, 2], encrypted: true, server: "s"), .serverEndPoint([1, 2]))
        XCTAssertEqual(try policy(nil).chooseSASL(offered: ["SCRAM-SHA-256"], tlsEndPoint: [1], encrypted: true, server: "s"),
                       .supportedButNotUsed)
        XCTAssertEqual(try policy(nil).chooseSASL(offered: both, tlsEndPoint: nil, encrypted: false, server: "s"), .notSupported)
        XCTAssertEqual(try policy(nil, binding: "disable").chooseSASL(offered: both, tlsEndPoint: [1], encrypted: true, server: "s"),
                       .notSupported)
        XCTAssertThrowsError(try policy(nil, binding: "require").chooseSASL(offered: ["SCRAM-SHA-256"], tlsEndPoint: [1],
                                                                             encrypted: true, server: "s"))
    }

    func testTheBoundSCRAMExchangeCarriesTheCertificateHash() throws {
        let hash: [UInt8] = Array(repeating: 0xab, count: 32)
        var scram = SCRAMAuthenticator(password: "pencil", binding: .serverEndPoint(hash), clientNonce: "rOprNGfwEbeRWgbNEkqO")
        XCTAssertEqual(scram.mechanismName, "SCRAM-SHA-256-PLUS")
        XCTAssertEqual(scram.clientFirstMessage, "p=tls-server-end-point,,n=,r=rOprNGfwEbeRWgbNEkqO")
        let final = try scram.clientFinalMessage(
            serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
        let expected = Data(Array("p=tls-server-end-point,,".utf8) + hash).base64EncodedString()
        XCTAssertTrue(final.hasPrefix("c=\(expected),r="), final)
        XCTAssertEqual(SCRAMAuthenticator(password: "p", binding: .supportedButNotUsed).clientFirstMessage.prefix(3), "y,,")
    }
}
