import DBPlugin
@testable import Engine
import Foundation
import XCTest

/// The intent and the lease of every `creds` are written without JSONEncoder
/// (QuickRecordWriter.swift). What they write must be what JSONEncoder writes, byte for byte:
/// files written before and after read the same, and `benchmarks/statefiles.py` writes the same.
final class QuickRecordWriterTests: XCTestCase {
    /// Text JSON must escape or may trip an encoder: quotes, backslashes, slashes, every C0
    /// control, DEL, non-ASCII (two, three and four bytes), a byte-order mark, line separators.
    static let oddStrings: [String] = [
        "", "plain", "a\"b", "back\\slash", "a/b//c", "tab\tnew\nline\r\u{8}\u{c}",
        String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) })),
        "\u{7f}\u{80}é", "日本語", "😀 emoji", "\u{FEFF}bom", "\u{2028}\u{2029}", "e\u{301}",
        "{{username}} '; DROP ROLE x; --", "trailing space ", " ",
    ]

    static let times: [Date] = [
        Date(timeIntervalSince1970: 0),
        Date(timeIntervalSince1970: 1_800_000_000.123),
        Date(timeIntervalSince1970: 1_800_000_059.9996),
        Date(timeIntervalSince1970: 253_402_300_799.999),
    ]

    static let statementLists: [[String]?] = [nil, [], ["DROP ROLE \"{{name}}\";"], oddStrings]

    func testTheCredsIntentIsWrittenAsJSONEncoderWritesIt() throws {
        var count = 0
        for (index, text) in Self.oddStrings.enumerated() {
            for statements in Self.statementLists {
                for username in [nil, text] {
                    let intent = CredsIntent(leaseID: "database/creds/r/" + text, role: text, dbName: "db" + text,
                                             username: username, revocationStatements: statements,
                                             createdAt: Self.times[index % Self.times.count])
                    try assertSameBytes(intent)
                    count += 1
                }
            }
        }
        XCTAssertGreaterThan(count, 100)
    }

    func testTheLeaseIsWrittenAsJSONEncoderWritesIt() throws {
        let attempts = [0, 1, -1, 1 << 40, Int.max, Int.min]
        for (index, text) in Self.oddStrings.enumerated() {
            for statements in Self.statementLists {
                let time = Self.times[index % Self.times.count]
                let other = Self.times[(index + 1) % Self.times.count]
                var lease = Lease(id: "mount/team/creds/r/" + text, role: text, dbName: text, username: "u" + text,
                                  revocationStatements: statements, issueTime: time, expireTime: other)
                try assertSameBytes(lease)
                lease.lastRenewal = other
                lease.lastError = text
                lease.nextRevokeAttempt = time
                lease.revokeAttempts = attempts[index % attempts.count]
                lease.irrevocable = index % 2 == 0
                try assertSameBytes(lease)
                lease.lastError = nil
                try assertSameBytes(lease)
            }
        }
    }

    /// What the store writes reads back as the record, through both readers (times in whole
    /// milliseconds, which is what a state file keeps).
    func testWhatTheQuickWriterWritesReadsBack() throws {
        let issued = Date(timeIntervalSince1970: 1_800_000_000)
        let lease = Lease(id: "database/creds/r/ABC", role: "r", dbName: "db\u{1}é", username: "u\"",
                          revocationStatements: [], issueTime: issued, expireTime: issued.addingTimeInterval(3600),
                          lastRenewal: issued.addingTimeInterval(1.5), revokeAttempts: 3, lastError: "x\\y",
                          nextRevokeAttempt: nil, irrevocable: true)
        let data = try XCTUnwrap(lease.encodeQuickly())
        XCTAssertEqual(Lease.decodeQuickly(data), lease)
        XCTAssertEqual(try StateCoding.decoder.decode(Lease.self, from: data), lease)
    }

    private func assertSameBytes<R: StoredRecord>(_ record: R, file: StaticString = #filePath, line: UInt = #line) throws {
        let quick = try XCTUnwrap(record.encodeQuickly(), file: file, line: line)
        let encoder = try StateCoding.encode(record)
        XCTAssertEqual(String(decoding: quick, as: UTF8.self), String(decoding: encoder, as: UTF8.self), file: file, line: line)
        XCTAssertEqual(quick, encoder, file: file, line: line)
    }
}
