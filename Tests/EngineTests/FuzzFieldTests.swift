import DBPlugin
import Engine
import Foundation
import TestSupport
import XCTest

/// Durations and cron schedules, the two field grammars users type by hand: every input parses
/// into something in range or fails with the engine's validation error, quickly.
final class FuzzFieldTests: XCTestCase {
    func testDurationsParseInRangeOrFailWithAFieldError() {
        let fragments = ["0", "1", "9", ".", "5", "h", "m", "s", "ms", "us", "µs", "μs", "ns", "d", "-", "+", "e", "E",
                         "9223372036854775807", "99999999999999999999", "106751991167300", "2562047", "1.5", " ", "x"]
        let run = FuzzRun("DurationField.seconds", seconds: 0.5)
        run.loop(minimumInputs: 500) { run in
            var g = run.generator
            let value: JSONValue
            switch g.int(0...5) {
            case 0: value = .int(Int.random(in: Int.min...Int.max, using: &g))
            case 1: value = .double(g.pick([Double.greatestFiniteMagnitude, 1e300, 9.3e18, 9.2e18, -0.0, 1.5, 1e-300,
                                            Double(Int.max), Double(DurationField.maximumSeconds) + 0.5, -1e300]))
            case 2: value = g.pick([.null, .bool(true), .array([.int(1)]), .object([:])])
            default: value = .string(g.text(fragments, maxLength: 6))
            }
            run.generator = g
            run.input("\(value)")
            do {
                let seconds = try DurationField.seconds(value, field: "ttl")
                if !(0...DurationField.maximumSeconds).contains(seconds) { run.fail("out of range: \(seconds)") }
                _ = DurationField.human(seconds)
            } catch let error as EngineError {
                if error.kind != .invalidRequest || !error.message.contains("for field \"ttl\"") {
                    run.fail("unexpected \(error.kind) \(error.message)")
                }
            }
        }
        // Seconds come back as Int from state files too; printing any of them must not trap.
        for seconds in [Int.min, Int.min + 1, -1, 0, Int.max] { XCTAssertFalse(DurationField.human(seconds).isEmpty) }
    }

    func testLongDurationsAreRefusedInsteadOfOverflowing() {
        for text in ["9999999999999999999h", "99999999999999999d", "106751991167301d", "9223372036854775807", "2562048h"] {
            XCTAssertThrowsError(try DurationField.seconds(.string(text), field: "default_ttl"), text) { error in
                XCTAssertEqual((error as? EngineError)?.kind, .invalidRequest, text)
            }
        }
        XCTAssertThrowsError(try DurationField.seconds(.double(1e300), field: "default_ttl"))
        XCTAssertEqual(try DurationField.seconds(.string("2562047h"), field: "default_ttl"), 2_562_047 * 3600)
        XCTAssertEqual(try DurationField.seconds(.string("106751d"), field: "default_ttl"), 106_751 * 86400)
    }

    func testCronSchedulesParseOrFailAndNextIsAlwaysLater() {
        let fieldFragments = ["*", "?", "/", "-", ",", "0", "1", "5", "7", "12", "23", "31", "59", "60", "99999999999999999999",
                              "jan", "DEC", "sun", "Sat", "mon-fri", "*/15", "1-5/2", "L", "#", "@daily", "9223372036854775807"]
        var parsed = 0
        let run = FuzzRun("CronSchedule", seconds: 1)
        run.loop(minimumInputs: 100) { run in
            var g = run.generator
            let fieldCount = g.chance(8) ? g.int(0...7) : 5
            let spec = (0..<fieldCount).map { _ -> String in
                if g.chance(4) {
                    return (0..<g.int(1...3)).map { _ in g.chance(6) ? g.text(maxLength: 1) : g.pick(fieldFragments) }.joined()
                }
                // Mostly well-formed atoms, so that `next(after:)` runs on many real schedules.
                let a = g.int(0...31), b = g.int(0...31), n = g.int(1...40)
                return g.pick(["*", "?", "*/\(n)", "\(a)", "\(a)-\(b)", "\(a)-\(b)/\(n)", "\(a),\(b)", "\(a)/\(n)",
                               "jan-mar", "mon-fri", "sun,sat", "\(g.int(1...12))"])
            }
                .joined(separator: g.pick([" ", " ", "\t", "  "]))
            let start = Date(timeIntervalSince1970: Double(g.int(0...4_102_444_800)))
            run.generator = g
            run.input("\(spec.debugDescription) after \(start)")
            do {
                let schedule = try CronSchedule(spec)
                parsed += 1
                let next = schedule.next(after: start)
                if next <= start { run.fail("next \(next) is not after \(start)") }
                if next.timeIntervalSince(start) > 6 * 366 * 86400 { run.fail("next \(next) is past the five-year bound") }
            } catch is CronSchedule.ParseError {
                // Refused with cron's message.
            }
        }
        print("fuzz CronSchedule: \(parsed) schedules parsed")
        XCTAssertGreaterThan(parsed, 20, run.replay)
    }
}
