@testable import PostgresPlugin
import XCTest

final class SCRAMAuthenticatorTests: XCTestCase {
    /// RFC 7677 section 3: user "user", password "pencil".
    func testReplaysTheRFC7677Exchange() throws {
        var scram = SCRAMAuthenticator(username: "user", password: "pencil", clientNonce: "rOprNGfwEbeRWgbNEkqO")
        XCTAssertEqual(scram.clientFirstMessage, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO")

        let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        XCTAssertEqual(try scram.clientFinalMessage(serverFirst: serverFirst),
                       "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                           + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
        XCTAssertNoThrow(try scram.verify(serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="))
    }

    func testRejectsAServerThatDoesNotKnowThePassword() throws {
        var scram = SCRAMAuthenticator(username: "user", password: "pencil", clientNonce: "rOprNGfwEbeRWgbNEkqO")
        _ = try scram.clientFinalMessage(
            serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
        XCTAssertThrowsError(try scram.verify(serverFinal: "v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="))
        XCTAssertThrowsError(try scram.verify(serverFinal: "e=invalid-proof"))
    }

    func testRejectsAServerNonceThatDoesNotExtendOurs() {
        var scram = SCRAMAuthenticator(password: "pencil", clientNonce: "abc")
        XCTAssertThrowsError(try scram.clientFinalMessage(serverFirst: "r=xyz123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
        XCTAssertThrowsError(try scram.clientFinalMessage(serverFirst: "r=abc123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0"))
    }

    /// The verifier PostgreSQL stores for `password_authentication=scram-sha-256`.
    func testBuildsThePgAuthidVerifier() throws {
        let salt = Array(try XCTUnwrap(Data(base64Encoded: "W22ZaJ0SNY7soEsUEjb6gQ==")))
        XCTAssertEqual(SCRAMAuthenticator.verifier(password: "pencil", salt: salt, iterations: 4096),
                       "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"
                           + "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=")
    }

    func testMD5ResponseIsMD5OfMD5OfPasswordAndUserThenSalt() {
        XCTAssertEqual(PostgresConnection.md5Response(user: "md5user", password: "secret", salt: [1, 2, 3, 4]),
                       "md56b614f1bd5dc8478f5705c783c9bbdc0")
    }
}
