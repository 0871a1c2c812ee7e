#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// What `lease list` needs of a lease file, read straight from its bytes: no `JSONValue`, no
/// dictionary, a string made only for the fields shown. A listing of 100,000 leases does this
/// 100,000 times.
///
/// Only the plainest files are read here: every key one `Lease` knows, ASCII throughout, no
/// escape in a field that is shown, numbers and times as dbsecrets writes them. Anything else is
/// `.notQuick` and goes to `RecordStore.decode`, whose answer (or error) is then the one shown;
/// so whatever this accepts, `Lease.decodeQuickly` accepts too, with the same values
/// (`LeaseFileScanTests` compares them).
enum LeaseFileScan {
    enum Outcome: Equatable {
        case lease(LeaseSummary)
        /// A well-formed lease with another id: not the lease this file name stands for.
        case otherLease
        case notQuick
    }

    static func summary(_ b: UnsafeBufferPointer<UInt8>, listedID: String, now: Date, mountAccessor: String) -> Outcome {
        var scanner = Scanner(b: b)
        guard let fields = scanner.fields() else { return .notQuick }
        guard let id = fields.id, let role = fields.role, fields.dbName, let username = fields.username,
              let issued = fields.issueTime, let expires = fields.expireTime, fields.formatVersion,
              let attempts = fields.revokeAttempts, let irrevocable = fields.irrevocable,
              let issueTime = Timestamp.parse(utf8: scanner.slice(issued)),
              let expireTime = Timestamp.parse(utf8: scanner.slice(expires)),
              fields.lastRenewal.map({ Timestamp.parse(utf8: scanner.slice($0)) != nil }) ?? true,
              fields.nextRevokeAttempt.map({ Timestamp.parse(utf8: scanner.slice($0)) != nil }) ?? true
        else { return .notQuick }
        guard scanner.slice(id).elementsEqual(listedID.utf8) else { return .otherLease }
        return .lease(LeaseSummary(id: listedID, role: scanner.string(role), username: scanner.string(username),
                                   issueTime: issueTime, expireTime: expireTime, revokeAttempts: attempts,
                                   lastError: fields.lastError.map { scanner.string($0) }, irrevocable: irrevocable,
                                   expired: expireTime <= now, mountAccessor: mountAccessor))
    }

    /// Where each field's value is (the bytes between its quotes), as far as the scan got.
    private struct Fields {
        var id: Range<Int>?, role: Range<Int>?, username: Range<Int>?
        var issueTime: Range<Int>?, expireTime: Range<Int>?
        var lastError: Range<Int>?, lastRenewal: Range<Int>?, nextRevokeAttempt: Range<Int>?
        var revokeAttempts: Int?, irrevocable: Bool?
        var dbName = false, formatVersion = false
    }

    private struct Scanner {
        let b: UnsafeBufferPointer<UInt8>
        var at = 0

        func slice(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: b[range])
        }

        func string(_ range: Range<Int>) -> String {
            String(decoding: slice(range), as: UTF8.self)
        }

        var byte: UInt8? { at < b.count ? b[at] : nil }

        mutating func skipSpace() {
            while at < b.count, b[at] == 0x20 || b[at] == 0x0a || b[at] == 0x09 || b[at] == 0x0d { at += 1 }
        }

        mutating func expect(_ c: UInt8) -> Bool {
            guard byte == c else { return false }
            at += 1
            return true
        }

        mutating func word(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard at + count <= b.count, memcmp(b.baseAddress! + at, text.utf8Start, count) == 0 else { return false }
            at += count
            return true
        }

        /// A string of printable ASCII without escapes: the range of its bytes.
        mutating func plainString() -> Range<Int>? {
            guard expect(UInt8(ascii: "\"")) else { return nil }
            let start = at
            while at < b.count {
                let c = b[at]
                if c == UInt8(ascii: "\"") {
                    at += 1
                    return start..<at - 1
                }
                guard c >= 0x20, c < 0x7f, c != UInt8(ascii: "\\") else { return nil }
                at += 1
            }
            return nil
        }

