/// One RESP2 reply, as Redis sends it before any `HELLO 3`.
public enum RESPValue: Sendable, Equatable, Hashable {
    /// `+OK`
    case simpleString(String)
    /// `-WRONGPASS invalid username-password pair…`: the whole line, error code first.
    case error(String)
    /// `:1`
    case integer(Int)
    /// `$3\r\nfoo`: binary-safe.
    case bulkString([UInt8])
    /// `$-1`: what `ACL GETUSER` answers for a user that does not exist.
    case null
    case array([RESPValue])
    /// `*-1`
    case nullArray

    /// The text of a simple or bulk string (bulk strings decoded as UTF-8, invalid bytes replaced).
    public var text: String? {
        switch self {
        case .simpleString(let s): return s
        case .bulkString(let bytes): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }

    public var isNull: Bool { self == .null || self == .nullArray }

    public var arrayValue: [RESPValue]? {
        if case .array(let values) = self { return values }
        return nil
    }

    public var integerValue: Int? {
        if case .integer(let i) = self { return i }
        return nil
    }

    /// For an error reply, its code: the first word (`ERR`, `WRONGPASS`, `NOPERM`, `NOAUTH`, …).
    public var errorCode: String? {
        guard case .error(let line) = self else { return nil }
        return line.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
    }
}
