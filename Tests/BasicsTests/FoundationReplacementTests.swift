import Basics
import Foundation
import XCTest

/// What the binary does without Foundation (it links only FoundationEssentials), against what
/// Foundation does, which this test process has.
final class FoundationReplacementTests: XCTestCase {
    private let awkward = ["", " ", "\t a b \t", "\n\r x \u{85}", "\u{00a0}\u{2003}x\u{3000}", "\u{2028}y\u{2029}",
                           " \u{301}x", "x\u{200b}", "\u{feff}z", "\u{0b}\u{0c}w\u{1c}", "é ", "👩‍👩‍👧 \n",
                           "plain", "a b", "!~", "x\u{301}", "a\u{2003}"]

    func testTrimmingMatchesCharacterSetTrimming() {
        for text in awkward {
            XCTAssertEqual(text.trimmingWhitespace(), text.trimmingCharacters(in: .whitespaces), text.debugDescription)
            XCTAssertEqual(text.trimmingWhitespaceAndNewlines(), text.trimmingCharacters(in: .whitespacesAndNewlines), text.debugDescription)
            XCTAssertEqual(text.trimmingNewlines(), text.trimmingCharacters(in: .newlines), text.debugDescription)
            XCTAssertEqual(text.trimming(scalarsIn: " \t"), text.trimmingCharacters(in: CharacterSet(charactersIn: " \t")), text.debugDescription)
            XCTAssertEqual(text.trimming(scalarsIn: "a!~"), text.trimmingCharacters(in: CharacterSet(charactersIn: "a!~")), text.debugDescription)
            XCTAssertEqual(Substring(text).trimmingWhitespace(), Substring(text).trimmingCharacters(in: .whitespaces))
        }
    }

    func testTrimmingSetsAreFoundationsOverTheBasicPlane() {
        for value in UInt32(0)...0xFFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let text = String(scalar)
            XCTAssertEqual(text.trimmingWhitespace().isEmpty, CharacterSet.whitespaces.contains(scalar), "U+\(String(value, radix: 16))")
            XCTAssertEqual(text.trimmingWhitespaceAndNewlines().isEmpty, CharacterSet.whitespacesAndNewlines.contains(scalar), "U+\(String(value, radix: 16))")
            XCTAssertEqual(text.trimmingNewlines().isEmpty, CharacterSet.newlines.contains(scalar), "U+\(String(value, radix: 16))")
        }
    }

    func testJoiningStringsIsTheStandardLibrarysJoin() {
        func standard<S: Sequence>(_ parts: S, _ separator: String) -> String where S.Element == String {
            parts.joined(separator: separator)
        }
        for parts in [[], [""], ["a"], ["", ""], ["a", "b", "c"], ["é", "👩‍👩‍👧", "\u{301}"]] as [[String]] {
            for separator in ["", ", ", "\n"] {
                XCTAssertEqual(parts.joined(separator: separator), standard(parts, separator))
            }
            XCTAssertEqual(parts.joined(), standard(parts, ""))
        }
    }

    func testProcessEnvironmentIsProcessInfosEnvironment() {
        setenv("DBSECRETS_TEST_ODD_VALUE", "a=b=c é", 1)
        setenv("DBSECRETS_TEST_EMPTY_VALUE", "", 1)
        XCTAssertEqual(processEnvironment(), ProcessInfo.processInfo.environment)
        XCTAssertEqual(processEnvironment()["DBSECRETS_TEST_ODD_VALUE"], "a=b=c é")
        XCTAssertEqual(processEnvironment()["DBSECRETS_TEST_EMPTY_VALUE"], "")
    }

    func testCFormatMatchesStringFormat() {
        XCTAssertEqual(cFormat("%.3f", 1.2345), String(format: "%.3f", 1.2345))
        XCTAssertEqual(cFormat("%.1fms", 0.05), String(format: "%.1fms", 0.05))
        XCTAssertEqual(cFormat("%.0f", 123456789012345678901.0), String(format: "%.0f", 123456789012345678901.0))
        XCTAssertEqual(cFormat("%.0f", -0.0), String(format: "%.0f", -0.0))
        XCTAssertEqual(cFormat("%02x", UInt8(7)), String(format: "%02x", UInt8(7)))
        XCTAssertEqual(cFormat("%%%02X", UInt8(0xab)), String(format: "%%%02X", UInt8(0xab)))
        XCTAssertEqual(cFormat("\\u%04x", UInt32(0x1f)), String(format: "\\u%04x", UInt32(0x1f)))
        XCTAssertEqual(cFormat("'\\x%02x'", UInt8(0)), String(format: "'\\x%02x'", UInt8(0)))
        // Longer than the first buffer.
        XCTAssertEqual(cFormat("%.70f", 1.0), String(format: "%.70f", 1.0))
    }

    func testLockExcludes() {
        let lock = Lock()
        nonisolated(unsafe) var count = 0
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<10_000 { lock.withLock { count += 1 } }
        }
        XCTAssertEqual(count, 80_000)
    }

    func testFileDescriptorIORoundTripsThroughAPipe() {
        var ends: [Int32] = [-1, -1]
        XCTAssertEqual(pipe(&ends), 0)
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0) }
        let writeEnd = ends[1]
        let writer = Thread {
            FileDescriptorIO.write(bytes, to: writeEnd)
            close(writeEnd)
        }
        writer.start()
        XCTAssertEqual(FileDescriptorIO.readToEnd(from: ends[0]), bytes)
        XCTAssertEqual(FileDescriptorIO.readAvailable(from: ends[0]), [], "end of input")
        close(ends[0])
    }

    func testLocalUTCOffsetIsTheLocalZones() {
        for seconds: Int64 in [0, 1_751_328_000, 1_764_633_600] {
            XCTAssertEqual(CivilDate.localUTCOffset(unixSeconds: seconds),
                           TimeZone.current.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
        }
    }

    func testPasswordDatabaseHomeIsNSHomeDirectoryWithoutHOME() {
        XCTAssertEqual(passwordDatabaseHome(), NSHomeDirectoryForUser(NSUserName()))
    }
}
