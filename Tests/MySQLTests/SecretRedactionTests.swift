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

/// Values too short to be secrets are left alone: redacting `p` everywhere would print
/// `re[password]ly` and so tell the password.
final class ShortValueRedactionTests: XCTestCase {
    func testValuesShorterThanTheMinimumAreNotRedacted() {
        XCTAssertEqual("reply from pass".redacting(["p", "pass", "ly"]), "reply from pass")
        XCTAssertEqual("secret1 in reply".redacting(["secret1", "p"]), "[password] in reply")
        XCTAssertEqual(SecretRedaction.minimumLength, 6)
    }

    func testAnErrorNotWrittenForUsersIsNamedNotDescribed() {
        struct Record: Encodable { var password = "Root-Secret-42" }
        let error = EncodingError.invalidValue(Record(), .init(codingPath: [], debugDescription: "Root-Secret-42 too deep"))
        XCTAssertEqual(ErrorText.of(error), "a value cannot be written as JSON")
        struct Opaque: Error, CustomStringConvertible { var description: String { "Root-Secret-42" } }
        XCTAssertEqual(ErrorText.of(Opaque()), "unexpected error (Opaque)")
        XCTAssertEqual(ErrorText.of(PluginError(.database, "boom")), "boom")
    }
}
