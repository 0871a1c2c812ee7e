import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A state file written without `JSONEncoder`, for the records every `creds` writes (its intent
/// and its lease): the encoder's generic machinery builds type metadata at its first use in a
/// process, 0.5 M instructions of a `creds` that is 4 M in all. It writes byte for byte what
/// `StateCoding.encode` writes (pretty, sorted keys, `"key" : value`, slashes unescaped, times as
/// `Timestamp` writes them, nil optionals left out as `encodeIfPresent` leaves them, a final newline); QuickRecordWriterTests
/// compares the two on odd values. The caller gives the keys in the encoder's sorted order, which
/// for these keys (lower-case ASCII and `_`) is byte order.
struct QuickRecordWriter {
    private var bytes: [UInt8] = Array("{\n".utf8)
    private var empty = true
#if DEBUG
    private var lastKey = ""
#endif

    init() {
        bytes.reserveCapacity(512)
    }

    mutating func string(_ key: String, _ value: String) {
        self.key(key)
        Self.append(string: value, to: &bytes)
    }

    mutating func int(_ key: String, _ value: Int) {
        self.key(key)
        bytes += String(value).utf8
    }

    mutating func bool(_ key: String, _ value: Bool) {
        self.key(key)
        bytes += (value ? "true" : "false").utf8
    }

    mutating func time(_ key: String, _ value: Date) {
        string(key, Timestamp.format(value))
    }

    mutating func strings(_ key: String, _ values: [String]) {
        self.key(key)
        guard !values.isEmpty else {
            bytes += "[\n\n  ]".utf8
            return
        }
        bytes += "[\n".utf8
        for (index, value) in values.enumerated() {
            bytes += "    ".utf8
            Self.append(string: value, to: &bytes)
            bytes += (index == values.count - 1 ? "\n" : ",\n").utf8
        }
        bytes += "  ]".utf8
    }

    /// The file's bytes, `format_version` included where its key sorts.
    func finish() -> Data {
        var bytes = bytes
        bytes += "\n}\n".utf8
        return Data(bytes)
    }

    private mutating func key(_ key: String) {
#if DEBUG
        precondition(lastKey.utf8.lexicographicallyPrecedes(key.utf8) || empty, "keys out of order: \(lastKey), \(key)")
        lastKey = key
#endif
        bytes += (empty ? "  \"" : ",\n  \"").utf8
        empty = false
        bytes += key.utf8
        bytes += "\" : ".utf8
    }

    /// JSONEncoder's escaping: `"`, `\` and the C0 controls (the short forms where JSON has them,
    /// else `\u00xx` in lower-case hex); everything else, `/` and non-ASCII included, as it is.
    private static func append(string: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += #"\""#.utf8
            case UInt8(ascii: "\\"): bytes += #"\\"#.utf8
            case 0x08: bytes += #"\b"#.utf8
            case 0x09: bytes += #"\t"#.utf8
            case 0x0a: bytes += #"\n"#.utf8
            case 0x0c: bytes += #"\f"#.utf8
            case 0x0d: bytes += #"\r"#.utf8
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes += #"\u00"#.utf8
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xf)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension CredsIntent {
    func encodeQuickly() -> Data? {
        var w = QuickRecordWriter()
        w.time("created_at", createdAt)
        w.string("db_name", dbName)
        w.int("format_version", StateCoding.formatVersion)
        w.string("lease_id", leaseID)
        if let revocationStatements { w.strings("revocation_statements", revocationStatements) }
        w.string("role", role)
        if let username { w.string("username", username) }
        return w.finish()
    }
}

extension Lease {
    func encodeQuickly() -> Data? {
        var w = QuickRecordWriter()
        w.string("db_name", dbName)
        w.time("expire_time", expireTime)
        w.int("format_version", StateCoding.formatVersion)
        w.string("id", id)
        w.bool("irrevocable", irrevocable)
        w.time("issue_time", issueTime)
        if let lastError { w.string("last_error", lastError) }
        if let lastRenewal { w.time("last_renewal", lastRenewal) }
        if let nextRevokeAttempt { w.time("next_revoke_attempt", nextRevokeAttempt) }
        if let revocationStatements { w.strings("revocation_statements", revocationStatements) }
        w.int("revoke_attempts", revokeAttempts)
        w.string("role", role)
        w.string("username", username)
        return w.finish()
    }
}
