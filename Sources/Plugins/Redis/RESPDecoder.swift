/// Bytes that are not a well-formed RESP2 reply. The message says what was wrong, never the bytes.
public struct RESPDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A pure RESP2 parser over a byte buffer: no I/O, no state between calls.
///
/// It must never crash or allocate without bound whatever the bytes are (a server we do not
/// trust, a fuzz loop), so every length is checked against limits before it is used, nesting is
/// bounded so recursion cannot exhaust the stack, and nothing is reserved from a declared count.
public struct RESPDecoder: Sendable {
    /// Redis' own `proto-max-bulk-len` default.
    public var maximumBulkLength: Int
    public var maximumArrayCount: Int
    public var maximumDepth: Int
    /// Longest `+`, `-`, `:`, `$`, `*` line accepted; an endless line without CRLF is an error,
    /// not a reason to keep reading.
    public var maximumLineLength: Int

    public init(maximumBulkLength: Int = 512 * 1024 * 1024, maximumArrayCount: Int = 1 << 24,
                maximumDepth: Int = 32, maximumLineLength: Int = 1 << 20) {
        self.maximumBulkLength = maximumBulkLength
        self.maximumArrayCount = maximumArrayCount
        self.maximumDepth = maximumDepth
        self.maximumLineLength = maximumLineLength
    }

    /// Parses one reply from the front of `bytes`.
    /// - Returns: the reply and how many bytes it took, or nil when `bytes` is a valid but
    ///   incomplete prefix (read more and call again with the longer buffer).
    /// - Throws: `RESPDecodingError` when no amount of further bytes can make this valid.
    public func decode(_ bytes: [UInt8]) throws(RESPDecodingError) -> (value: RESPValue, consumed: Int)? {
        guard let (value, end) = try parse(bytes, at: 0, depth: 0) else { return nil }
        return (value, end)
    }

    public func decode(_ bytes: ArraySlice<UInt8>) throws(RESPDecodingError) -> (value: RESPValue, consumed: Int)? {
        try decode(Array(bytes))
    }

    /// Every complete reply at the front of `bytes`, and how many bytes they took.
    public func decodeAll(_ bytes: [UInt8]) throws(RESPDecodingError) -> (values: [RESPValue], consumed: Int) {
        var values: [RESPValue] = []
        var offset = 0
        while offset < bytes.count, let (value, end) = try parse(bytes, at: offset, depth: 0) {
            values.append(value)
            offset = end
        }
        return (values, offset)
    }

    private func parse(_ b: [UInt8], at start: Int, depth: Int) throws(RESPDecodingError) -> (RESPValue, Int)? {
        guard start < b.count else { return nil }
        let type = b[start]
        guard Self.types.contains(type) else {
            throw RESPDecodingError("unexpected RESP type byte 0x\(String(type, radix: 16)) at offset \(start)")
        }
        guard let (line, next) = try line(b, from: start + 1) else { return nil }
        switch type {
        case UInt8(ascii: "+"):
            return (.simpleString(String(decoding: b[line], as: UTF8.self)), next)
        case UInt8(ascii: "-"):
            return (.error(String(decoding: b[line], as: UTF8.self)), next)
        case UInt8(ascii: ":"):
            return (.integer(try integer(b[line])), next)
        case UInt8(ascii: "$"):
            let length = try integer(b[line])
            if length == -1 { return (.null, next) }
            guard length >= 0 else { throw RESPDecodingError("negative bulk string length \(length)") }
            guard length <= maximumBulkLength else {
                throw RESPDecodingError("bulk string of \(length) bytes exceeds the \(maximumBulkLength) byte limit")
            }
            guard b.count - next - 2 >= length else { return nil }
            guard b[next + length] == 13, b[next + length + 1] == 10 else {
                throw RESPDecodingError("bulk string not followed by CRLF")
            }
            return (.bulkString(Array(b[next..<(next + length)])), next + length + 2)
        default: // "*"
            let count = try integer(b[line])
            if count == -1 { return (.nullArray, next) }
            guard count >= 0 else { throw RESPDecodingError("negative array length \(count)") }
            guard count <= maximumArrayCount else {
                throw RESPDecodingError("array of \(count) elements exceeds the \(maximumArrayCount) element limit")
            }
            guard depth < maximumDepth else {
                throw RESPDecodingError("arrays nested deeper than \(maximumDepth) levels")
            }
            var elements: [RESPValue] = []
            var offset = next
            for _ in 0..<count {
                guard let (element, end) = try parse(b, at: offset, depth: depth + 1) else { return nil }
                elements.append(element)
                offset = end
            }
            return (.array(elements), offset)
        }
    }

    /// The line starting at `start` without its CRLF, and where the next element starts.
    private func line(_ b: [UInt8], from start: Int) throws(RESPDecodingError) -> (Range<Int>, Int)? {
        var i = start
        while i < b.count {
            if b[i] == 13 {
                guard i + 1 < b.count else { return nil }
                guard b[i + 1] == 10 else { throw RESPDecodingError("CR not followed by LF") }
                return (start..<i, i + 2)
            }
            if b[i] == 10 { throw RESPDecodingError("LF without CR") }
            if i - start >= maximumLineLength {
                throw RESPDecodingError("line longer than \(maximumLineLength) bytes")
            }
            i += 1
        }
        return nil
    }

    private func integer(_ digits: ArraySlice<UInt8>) throws(RESPDecodingError) -> Int {
        var rest = digits[...]
        let negative = rest.first == UInt8(ascii: "-")
        if negative { rest = rest.dropFirst() }
        guard !rest.isEmpty, rest.count <= 19 else { throw RESPDecodingError("invalid integer") }
        var value = 0
        for byte in rest {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                throw RESPDecodingError("invalid integer")
            }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw RESPDecodingError("integer out of range") }
            value = sum
        }
        return negative ? -value : value
    }

    private static let types: Set<UInt8> = Set("+-:$*".utf8)
}
