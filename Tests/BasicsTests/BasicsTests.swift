import Basics
import Foundation
import XCTest

/// The shared leaves, each against an independent reference: Go's documented behaviour for
/// durations, Foundation's Gregorian calendar for dates, counting for the random alphabet.
final class GoDurationTests: XCTestCase {
    func testGoSyntax() throws {
        XCTAssertEqual(try GoDuration.seconds("1m30s"), 90)
        XCTAssertEqual(try GoDuration.seconds("250ms"), 0.25)
        XCTAssertEqual(try GoDuration.seconds("1.5h"), 5400)
        XCTAssertEqual(try GoDuration.seconds("1h2m3s4ms5us6ns"), 3723.004005006, accuracy: 1e-9)
        XCTAssertEqual(try GoDuration.seconds("2µs"), 2e-6)
        XCTAssertEqual(try GoDuration.seconds("2μs"), 2e-6)
        XCTAssertEqual(try GoDuration.seconds("0"), 0)
        XCTAssertEqual(try GoDuration.seconds("-5m"), -300)
        XCTAssertEqual(try GoDuration.seconds("+2s"), 2)
        XCTAssertEqual(try GoDuration.seconds(".5s"), 0.5)
    }

    func testGoErrorTexts() {
        let cases = [
            ("10", "time: missing unit in duration \"10\""),
            ("1x", "time: unknown unit \"x\" in duration \"1x\""),
            ("", "time: invalid duration \"\""),
            ("h", "time: invalid duration \"h\""),
            ("-", "time: invalid duration \"-\""),
            ("9999999999h", "time: invalid duration \"9999999999h\""),
        ]
        for (input, message) in cases {
            XCTAssertThrowsError(try GoDuration.seconds(input), input) { error in
                XCTAssertEqual((error as? GoDuration.SyntaxError)?.description, message)
            }
        }
    }
}

final class CivilDateTests: XCTestCase {
    /// Every 997th day from 1614 to 3065, against Foundation's Gregorian calendar in UTC (which is
    /// Julian before 1582, so earlier days are left out).
    func testAgreesWithFoundationsCalendar() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for days in stride(from: Int64(-130_000), through: 400_000, by: 997) {
            let date = Date(timeIntervalSince1970: Double(days) * 86_400)
            let c = calendar.dateComponents([.year, .month, .day, .weekday, .dayOfYear], from: date)
            let (year, month, day) = CivilDate.date(days: days)
            XCTAssertEqual([year, month, day], [Int64(c.year!), Int64(c.month!), Int64(c.day!)], "day \(days)")
            XCTAssertEqual(CivilDate.days(year: year, month: month, day: day), days)
            XCTAssertEqual(CivilDate.weekday(days: days), Int64(c.weekday! - 1), "day \(days)")
            XCTAssertEqual(CivilDate.dayOfYear(year: year, month: month, day: day), Int64(c.dayOfYear!), "day \(days)")
        }
        XCTAssertEqual(CivilDate.daysInMonth(year: 2000, month: 2), 29)
        XCTAssertEqual(CivilDate.daysInMonth(year: 1900, month: 2), 28)
        XCTAssertEqual(CivilDate.split(seconds: -1).days, -1)
        XCTAssertEqual(CivilDate.split(seconds: -1).secondOfDay, 86_399)
    }
}

final class SecureRandomTests: XCTestCase {
    func testBase62UsesEveryCharacterAndNothingElse() {
        let text = SecureRandom.base62(20_000)
        XCTAssertEqual(text.count, 20_000)
        XCTAssertEqual(Set(text), Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
    }

    /// Bytes 248...255 would favour the first eight characters; they are skipped.
    func testBase62SkipsTheBiasedBytes() {
        var fed: [[UInt8]] = [[248, 255, 0, 61, 62, 247]]
        let text = SecureRandom.base62(4) { _ in fed.isEmpty ? [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1] : fed.removeFirst() }
        XCTAssertEqual(text, "0z0z")
    }

    func testBytesAreTheCountAsked() {
        XCTAssertEqual(SecureRandom.bytes(0).count, 0)
        XCTAssertEqual(SecureRandom.bytes(13).count, 13)
        XCTAssertNotEqual(SecureRandom.bytes(32), SecureRandom.bytes(32))
    }
}

final class GoPrintableTests: XCTestCase {
    /// The scalar's ASCII shortcut answers as the general-category lookup does, for every ASCII
    /// code point and a few beyond.
    func testTheASCIIShortcutAgreesWithTheGeneralCategory() {
        let scalars = (0..<0x80).compactMap(Unicode.Scalar.init) + ["\u{80}", "\u{a0}", "é", "\u{200b}", "😀"]
        for scalar in scalars {
            XCTAssertEqual(scalar.isGoPrintable, scalar.properties.isGoPrintable, "U+\(String(scalar.value, radix: 16))")
        }
    }
}
