import DBPlugin
@testable import Engine
import Foundation
import TestSupport
import XCTest

/// The rules behind the fidelity fixes, one regression test each: go-glob's leading `*`, Go's JSON
/// decoding, Vault's TTL arithmetic in whole seconds, and cron schedules that never fire.
final class FidelityUnitTests: XCTestCase {
    func testAGlobMayStartWithAStar() {
        XCTAssertTrue(Glob.matches("*-ro", "app-ro"))
        XCTAssertTrue(Glob.matches("*ro*", "pro-x"))
        XCTAssertTrue(Glob.matches("a**b", "ab"))
        XCTAssertFalse(Glob.matches("*-ro", "app-rw"))
        XCTAssertTrue(Glob.isAllowed(role: "app-ro", by: ["*-ro"]))
    }

    func testJSONAsGoDecodesIt() throws {
        XCTAssertEqual(try JSONParser.parse(Data(#"{"a": 1, "a": 2, "b": {"c": [1, 2.5, "x", true, null]}}"#.utf8)),
                       ["a": 2, "b": ["c": [1, .double(2.5), "x", true, nil]]])
        XCTAssertEqual(try JSONParser.parse(Data(#""\u00e9\ud83d\ude00\n""#.utf8)), "é😀\n")
        XCTAssertEqual(try JSONParser.parse(Data("12345678901234567890".utf8)), .double(12345678901234567890))
        for (text, error) in [("{", "unexpected end of JSON input"), ("{\"a\" 1}", "invalid character '1' after object key"),
                              ("[1,]", "invalid character ']' looking for beginning of value"), ("1 2", "invalid character '2' after top-level value")] {
            XCTAssertThrowsError(try JSONParser.parse(Data(text.utf8)), text) { XCTAssertEqual("\($0)", error, text) }
        }
        XCTAssertThrowsError(try JSONParser.parse(Data([0x22, 0xff, 0x22]))) { XCTAssertEqual("\($0)", "invalid UTF-8 in JSON input") }
        XCTAssertThrowsError(try JSONParser.parse(Data((String(repeating: "[", count: 600) + String(repeating: "]", count: 600)).utf8)))
    }

    func testALeaseLastsTheGrantedTTLExactly() throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000.7)
        XCTAssertEqual(try LeaseTTL.calculate(increment: 0, roleTTL: 3600, roleMaxTTL: 3600, start: start, now: start),
                       LeaseTTL(ttl: 3600, warning: nil))
        XCTAssertEqual(try LeaseTTL.calculate(increment: 0, roleTTL: 0, roleMaxTTL: 0, start: start, now: start).ttl, 2_764_800)
        let mount = LeaseTTL.MountTTLs(defaultTTL: 600, maximumTTL: 1800)
        XCTAssertEqual(try LeaseTTL.calculate(increment: 0, roleTTL: 0, roleMaxTTL: 0, mount: mount, start: start, now: start).ttl, 600)
        XCTAssertEqual(try LeaseTTL.calculate(increment: 0, roleTTL: 3600, roleMaxTTL: 7200, mount: mount, start: start, now: start),
                       LeaseTTL(ttl: 1800, warning: #"TTL of "1h" exceeded the effective max_ttl of "30m"; TTL value is capped accordingly"#))
    }

    func testACronScheduleThatNeverFiresIsRefused() throws {
        XCTAssertThrowsError(try CronSchedule("0 0 30 2 *").checkFires())
        XCTAssertThrowsError(try CronSchedule("0 0 31 4,6,9,11 *").checkFires())
        XCTAssertNoThrow(try CronSchedule("0 0 29 2 *").checkFires())
        XCTAssertNoThrow(try CronSchedule("0 0 31 2 mon").checkFires(), "either day field may match")
        XCTAssertNoThrow(try CronSchedule("0 0 31 * *").checkFires())
    }
}
