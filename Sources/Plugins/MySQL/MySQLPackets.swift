/// Builds the payload of a client packet with the protocol's integer and string encodings.
struct MySQLPacketWriter {
    private(set) var bytes: [UInt8] = []

    mutating func int1(_ value: UInt8) { bytes.append(value) }

    mutating func int2(_ value: UInt16) {
        bytes.append(UInt8(value & 0xff))
        bytes.append(UInt8(value >> 8))
    }

    mutating func int4(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8((value >> UInt32(shift)) & 0xff)) }
    }

    mutating func zeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: count)) }

    mutating func raw<C: Collection>(_ data: C) where C.Element == UInt8 { bytes.append(contentsOf: data) }

    mutating func nulTerminated(_ text: String) {
        bytes.append(contentsOf: Array(text.utf8))
        bytes.append(0)
    }

    /// Length-encoded integer.
    mutating func lengthEncoded(_ value: UInt64) {
        switch value {
        case ..<251: bytes.append(UInt8(value))
        case ..<(1 << 16):
            bytes.append(0xfc)
            int2(UInt16(value))
        case ..<(1 << 24):
            bytes.append(0xfd)
            for shift in stride(from: 0, to: 24, by: 8) { bytes.append(UInt8((value >> UInt64(shift)) & 0xff)) }
        default:
            bytes.append(0xfe)
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8((value >> UInt64(shift)) & 0xff)) }
        }
    }

    mutating func lengthEncoded(bytes data: [UInt8]) {
        lengthEncoded(UInt64(data.count))
        bytes.append(contentsOf: data)
    }
}

/// Reads a server packet's payload; running past the end is a protocol violation, not a crash.
struct MySQLPacketReader {
    let bytes: [UInt8]
    private(set) var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - index }
    var isAtEnd: Bool { index >= bytes.count }

    private func need(_ count: Int) throws {
        guard count >= 0, index + count <= bytes.count else {
            throw MySQLError(.protocolViolation, "malformed packet from the server: it ends too early")
        }
    }

    mutating func int1() throws -> UInt8 {
        try need(1)
        defer { index += 1 }
        return bytes[index]
    }

    mutating func int2() throws -> UInt16 {
        try need(2)
        defer { index += 2 }
        return UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8
    }

    mutating func int3() throws -> UInt32 {
        try need(3)
        defer { index += 3 }
        return UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16
    }

    mutating func int4() throws -> UInt32 {
        try need(4)
        defer { index += 4 }
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[index + i]) << UInt32(8 * i) }
        return value
    }

    mutating func int8() throws -> UInt64 {
        try need(8)
        defer { index += 8 }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[index + i]) << UInt64(8 * i) }
        return value
    }

    mutating func bytes(_ count: Int) throws -> [UInt8] {
        try need(count)
        defer { index += count }
        return Array(bytes[index..<index + count])
    }

    mutating func skip(_ count: Int) throws {
        try need(count)
        index += count
    }

    mutating func rest() -> [UInt8] {
        defer { index = bytes.count }
        return index < bytes.count ? Array(bytes[index...]) : []
    }

    /// Up to the next NUL (consumed), or to the end when there is none.
    mutating func nulTerminated() -> [UInt8] {
        guard let end = bytes[index...].firstIndex(of: 0) else { return rest() }
        defer { index = end + 1 }
        return Array(bytes[index..<end])
    }

    mutating func nulTerminatedString() -> String { String(decoding: nulTerminated(), as: UTF8.self) }

    /// Length-encoded integer; nil for the 0xFB marker that means SQL NULL in a row.
    mutating func lengthEncoded() throws -> UInt64? {
        let first = try int1()
        switch first {
        case 0xfb: return nil
        case 0xfc: return UInt64(try int2())
        case 0xfd: return UInt64(try int3())
        case 0xfe: return try int8()
        case 0xff: throw MySQLError(.protocolViolation, "malformed packet from the server: bad length prefix")
        default: return UInt64(first)
        }
    }

    mutating func lengthEncodedBytes() throws -> [UInt8]? {
        guard let length = try lengthEncoded() else { return nil }
        guard length <= UInt64(remaining) else {
            throw MySQLError(.protocolViolation, "malformed packet from the server: it ends too early")
        }
        return try bytes(Int(length))
    }

    mutating func lengthEncodedString() throws -> String? {
        try lengthEncodedBytes().map { String(decoding: $0, as: UTF8.self) }
    }
}

/// The generic packets every command can answer with.
enum MySQLResponse {
    static let okHeader: UInt8 = 0x00
    static let eofHeader: UInt8 = 0xfe
    static let errHeader: UInt8 = 0xff

    /// An ERR packet as a typed error: code, SQLSTATE (protocol 4.1 marker `#`) and message.
    static func error(from payload: [UInt8]) -> MySQLError {
        var reader = MySQLPacketReader(payload)
        _ = try? reader.int1()
        guard let code = try? reader.int2() else {
            return MySQLError(.protocolViolation, "malformed error packet from the server")
        }
        var sqlState: String?
        if reader.remaining >= 6, reader.bytes[reader.index] == UInt8(ascii: "#") {
            _ = try? reader.skip(1)
            sqlState = (try? reader.bytes(5)).map { String(decoding: $0, as: UTF8.self) }
        }
        let message = String(decoding: reader.rest(), as: UTF8.self)
        return .server(code: code, sqlState: sqlState, message: message)
    }

    /// An EOF packet: 0xFE with fewer than 9 bytes (a longer 0xFE is a length-encoded integer).
    static func isEOF(_ payload: [UInt8]) -> Bool {
        payload.first == eofHeader && payload.count < 9
    }

    static func isError(_ payload: [UInt8]) -> Bool { payload.first == errHeader }
    static func isOK(_ payload: [UInt8]) -> Bool { payload.first == okHeader }
}

/// The OK packet's counters.
public struct MySQLOK: Sendable, Equatable {
    public var affectedRows: UInt64
    public var lastInsertID: UInt64
    public var statusFlags: UInt16
    public var warnings: UInt16

    static func decode(_ payload: [UInt8]) throws -> MySQLOK {
        var reader = MySQLPacketReader(payload)
        _ = try reader.int1()
        let affected = try reader.lengthEncoded() ?? 0
        let lastID = try reader.lengthEncoded() ?? 0
        let status = reader.remaining >= 2 ? try reader.int2() : 0
        let warnings = reader.remaining >= 2 ? try reader.int2() : 0
        return MySQLOK(affectedRows: affected, lastInsertID: lastID, statusFlags: status, warnings: warnings)
    }
}

/// Capability flags this client uses (protocol "Capability Flags").
struct MySQLCapabilities: OptionSet {
    let rawValue: UInt32
    static let longPassword = MySQLCapabilities(rawValue: 0x0000_0001)
    static let foundRows = MySQLCapabilities(rawValue: 0x0000_0002)
    static let longFlag = MySQLCapabilities(rawValue: 0x0000_0004)
    static let connectWithDB = MySQLCapabilities(rawValue: 0x0000_0008)
    static let protocol41 = MySQLCapabilities(rawValue: 0x0000_0200)
    static let ssl = MySQLCapabilities(rawValue: 0x0000_0800)
    static let transactions = MySQLCapabilities(rawValue: 0x0000_2000)
    static let secureConnection = MySQLCapabilities(rawValue: 0x0000_8000)
    static let multiResults = MySQLCapabilities(rawValue: 0x0002_0000)
    static let pluginAuth = MySQLCapabilities(rawValue: 0x0008_0000)
    static let pluginAuthLengthEncodedData = MySQLCapabilities(rawValue: 0x0020_0000)
}
