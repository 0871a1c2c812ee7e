import DBPlugin
import Foundation
import XCTest

/// `{{expiration}}` in SQL statements is Go's "2006-01-02 15:04:05-0700" in the local zone. The
/// hand-written formatter must print what Foundation's DateFormatter printed, in any zone.
final class StatementExpirationTests: XCTestCase {
    func testMatchesDateFormatterInEveryKindOfZone() {
        var generator = SystemRandomNumberGenerator()
        let instants: [TimeInterval] = [0, -1, 59.999, 951_782_400, 1_795_451_029.51, 4_102_444_799.9]
            + (0..<500).map { _ in Double.random(in: 0...4_102_444_800, using: &generator) }
        for zone in ["UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "America/St_Johns", "Europe/Paris"] {
            let timeZone = TimeZone(identifier: zone)!
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = timeZone
            formatter.dateFormat = "yyyy-MM-dd HH:mm:ssZ"
            for seconds in instants {
                let date = Date(timeIntervalSince1970: seconds)
                XCTAssertEqual(StatementTemplate.expiration(date, timeZone: timeZone), formatter.string(from: date), "\(zone) \(seconds)")
            }
        }
    }

    func testReadsLikeGo() {
        let date = Date(timeIntervalSince1970: 1_795_451_029.9)
        XCTAssertEqual(StatementTemplate.expiration(date, timeZone: TimeZone(identifier: "UTC")!), "2026-11-23 16:23:49+0000")
        XCTAssertEqual(StatementTemplate.expiration(date, timeZone: TimeZone(identifier: "Asia/Kolkata")!), "2026-11-23 21:53:49+0530")
        XCTAssertEqual(StatementTemplate.expiration(date, timeZone: TimeZone(identifier: "America/St_Johns")!), "2026-11-23 12:53:49-0330")
    }
}
