@testable import CLI
import DBPlugin
import Engine
import Foundation
import XCTest

/// The CLI's one way out for every failure: whatever the error, one sanitized message.
final class ErrorPathTests: XCTestCase {
    private func report(_ error: Error, secrets: SecretRegistry = SecretRegistry()) -> (code: Int32, err: String) {
        var err = ""
        let terminal = Terminal(environment: [:], stdoutIsTerminal: false, out: { _ in XCTFail("stdout") }, err: { err += $0 }, stdin: { Data() })
        return (CommandLineTool.report(error, help: nil, terminal: terminal, secrets: secrets), err)
    }

    func testEverySecretTheProcessSawIsRedactedWhateverErrorCarriesIt() {
        let secrets = SecretRegistry()
        secrets.add("Old-Static-Pw-1")
        secrets.add(requestData: ["password": "Root-Pw-From-Stdin", "connection_url": "u:Url-Pw-1234@tcp(h:1)/"])
        secrets.add("p")
        for error: Error in [EngineError.failed("a Old-Static-Pw-1 b Root-Pw-From-Stdin c Url-Pw-1234 reply"),
                             CommandFailure.engine("Error reading x: ", .failed("Root-Pw-From-Stdin")),
                             CommandFailure.usage("bad Url-Pw-1234")] {
            let (_, err) = report(error, secrets: secrets)
            for secret in ["Old-Static-Pw-1", "Root-Pw-From-Stdin", "Url-Pw-1234"] { XCTAssertFalse(err.contains(secret), err) }
            XCTAssertTrue(err.contains("[password]"), err)
            XCTAssertFalse(err.contains("re[password]ly"), "too short to redact: \(err)")
        }
    }

    func testAnErrorOfAnotherTypeIsNamedNeverDescribed() {
        struct Config: Encodable { var password = "Root-Secret-510" }
        let encoding = EncodingError.invalidValue(Config(), .init(codingPath: [], debugDescription: "Root-Secret-510"))
        var result = report(encoding)
        XCTAssertEqual(result.code, 2)
        XCTAssertEqual(result.err, "a value cannot be written as JSON\n")
        struct Opaque: Error {}
        result = report(Opaque())
        XCTAssertEqual(result.err, "unexpected error (Opaque)\n")
    }

    func testAnEngineErrorIsOneLineWithItsControlCharactersVisible() {
        let (code, err) = report(EngineError.failed("first\nsecond \u{1b}[31m"))
        XCTAssertEqual(code, 2)
        XCTAssertEqual(err, "first second \\u{1b}[31m\n")
    }
}
