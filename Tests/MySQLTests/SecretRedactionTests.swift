import DBPlugin
import XCTest

/// The shared redaction every SQL plugin runs its error texts through.
final class SecretRedactionTests: XCTestCase {
    func testEverySecretIsReplacedLongestFirst() {
        let text = "login as app with pw-123 failed; root pw-123-root refused"
        XCTAssertEqual(text.redacting(["pw-123", "pw-123-root", ""]),
                       "login as app with [password] failed; root [password] refused")
        XCTAssertEqual(text.redacting([]), text)
    }
}
