import DBPlugin
import Foundation
import XCTest

/// DBPlugin's percent-encoding (the binary has no CharacterSet) against Foundation's.
final class PercentEncodingTests: XCTestCase {
    private let samples = ["", "plain", "a b+c", "p@ss:w/rd?#[]", "100%", "é€👩‍👩‍👧", "\u{0}\u{7f}", "~-._!$&'()*,;=", "ｘ\u{301}"]

    func testEncodingMatchesAddingPercentEncoding() {
        var asciiAlphanumerics = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        asciiAlphanumerics.insert(charactersIn: "-._~/")
        for text in samples {
            XCTAssertEqual(PercentEncoding.encoded(text, keeping: PercentEncoding.isASCIIAlphanumeric),
                           text.addingPercentEncoding(withAllowedCharacters: .alphanumerics), text)
            XCTAssertEqual(PercentEncoding.encoded(text) { PercentEncoding.isASCIIAlphanumeric($0) || "-._~/".unicodeScalars.contains($0) },
                           text.addingPercentEncoding(withAllowedCharacters: asciiAlphanumerics), text)
        }
    }

    func testDecodingMatchesRemovingPercentEncoding() {
        for text in samples + ["%41%62", "%e2%82%ac", "%E2%82%AC", "%", "%4", "%zz", "%ff", "%C3", "a+b", "%00"] {
            XCTAssertEqual(PercentEncoding.decoded(text), text.removingPercentEncoding, text)
        }
        XCTAssertEqual(PercentEncoding.decoded("a+b%20c", plusIsSpace: true), "a b c")
    }
}
