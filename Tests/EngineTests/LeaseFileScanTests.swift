import DBPlugin
@testable import Engine
import Foundation
import TestSupport
import XCTest

/// `lease list` reads each lease file with `LeaseFileScan` and only what it declines goes through
/// `RecordStore.decode`: whatever the scan accepts must read exactly as the decoder reads it, and
/// the files dbsecrets writes must be the ones it accepts (or listings get slow again).
final class LeaseFileScanTests: XCTestCase {
    static let id = "database/creds/ro/AbCdEfGhIjKlMnOpQrStUvWx"
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    private func scan(_ text: String, id: String = id) -> LeaseFileScan.Outcome {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer {
            LeaseFileScan.summary(UnsafeBufferPointer($0), listedID: id, now: Self.now, mountAccessor: "database_1")
        }
    }

    /// The decoder's answer for the same bytes: a summary, or nil when it refuses them.
    private func decoded(_ text: String) -> LeaseSummary? {
        guard let lease = try? RecordStore<Lease>.decode(Data(text.utf8), file: URL(fileURLWithPath: "/x.json")) else { return nil }
        return LeaseSummary(lease, now: Self.now, mountAccessor: "database_1")
    }

    private func assertSameAsDecoder(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        switch scan(text) {
        case .lease(let summary):
            XCTAssertEqual(summary, decoded(text), text, file: file, line: line)
        case .otherLease:
            XCTAssertNotEqual(decoded(text).map(\.id), Self.id, text, file: file, line: line)
        case .notQuick:
            break
        }
    }

    private func written(_ lease: Lease) throws -> String {
        String(decoding: try StateCoding.encode(lease), as: UTF8.self)
    }

    private var lease: Lease {
        Lease(id: Self.id, role: "ro", dbName: "db", username: "v-root-ro-AbCdEfGh-1800000000",
              revocationStatements: ["DROP ROLE IF EXISTS \"{{name}}\";", "REVOKE ALL ON \\x FROM {{name}} -- \u{1}"],
              issueTime: Self.now.addingTimeInterval(-60), expireTime: Self.now.addingTimeInterval(3600))
    }

    func testTheFilesDbsecretsWritesAreScannedAsTheDecoderReadsThem() throws {
        var leases = [lease]
        var failed = lease
        failed.revokeAttempts = 3
        failed.lastError = "connection refused <at> 127.0.0.1 & more"
        failed.nextRevokeAttempt = Self.now.addingTimeInterval(30)
        failed.lastRenewal = Self.now.addingTimeInterval(-10)
        failed.expireTime = Self.now.addingTimeInterval(-1)
        leases.append(failed)
        var gaveUp = failed
        gaveUp.irrevocable = true
        gaveUp.revocationStatements = []
        gaveUp.expireTime = Self.now
        leases.append(gaveUp)
        var defaults = lease
        defaults.revocationStatements = nil
        leases.append(defaults)
        for lease in leases {
            let text = try written(lease)
            guard case .lease(let summary) = scan(text) else { return XCTFail("not scanned: \(text)") }
            XCTAssertEqual(summary, decoded(text), text)
        }
        XCTAssertEqual(scan(try written(lease), id: "database/creds/ro/Other"), .otherLease)
        // The fixtures of format 1, written by an earlier dbsecrets.
        let fixtures = StateFixtureTests.fixtures.appendingPathComponent("format-1/leases")
        for name in try FileManager.default.contentsOfDirectory(atPath: fixtures.path) {
            let text = try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
            let id = try XCTUnwrap(decoded(text)).id
            guard case .lease(let summary) = scan(text, id: id) else { return XCTFail("not scanned: \(name)") }
            XCTAssertEqual(summary.id, id)
        }
    }

    /// What the scan declines is the decoder's to read or refuse.
    func testWhatIsNotPlainIsLeftToTheDecoder() throws {
        let plain = try written(lease)
        let declined = [
            plain.replacingOccurrences(of: "v-root-ro", with: "v-röot-ro"),
            plain.replacingOccurrences(of: "\"role\" : \"ro\"", with: "\"role\" : \"r\\u006f\""),
            plain.replacingOccurrences(of: "\"format_version\" : 1", with: "\"format_version\" : 1.0"),
            plain.replacingOccurrences(of: "\"format_version\" : 1", with: "\"format_version\" : 2"),
            plain.replacingOccurrences(of: "\"revoke_attempts\" : 0", with: "\"revoke_attempts\" : 00"),
            plain.replacingOccurrences(of: "\"revoke_attempts\" : 0", with: "\"revoke_attempts\" : 1e1"),
            plain.replacingOccurrences(of: "\"irrevocable\" : false", with: "\"irrevocable\" : 0"),
            plain.replacingOccurrences(of: "\"db_name\" : \"db\",", with: "\"db_name\" : \"db\", \"extra\" : 1,"),
            plain.replacingOccurrences(of: "\"db_name\" : \"db\",", with: ""),
            plain.replacingOccurrences(of: "\"id\" :", with: "\"i\\u0064\" :"),
            plain.replacingOccurrences(of: ".000Z", with: ".000+00:00").replacingOccurrences(of: "2027", with: "20x7"),
            plain + "x",
            String(plain.dropLast(10)),
            "", "[]", "{}", "null",
        ]
        for text in declined {
            XCTAssertEqual(scan(text), .notQuick, text)
        }
        // A key given twice keeps its last value, as the decoder has it.
        let twice = plain.replacingOccurrences(of: "\"role\" : \"ro\",", with: "\"role\" : \"first\", \"role\" : \"ro\",")
        guard case .lease(let summary) = scan(twice) else { return XCTFail(twice) }
        XCTAssertEqual(summary, decoded(twice))
    }

    /// Every one-byte change, deletion and truncation of a written lease: never a trap, and
    /// whatever the scan still accepts reads as the decoder reads it.
    func testDamagedFilesAreScannedAsTheDecoderReadsThemOrDeclined() throws {
        var failed = lease
        failed.lastError = "refused"
        failed.revokeAttempts = 12
        failed.nextRevokeAttempt = Self.now
        let text = try written(failed)
        let bytes = Array(text.utf8)
        let replacements: [UInt8] = Array("\"\\{}[],:01 9aetnul-.Z\u{7f}".utf8) + [0x00, 0x0a, 0xc3]
        for at in bytes.indices {
            var removed = bytes
            removed.remove(at: at)
            assertSameAsDecoder(String(decoding: removed, as: UTF8.self))
            assertSameAsDecoder(String(decoding: bytes[..<at], as: UTF8.self))
            for byte in replacements where byte != bytes[at] {
                var changed = bytes
                changed[at] = byte
                assertSameAsDecoder(String(decoding: changed, as: UTF8.self))
            }
        }
    }
}
