import XCTest
@testable import RedisPlugin

final class RESPDecoderTests: XCTestCase {
    private let decoder = RESPDecoder()

    private func decode(_ text: String) throws -> RESPValue? {
        try decoder.decode(Array(text.utf8)).map { $0.value }
    }

    func testDecodesEveryRESP2ReplyType() throws {
        XCTAssertEqual(try decode("+OK\r\n"), .simpleString("OK"))
        XCTAssertEqual(try decode("-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
                       .error("WRONGPASS invalid username-password pair or user is disabled."))
        XCTAssertEqual(try decode(":1\r\n"), .integer(1))
        XCTAssertEqual(try decode(":-42\r\n"), .integer(-42))
        XCTAssertEqual(try decode("$3\r\nfoo\r\n"), .bulkString(Array("foo".utf8)))
        XCTAssertEqual(try decode("$0\r\n\r\n"), .bulkString([]))
        XCTAssertEqual(try decode("$-1\r\n"), .null)
        XCTAssertEqual(try decode("*-1\r\n"), .nullArray)
        XCTAssertEqual(try decode("*0\r\n"), .array([]))
        XCTAssertEqual(try decode("*2\r\n$5\r\nflags\r\n*1\r\n$2\r\non\r\n"),
                       .array([.bulkString(Array("flags".utf8)), .array([.bulkString(Array("on".utf8))])]))
    }

    func testBulkStringsAreBinarySafe() throws {
        let bytes: [UInt8] = Array("$4\r\n".utf8) + [13, 10, 0, 255] + [13, 10]
        XCTAssertEqual(try decoder.decode(bytes)?.value, .bulkString([13, 10, 0, 255]))
    }

    func testIncompleteInputAsksForMoreBytes() throws {
        let full = Array("*2\r\n$3\r\nfoo\r\n:7\r\n".utf8)
        for cut in 0..<full.count {
            XCTAssertNil(try decoder.decode(Array(full[..<cut])), "prefix of \(cut) bytes")
        }
        let result = try XCTUnwrap(decoder.decode(full + Array("+next\r\n".utf8)))
        XCTAssertEqual(result.consumed, full.count)
    }

    func testDecodeAllReturnsConsecutiveReplies() throws {
        let (values, consumed) = try decoder.decodeAll(Array("+OK\r\n:1\r\n$2\r\nab".utf8))
        XCTAssertEqual(values, [.simpleString("OK"), .integer(1)])
        XCTAssertEqual(consumed, 9)
    }

    func testMalformedInputIsAnError() {
        for bad in ["?\r\n", ":\r\n", ":12a\r\n", ":99999999999999999999\r\n", "$-2\r\n", "*-5\r\n",
                    "$3\r\nfooXY", "+OK\rX", "+O\nK\r\n", "$abc\r\n", ":-\r\n"] {
            XCTAssertThrowsError(try decoder.decode(Array(bad.utf8)), bad.debugDescription)
        }
    }

    func testLimitsAreEnforcedBeforeAllocating() {
        XCTAssertThrowsError(try decoder.decode(Array("$999999999999\r\n".utf8)))
        XCTAssertThrowsError(try decoder.decode(Array("*99999999999\r\n".utf8)))
        XCTAssertThrowsError(try decoder.decode(Array(String(repeating: "*1\r\n", count: 100).utf8))) { error in
            XCTAssertTrue("\(error)".contains("nested"))
        }
        let small = RESPDecoder(maximumLineLength: 16)
        XCTAssertThrowsError(try small.decode(Array(("+" + String(repeating: "a", count: 64)).utf8)))
    }

    /// Arbitrary and mutated bytes never crash the decoder: each input parses, asks for more,
    /// or throws.
    func testFuzzedInputNeverCrashes() {
        var rng = SplitMix64(seed: 0x5eed)
        let seeds = ["+OK\r\n", "-ERR x\r\n", ":123\r\n", "$3\r\nabc\r\n", "*2\r\n$1\r\na\r\n*1\r\n:1\r\n", "$-1\r\n", "*-1\r\n"]
            .map { Array($0.utf8) }
        let alphabet = Array("+-:$*\r\n0123456789-abc".utf8)
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(rng.next() % 40)).map { _ in
                    rng.next() % 3 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[Int(rng.next() % UInt64(alphabet.count))]
                }
            } else {
                bytes = seeds[Int(rng.next() % UInt64(seeds.count))] + seeds[Int(rng.next() % UInt64(seeds.count))]
                for _ in 0..<Int(rng.next() % 4) where !bytes.isEmpty {
                    bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
            }
            if let result = try? decoder.decode(bytes) {
                XCTAssertLessThanOrEqual(result.consumed, bytes.count)
                XCTAssertGreaterThan(result.consumed, 0)
            }
        }
    }

    func testEncoderWritesArraysOfBulkStrings() {
        XCTAssertEqual(String(decoding: RESPEncoder.command(["ACL", "SETUSER", "u", ">p w"]), as: UTF8.self),
                       "*4\r\n$3\r\nACL\r\n$7\r\nSETUSER\r\n$1\r\nu\r\n$4\r\n>p w\r\n")
        XCTAssertEqual(String(decoding: RESPEncoder.command(["é"]), as: UTF8.self), "*1\r\n$2\r\né\r\n")
    }

    func testCommandNamesInMessagesNeverIncludeArguments() {
        XCTAssertEqual(RedisConnection.commandName(["acl", "setuser", "u", ">secret"]), "ACL SETUSER")
        XCTAssertEqual(RedisConnection.commandName(["AUTH", "u", "secret"]), "AUTH")
    }

    func testFeedingOneByteAtATimeGivesTheSameReplies() throws {
        let text = "*3\r\n$5\r\nflags\r\n*2\r\n:1\r\n+on\r\n$-1\r\n-ERR no\r\n:42\r\n"
        var stream = RESPStreamDecoder()
        var replies: [RESPValue] = []
        for byte in Array(text.utf8) {
            stream.feed([byte])
            while let reply = try stream.next() { replies.append(reply) }
        }
        XCTAssertEqual(replies, try decoder.decodeAll(Array(text.utf8)).values)
        XCTAssertEqual(replies.count, 3)
        XCTAssertEqual(stream.consumed, text.utf8.count)
    }

    func testTheConnectionLimitsRefuseOversizedRepliesEarly() {
        var stream = RESPStreamDecoder(limits: .connection)
        stream.feed(Array("$536870912\r\n".utf8))
        XCTAssertThrowsError(try stream.next())
        var many = RESPStreamDecoder(limits: .connection)
        many.feed(Array("*100000\r\n".utf8))
        XCTAssertThrowsError(try many.next())
        var wide = RESPStreamDecoder(limits: .connection)
        wide.feed(Array("*2\r\n*40000\r\n".utf8) + Array(repeating: Array(":1\r\n".utf8), count: 40000).flatMap { $0 }
                  + Array("*40000\r\n".utf8))
        XCTAssertThrowsError(try wide.next(), "two arrays of 40,000 values are more than 65,536 in one reply")
    }
}

/// A tiny deterministic generator so a fuzz failure can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
