@testable import CLI
@testable import Engine
import Foundation
import XCTest

/// `lease list -format=json` writes each lease straight into bytes (`LeaseListJSON`); it must be
/// exactly what `GoJSON` writes for the same lease as a `JSONValue`, escapes and times included.
final class LeaseListJSONTests: XCTestCase {
    func testTheByteWriterWritesWhatGoJSONWrites() {
        let strings = ["", "ro", "v-root-ro-AbC", "<&>", "quote \" and \\ back", "line\nbreak\ttab\u{1}", "é ü 😀", "\u{2028}\u{2029}",
                       "database/creds/ro/AbCdEfGhIjKlMnOpQrStUvWx", String(repeating: "x", count: 300)]
        let times = [0, -1, 1_800_000_000.1234, 1_800_000_000.9996, 253_402_300_800, -62_135_596_800, -62_400_000_000, 1_700_000_059.9997]
            .map(Date.init(timeIntervalSince1970:))
        var summaries: [LeaseSummary] = []
        for (i, text) in strings.enumerated() {
            let time = times[i % times.count], other = times[(i + 3) % times.count]
            summaries.append(LeaseSummary(id: text, role: strings[(i + 1) % strings.count], username: strings[(i + 2) % strings.count],
                                          issueTime: time, expireTime: other, revokeAttempts: [0, 1, -5, Int.max][i % 4],
                                          lastError: i % 3 == 0 ? nil : text, irrevocable: i % 2 == 0, expired: i % 3 == 1))
            var unreadable = summaries[summaries.count - 1]
            unreadable.unreadable = true
            unreadable.lastError = i % 2 == 0 ? nil : text
            summaries.append(unreadable)
        }
        for summary in summaries {
            var bytes: [UInt8] = []
            LeaseCommands.LeaseListJSON.append(summary, to: &bytes)
            var expected = ""
            GoJSON.write(LeaseCommands.jsonItem(summary), indent: "  ", into: &expected)
            XCTAssertEqual(String(decoding: bytes, as: UTF8.self), expected)
        }
    }
}
