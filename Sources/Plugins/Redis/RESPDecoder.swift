/// Bytes that are not a well-formed RESP2 reply. The message says what was wrong, never the bytes.
public struct RESPDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An incremental RESP2 parser: bytes are fed as they arrive and each byte is looked at once, so a
/// reply trickled in many small reads costs what it would in one (re-parsing the whole buffer per
/// read made a large array trickled fast take minutes).
///
/// It must never crash or allocate without bound whatever the bytes are (a server we do not
/// trust, a fuzz loop): every length is checked against limits before it is used, nesting is
/// bounded by an explicit stack (no recursion), nothing is reserved from a declared count, and one
/// reply may not exceed `maximumReplyBytes` nor hold more than `maximumElements` values.
public struct RESPStreamDecoder: Sendable {
    public struct Limits: Sendable {
        public var maximumBulkLength: Int
        public var maximumArrayCount: Int
        public var maximumDepth: Int
        /// Longest `+`, `-`, `:`, `$`, `*` line accepted; an endless line without CRLF is an error,
        /// not a reason to keep reading.
        public var maximumLineLength: Int
        /// Bytes one reply may take on the wire.
        public var maximumReplyBytes: Int
        /// Values (strings, integers, arrays) one reply may hold.
        public var maximumElements: Int

        public init(maximumBulkLength: Int = 512 * 1024 * 1024, maximumArrayCount: Int = 1 << 24, maximumDepth: Int = 32,
                    maximumLineLength: Int = 1 << 20, maximumReplyBytes: Int = .max, maximumElements: Int = .max) {
            self.maximumBulkLength = maximumBulkLength
            self.maximumArrayCount = maximumArrayCount
            self.maximumDepth = maximumDepth
            self.maximumLineLength = maximumLineLength
            self.maximumReplyBytes = maximumReplyBytes
            self.maximumElements = maximumElements
        }

        /// What a connection accepts: the replies dbsecrets reads (`OK`, `ACL GETUSER`, `CONFIG GET`)
        /// are a few hundred bytes, so 4 MiB and 65,536 values leave room without letting a server
        /// fill memory.
        public static let connection = Limits(maximumBulkLength: 4 << 20, maximumReplyBytes: 4 << 20,
                                              maximumElements: 1 << 16)
    }