        /// A string that is checked, not shown: escapes as JSON has them, ASCII only (so the file
        /// needs no UTF-8 check).
        mutating func skipString() -> Bool {
            guard expect(UInt8(ascii: "\"")) else { return false }
            while at < b.count {
                let c = b[at]
                at += 1
                if c == UInt8(ascii: "\"") { return true }
                guard c >= 0x20, c < 0x7f else { return false }
                guard c == UInt8(ascii: "\\") else { continue }
                guard let escape = byte else { return false }
                at += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    continue
                case UInt8(ascii: "u"):
                    for _ in 0..<4 {
                        guard let h = byte, (h >= 0x30 && h <= 0x39) || (h | 0x20 >= 0x61 && h | 0x20 <= 0x66) else { return false }
                        at += 1
                    }
                default:
                    return false
                }
            }
            return false
        }

        /// `null` (nil inside) or a plain string; nil when neither.
        mutating func optionalString() -> Range<Int>?? {
            if word("null") { return .some(nil) }
            return plainString().map { .some($0) }
        }

        /// An integer as JSON writes one (`0`, `-12`; no leading zero, fraction or exponent).
        mutating func integer() -> Int? {
            let negative = expect(UInt8(ascii: "-"))
            let start = at
            var value = 0
            while let c = byte, c >= 0x30, c <= 0x39 {
                guard at - start < 18 else { return nil }
                value = value * 10 + Int(c - 0x30)
                at += 1
            }
            guard at > start, b[start] != 0x30 || at == start + 1 else { return nil }
            if let c = byte, c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { return nil }
            return negative ? -value : value
        }

        /// `null` or an array of strings.
        mutating func statements() -> Bool {
            if word("null") { return true }
            guard expect(UInt8(ascii: "[")) else { return false }
            skipSpace()
            if expect(UInt8(ascii: "]")) { return true }
            while true {
                skipSpace()
                guard skipString() else { return false }
                skipSpace()
                if expect(UInt8(ascii: ",")) { continue }
                return expect(UInt8(ascii: "]"))
            }
        }

        /// The top-level object's fields; nil when it is not a plain lease file. A key given
        /// twice keeps its last value, as `JSONParser` does.
        mutating func fields() -> Fields? {
            var f = Fields()
            skipSpace()
            guard expect(UInt8(ascii: "{")) else { return nil }
            skipSpace()
            if expect(UInt8(ascii: "}")) { return end() ? f : nil }
            while true {
                skipSpace()
                guard let key = plainString() else { return nil }
                skipSpace()
                guard expect(UInt8(ascii: ":")) else { return nil }
                skipSpace()
                switch slice(key).count {
                case 2 where named(key, "id"): guard let v = plainString() else { return nil }; f.id = v
                case 4 where named(key, "role"): guard let v = plainString() else { return nil }; f.role = v
                case 7 where named(key, "db_name"): guard plainString() != nil else { return nil }; f.dbName = true
                case 8 where named(key, "username"): guard let v = plainString() else { return nil }; f.username = v
                case 10 where named(key, "issue_time"): guard let v = plainString() else { return nil }; f.issueTime = v
                case 11 where named(key, "expire_time"): guard let v = plainString() else { return nil }; f.expireTime = v
                case 10 where named(key, "last_error"): guard let v = optionalString() else { return nil }; f.lastError = v
                case 12 where named(key, "last_renewal"): guard let v = optionalString() else { return nil }; f.lastRenewal = v
                case 19 where named(key, "next_revoke_attempt"): guard let v = optionalString() else { return nil }; f.nextRevokeAttempt = v
                case 15 where named(key, "revoke_attempts"): guard let v = integer() else { return nil }; f.revokeAttempts = v
                case 11 where named(key, "irrevocable"):
                    if word("true") { f.irrevocable = true } else if word("false") { f.irrevocable = false } else { return nil }
                case 14 where named(key, "format_version"):
                    guard integer() == StateCoding.formatVersion else { return nil }
                    f.formatVersion = true
                case 21 where named(key, "revocation_statements"): guard statements() else { return nil }
                default: return nil
                }
                skipSpace()
                if expect(UInt8(ascii: ",")) { continue }
                guard expect(UInt8(ascii: "}")) else { return nil }
                return end() ? f : nil
            }
        }

        func named(_ key: Range<Int>, _ name: StaticString) -> Bool {
            memcmp(b.baseAddress! + key.lowerBound, name.utf8Start, name.utf8CodeUnitCount) == 0
        }

        mutating func end() -> Bool {
            skipSpace()
            return at == b.count
        }
    }
}
