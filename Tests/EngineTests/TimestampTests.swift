import Engine
import Foundation
import XCTest

/// State files and printed leases carry times as `2026-11-23T16:04:20.123Z`; the hand-written
/// formatter must agree with Foundation's ISO8601DateFormatter, and every stored time must read
/// back to the same millisecond.
final class TimestampTests: XCTestCase {
    private func foundationFormatter() -> ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f
    }

    func testFormatsLikeFoundation() {
        let foundation = foundationFormatter()
        var generator = SystemRandomNumberGenerator()
        let fixed: [TimeInterval] = [0, 0.001, 0.0004, 0.9996, 59.999, 951_782_400, 4_107_542_399.5, 1_795_451_029.5106]
        let random = (0..<3000).map { _ in Double.random(in: 0...4_102_444_800, using: &generator) }
        for seconds in fixed + random {
            // Foundation rounds the last half millisecond of a minute up into the next one; we don't.
            let millisIntoMinute = (seconds * 1000).truncatingRemainder(dividingBy: 60_000)
            if millisIntoMinute > 59_999.4 { continue }
            let date = Date(timeIntervalSince1970: seconds)
            XCTAssertEqual(Timestamp.format(date), foundation.string(from: date), "at \(seconds)")
        }
    }

    func testTheLastHalfMillisecondOfAMinuteStaysInItsMinute() {
        XCTAssertEqual(Timestamp.format(Date(timeIntervalSince1970: 59.99996)), "1970-01-01T00:00:59.999Z")
        XCTAssertEqual(Timestamp.format(Date(timeIntervalSince1970: 1_795_451_039.9999)), "2026-11-23T16:23:59.999Z")
        XCTAssertEqual(Timestamp.format(Date(timeIntervalSince1970: 1_795_451_040)), "2026-11-23T16:24:00.000Z")
    }

    func testStoredTimesReadBackToTheSameMillisecond() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let date = Date(timeIntervalSince1970: Double.random(in: 0...4_102_444_800, using: &generator))
            let text = Timestamp.format(date)
            guard let back = Timestamp.parse(text) else { return XCTFail("cannot parse \(text)") }
            XCTAssertEqual(Timestamp.format(back), text)
            // Half a millisecond, except in a minute's last half millisecond, which stays in its
            // minute (one millisecond early). Regression: the test allowed only the first, and
            // failed about once in 25 runs.
            XCTAssertEqual(back.timeIntervalSince1970, date.timeIntervalSince1970, accuracy: 0.001)
            // Same expiry-index minute as the original.
            XCTAssertEqual((back.timeIntervalSince1970 / 60).rounded(.down), (date.timeIntervalSince1970 / 60).rounded(.down), text)
        }
    }

    func testParsesWhatFoundationParses() {
        let foundation = foundationFormatter()
        for text in ["2026-11-23T16:04:20.123Z", "2026-11-23T16:04:20Z", "2024-02-29T23:59:59.5+02:00",
                     "1970-01-01T00:00:00.000Z", "2026-11-23T16:04:20.123456Z", "2026-11-23T01:00:00-05:30"] {
            let ours = Timestamp.parse(text)
            let theirs = foundation.date(from: text) ?? {
                let f = ISO8601DateFormatter()
                f.formatOptions = [.withInternetDateTime]
                return f.date(from: text)
            }()
            XCTAssertNotNil(ours, text)
            XCTAssertEqual(ours!.timeIntervalSince1970, theirs!.timeIntervalSince1970, accuracy: 0.001, text)
        }
    }

    func testRefusesWhatIsNotATime() {
        for text in ["", "2026-11-23", "2026-11-23 16:04:20Z", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                     "2026-11-23T16:04:20", "2026-11-23T16:04:20.Z", "2026-11-23T16:04:20Zjunk", "2026-11-23T24:00:00Z"] {
            XCTAssertNil(Timestamp.parse(text), text)
        }
    }

    /// Regression: a retry time pushed past year 9999 was written with five digits, which the
    /// parser refused, so the lease file could no longer be read.
    func testTimesPastYear9999AreWrittenAsTheLastOneThatReadsBack() {
        let far = Date(timeIntervalSince1970: 1e12)
        let text = Timestamp.format(far)
        XCTAssertEqual(text, "9999-12-31T23:59:59.999Z")
        XCTAssertNotNil(Timestamp.parse(text))
    }
}