    public var limits: Limits
    private var buffer: [UInt8] = []
    /// Where unparsed bytes start in `buffer`.
    private var position = 0
    /// How far the current line was already searched for CR, so a long line is scanned once.
    private var scanned = 0
    /// Arrays being filled: how many elements each still needs, and those it has.
    private var stack: [(remaining: Int, elements: [RESPValue])] = []
    /// A `$N` header was read; its N bytes and CRLF are awaited.
    private var pendingBulk: Int?
    private var replyBytes = 0
    private var replyElements = 0
    /// Bytes taken by complete replies so far.
    public private(set) var consumed = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    public mutating func feed<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if position > 0 && position >= buffer.count / 2 {
            buffer.removeFirst(position)
            scanned -= position
            position = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete reply, or nil when more bytes are needed.
    /// - Throws: `RESPDecodingError` when no amount of further bytes can make this valid; the
    ///   decoder is then unusable.
    public mutating func next() throws(RESPDecodingError) -> RESPValue? {
        while true {
            let value: RESPValue
            if let length = pendingBulk {
                guard buffer.count - position >= length + 2 else { return nil }
                guard buffer[position + length] == 13, buffer[position + length + 1] == 10 else {
                    throw RESPDecodingError("bulk string not followed by CRLF")
                }
                value = .bulkString(Array(buffer[position..<position + length]))
                try take(length + 2)
                pendingBulk = nil
            } else {
                guard position < buffer.count else { return nil }
                let type = buffer[position]
                guard Self.types.contains(type) else {
                    throw RESPDecodingError("unexpected RESP type byte 0x\(String(type, radix: 16))")
                }
                guard let end = try lineEnd() else { return nil }
                let line = buffer[(position + 1)..<end]
                let lineLength = end + 2 - position
                switch type {
                case UInt8(ascii: "+"):
                    value = .simpleString(String(decoding: line, as: UTF8.self))
                    try take(lineLength)
                case UInt8(ascii: "-"):
                    value = .error(String(decoding: line, as: UTF8.self))
                    try take(lineLength)
                case UInt8(ascii: ":"):
                    value = .integer(try Self.integer(line))
                    try take(lineLength)
                case UInt8(ascii: "$"):
                    let length = try Self.integer(line)
                    try take(lineLength)
                    if length == -1 {
                        value = .null
                    } else {
                        guard length >= 0 else { throw RESPDecodingError("negative bulk string length \(length)") }
                        guard length <= limits.maximumBulkLength, replyBytes + length + 2 <= limits.maximumReplyBytes else {
                            throw RESPDecodingError("bulk string of \(length) bytes exceeds the \(min(limits.maximumBulkLength, limits.maximumReplyBytes)) byte limit")
                        }
                        pendingBulk = length
                        continue
                    }
                default: // "*"
                    let count = try Self.integer(line)
                    try take(lineLength)
                    if count == -1 {
                        value = .nullArray
                    } else {
                        guard count >= 0 else { throw RESPDecodingError("negative array length \(count)") }
                        guard count <= limits.maximumArrayCount, replyElements + count <= limits.maximumElements else {
                            throw RESPDecodingError("array of \(count) elements exceeds the \(min(limits.maximumArrayCount, limits.maximumElements)) element limit")
                        }
                        guard stack.count < limits.maximumDepth else {
                            throw RESPDecodingError("arrays nested deeper than \(limits.maximumDepth) levels")
                        }
                        if count > 0 {
                            stack.append((count, []))
                            continue
                        }
                        value = .array([])
                    }
                }
            }
            if let reply = complete(value) { return reply }
        }
    }

    /// Files a finished value into the arrays waiting for it; returns the reply once it is whole.
    private mutating func complete(_ value: RESPValue) -> RESPValue? {
        var value = value
        replyElements += 1
        while !stack.isEmpty {
            stack[stack.count - 1].elements.append(value)
            stack[stack.count - 1].remaining -= 1
            guard stack[stack.count - 1].remaining == 0 else { return nil }
            value = .array(stack.removeLast().elements)
        }
        consumed += replyBytes
        replyBytes = 0
        replyElements = 0
        return value
    }

    /// Consumes `count` bytes of the current reply, within its limits.
    private mutating func take(_ count: Int) throws(RESPDecodingError) {
        position += count
        scanned = position
        replyBytes += count
        guard replyBytes <= limits.maximumReplyBytes else {
            throw RESPDecodingError("reply larger than \(limits.maximumReplyBytes) bytes")
        }
    }

    /// Where the CR of the line at `position` is, or nil while it has not arrived.
    private mutating func lineEnd() throws(RESPDecodingError) -> Int? {
        var i = max(scanned, position + 1)
        while i < buffer.count {
            if buffer[i] == 13 {
                guard i + 1 < buffer.count else { scanned = i; return nil }
                guard buffer[i + 1] == 10 else { throw RESPDecodingError("CR not followed by LF") }
                return i
            }
            if buffer[i] == 10 { throw RESPDecodingError("LF without CR") }
            if i - position > limits.maximumLineLength {
                throw RESPDecodingError("line longer than \(limits.maximumLineLength) bytes")
            }
            i += 1
        }
        scanned = i
        if i - position > limits.maximumLineLength {
            throw RESPDecodingError("line longer than \(limits.maximumLineLength) bytes")
        }
        return nil
    }

    private static func integer(_ digits: ArraySlice<UInt8>) throws(RESPDecodingError) -> Int {
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

/// The same parser over one buffer at a time: no I/O, no state between calls.
public struct RESPDecoder: Sendable {
    public var limits: RESPStreamDecoder.Limits

    public init(maximumBulkLength: Int = 512 * 1024 * 1024, maximumArrayCount: Int = 1 << 24,
                maximumDepth: Int = 32, maximumLineLength: Int = 1 << 20) {
        limits = .init(maximumBulkLength: maximumBulkLength, maximumArrayCount: maximumArrayCount,
                       maximumDepth: maximumDepth, maximumLineLength: maximumLineLength)
    }

    /// Parses one reply from the front of `bytes`.
    /// - Returns: the reply and how many bytes it took, or nil when `bytes` is a valid but
    ///   incomplete prefix (read more and call again with the longer buffer).
    /// - Throws: `RESPDecodingError` when no amount of further bytes can make this valid.
    public func decode(_ bytes: [UInt8]) throws(RESPDecodingError) -> (value: RESPValue, consumed: Int)? {
        var stream = RESPStreamDecoder(limits: limits)
        stream.feed(bytes)
        guard let value = try stream.next() else { return nil }
        return (value, stream.consumed)
    }

    public func decode(_ bytes: ArraySlice<UInt8>) throws(RESPDecodingError) -> (value: RESPValue, consumed: Int)? {
        try decode(Array(bytes))
    }

    /// Every complete reply at the front of `bytes`, and how many bytes they took.
    public func decodeAll(_ bytes: [UInt8]) throws(RESPDecodingError) -> (values: [RESPValue], consumed: Int) {
        var stream = RESPStreamDecoder(limits: limits)
        stream.feed(bytes)
        var values: [RESPValue] = []
        while let value = try stream.next() { values.append(value) }
        return (values, stream.consumed)
    }
}
