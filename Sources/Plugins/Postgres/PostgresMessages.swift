/// Frontend/backend protocol version 3 messages, as bytes on the wire.
/// https://www.postgresql.org/docs/15/protocol-message-formats.html
enum PostgresFrontendMessage {
    static let protocolVersion: Int32 = 196_608 // 3.0

    static func startup(_ parameters: [(String, String)]) -> [UInt8] {
        var body = bigEndian(protocolVersion)
        for (key, value) in parameters {
            body += cString(key) + cString(value)
        }
        body.append(0)
        return bigEndian(Int32(body.count + 4)) + body
    }

    static func password(_ password: String) -> [UInt8] {
        message("p", cString(password))
    }

    static func saslInitialResponse(mechanism: String, data: [UInt8]) -> [UInt8] {
        message("p", cString(mechanism) + bigEndian(Int32(data.count)) + data)
    }

    static func saslResponse(_ data: [UInt8]) -> [UInt8] {
        message("p", data)
    }

    static func query(_ sql: String) -> [UInt8] {
        message("Q", cString(sql))
    }

    static let terminate: [UInt8] = message("X", [])

    /// Length 8, then the code 80877103 (1234 in the high 16 bits, 5679 in the low): "TLS, please".
    static let sslRequest: [UInt8] = bigEndian(8) + bigEndian(80_877_103)

    private static func message(_ type: Character, _ body: [UInt8]) -> [UInt8] {
        [type.asciiValue!] + bigEndian(Int32(body.count + 4)) + body
    }

    private static func cString(_ s: String) -> [UInt8] { Array(s.utf8) + [0] }

    static func bigEndian(_ value: Int32) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }
}

/// The transaction status ReadyForQuery reports: idle, in a transaction block, or in a failed one.
public enum PostgresTransactionStatus: Sendable, Equatable {
    case idle
    case inTransaction
    case failedTransaction
}

enum PostgresBackendMessage {
    enum Authentication {
        case ok
        case cleartextPassword
        case md5Password(salt: [UInt8])
        case sasl(mechanisms: [String])
        case saslContinue([UInt8])
        case saslFinal([UInt8])
        case unsupported(code: Int32)
    }

    case authentication(Authentication)
    case parameterStatus(name: String, value: String)
    case backendKeyData
    case readyForQuery(PostgresTransactionStatus)
    case errorResponse(PostgresServerError)
    case noticeResponse(PostgresServerError)
    case rowDescription(columns: [String])
    case dataRow([String?])
    case commandComplete(tag: String)
    case emptyQueryResponse
    case negotiateProtocolVersion
    /// Anything we do not act on (NotificationResponse, CopyInResponse, …).
    case other(type: UInt8)

    static func decode(type: UInt8, body: [UInt8]) throws -> PostgresBackendMessage {
        var reader = ByteReader(body)
        switch type {
        case UInt8(ascii: "R"):
            let code = try reader.int32()
            switch code {
            case 0: return .authentication(.ok)
            case 3: return .authentication(.cleartextPassword)
            case 5: return .authentication(.md5Password(salt: try reader.bytes(4)))
            case 10:
                var mechanisms: [String] = []
                while let name = try? reader.cString(), !name.isEmpty { mechanisms.append(name) }
                return .authentication(.sasl(mechanisms: mechanisms))
            case 11: return .authentication(.saslContinue(reader.rest()))
            case 12: return .authentication(.saslFinal(reader.rest()))
            default: return .authentication(.unsupported(code: code))
            }
        case UInt8(ascii: "S"):
            return .parameterStatus(name: try reader.cString(), value: try reader.cString())
        case UInt8(ascii: "K"):
            return .backendKeyData
        case UInt8(ascii: "Z"):
            switch try reader.bytes(1)[0] {
            case UInt8(ascii: "T"): return .readyForQuery(.inTransaction)
            case UInt8(ascii: "E"): return .readyForQuery(.failedTransaction)
            default: return .readyForQuery(.idle)
            }
        case UInt8(ascii: "E"), UInt8(ascii: "N"):
            var fields: [UInt8: String] = [:]
            while true {
                let field = try reader.bytes(1)[0]
                if field == 0 { break }
                fields[field] = try reader.cString()
            }
            let error = PostgresServerError(fields: fields)
            return type == UInt8(ascii: "E") ? .errorResponse(error) : .noticeResponse(error)
        case UInt8(ascii: "T"):
            let count = Int(try reader.int16())
            guard count >= 0 else { throw PostgresClientError.protocolViolation("server sent a negative column count") }
            var columns: [String] = []
            for _ in 0..<count {
                columns.append(try reader.cString())
                _ = try reader.bytes(18) // table oid, column number, type oid, size, modifier, format
            }
            return .rowDescription(columns: columns)
        case UInt8(ascii: "D"):
            let count = Int(try reader.int16())
            guard count >= 0 else { throw PostgresClientError.protocolViolation("server sent a negative column count") }
            var values: [String?] = []
            for _ in 0..<count {
                let length = try reader.int32()
                values.append(length < 0 ? nil : String(decoding: try reader.bytes(Int(length)), as: UTF8.self))
            }
            return .dataRow(values)
        case UInt8(ascii: "C"):
            return .commandComplete(tag: try reader.cString())
        case UInt8(ascii: "I"):
            return .emptyQueryResponse
        case UInt8(ascii: "v"):
            return .negotiateProtocolVersion
        default:
            return .other(type: type)
        }
    }
}

/// Reads big-endian integers and C strings out of a message body.
struct ByteReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func bytes(_ count: Int) throws -> [UInt8] {
        guard count >= 0, offset + count <= bytes.count else { throw truncated }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func int32() throws -> Int32 {
        let b = try bytes(4)
        return Int32(bitPattern: UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3]))
    }

    mutating func int16() throws -> Int16 {
        let b = try bytes(2)
        return Int16(bitPattern: UInt16(b[0]) << 8 | UInt16(b[1]))
    }

    mutating func cString() throws -> String {
        guard let end = bytes[offset...].firstIndex(of: 0) else { throw truncated }
        defer { offset = end + 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }

    mutating func rest() -> [UInt8] {
        defer { offset = bytes.count }
        return Array(bytes[offset...])
    }

    private var truncated: PostgresClientError { .protocolViolation("server sent a truncated message") }
}
