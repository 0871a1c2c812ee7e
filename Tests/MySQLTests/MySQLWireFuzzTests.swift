import Foundation
import TestSupport
import XCTest
@testable import MySQLPlugin

/// The bytes a MySQL server sends, generated: packets first straight into the pure decoders, then
/// from a local listener into the real client, so the framing, the authentication exchanges and
/// the result-set readers all see them. A server that lies must cost a typed error within the
/// timeouts, never a trap or a hang.
final class MySQLWireFuzzTests: XCTestCase {
    static func lengthEncoded(_ value: UInt64) -> [UInt8] {
        var writer = MySQLPacketWriter()
        writer.lengthEncoded(value)
        return writer.bytes
    }

    static func mysqlHandshake(_ g: inout FuzzGenerator, plugin: String = "mysql_native_password") -> [UInt8] {
        var w = MySQLPacketWriter()
        w.int1(10)
        w.nulTerminated("10.11.6-MariaDB")
        w.int4(7)
        w.raw(g.bytes(8))
        w.int1(0)
        let capabilities: UInt32 = 0x0000_0200 | 0x0000_8000 | 0x0008_0000 | 0x0020_0000 | 0x0000_0001
        w.int2(UInt16(capabilities & 0xffff))
        w.int1(45)
        w.int2(2)
        w.int2(UInt16(capabilities >> 16))
        w.int1(21)
        w.zeros(10)
        w.raw(g.bytes(12))
        w.int1(0)
        w.nulTerminated(plugin)
        return w.bytes
    }

    /// A server packet: OK, ERR, EOF, auth switch, result-set header, column or row, valid or not.
    static func mysqlPayload(_ g: inout FuzzGenerator) -> [UInt8] {
        var payload: [UInt8]
        switch g.int(0...8) {
        case 0: payload = [0x00] + lengthEncoded(UInt64(g.int(0...300))) + [0, 2, 0, 0, 0]
        case 1: payload = [0xff, 0x15, 0x04] + Array("#28000Access denied".utf8)
        case 2: payload = [0xfe, 0, 0, g.pick([0, 8]), 0]
        case 3: payload = [0xfe] + Array(g.pick(["mysql_native_password", "caching_sha2_password", "mysql_clear_password", "x"]).utf8) + [0] + g.bytes(20) + [0]
        case 4: payload = [0x01, g.pick([3, 4, 9])]
        case 5: payload = lengthEncoded(g.pick([1, 2, 0, UInt64.max, 1 << 40, 250, 251]))
        case 6: payload = (0..<5).flatMap { _ in lengthEncoded(3) + Array("col".utf8) } + g.bytes(12)
        case 7: payload = [0xfb] + lengthEncoded(1) + [0x41] + [g.pick([0xfc, 0xfd, 0xfe, 0xff])] + g.bytes(g.int(0...8))
        default: payload = g.bytes(g.int(0...24))
        }
        if g.chance(4), !payload.isEmpty { payload = Array(payload.prefix(g.int(0...payload.count))) }
        return payload
    }

    func testMySQLPacketDecodersParseOrFailWithMySQLErrors() {
        let run = FuzzRun("MySQL packet decoders", seconds: 0.5)
        run.loop(minimumInputs: 500) { run in
            var g = run.generator
            let payload = g.chance(3) ? Self.mysqlHandshake(&g) : Self.mysqlPayload(&g)
            let damaged = g.chance(2) ? payload : payload.enumerated().map { i, b in i == 0 || !g.chance(4) ? b : UInt8.random(in: 0...255, using: &g) }
            run.generator = g
            run.input("\(damaged)")
            do { _ = try MySQLHandshake.decode(damaged) } catch is MySQLError {}
            do { _ = try MySQLOK.decode(damaged) } catch is MySQLError {}
            _ = MySQLResponse.error(from: damaged).description
            var authenticator = MySQLAuthenticator(password: "pw", serverPlugin: "caching_sha2_password", nonce: Array(damaged.prefix(20)))
            do { _ = try authenticator.handle(damaged) } catch is MySQLError {}
            var reader = MySQLPacketReader(damaged)
            do {
                while !reader.isAtEnd { _ = try reader.lengthEncodedString() }
            } catch is MySQLError {}
        }
    }

    func testMySQLClientSurvivesAServerSpeakingNoise() throws {
        let server = try ScriptedServer()
        defer { server.stop() }
        func frame(_ payload: [UInt8], _ sequence: UInt8) -> [UInt8] {
            [UInt8(payload.count & 0xff), UInt8((payload.count >> 8) & 0xff), UInt8(payload.count >> 16), sequence] + payload
        }
        let run = FuzzRun("MySQLConnection against noise", seconds: 1)
        run.loop(perInput: .seconds(1), minimumInputs: 20) { run in
            var g = run.generator
            var script: [ScriptedServer.Step] = []
            let handshake = g.chance(5) ? Self.mysqlPayload(&g) : Self.mysqlHandshake(&g, plugin: g.pick(["mysql_native_password", "caching_sha2_password", "dialog"]))
            script.append(.send(frame(handshake, 0)))
            script.append(.receive(0.5))
            let loggedIn = g.chance(2)
            var after: [UInt8] = loggedIn ? frame([0x00, 0, 0, 2, 0, 0, 0], 2) : []
            let noise = (0..<g.int(1...6)).flatMap { i -> [UInt8] in
                var f = frame(Self.mysqlPayload(&g), UInt8(i + 1))
                if g.chance(8) { f[0] = 0xff; f[1] = 0xff; f[2] = 0xff }
                return f
            }
            if !loggedIn { after += noise }
            script.append(.send(after))
            if loggedIn { script += [.receive(0.5), .send(noise)] }
            if g.chance(10) { script.append(.stall(0.5)) }
            run.generator = g
            server.enqueue(script)
            run.input("handshake \(handshake) loggedIn \(loggedIn) noise \(noise)")
            do {
                let connection = try MySQLConnection.connect(MySQLConnection.Configuration(
                    address: .tcp(host: "127.0.0.1", port: server.port), username: "fuzz", password: "fuzz-password",
                    connectTimeout: 0.3, readTimeout: 0.3, writeTimeout: 0.3))
                defer { connection.close() }
                _ = try connection.execute("SELECT 1")
            } catch let error as MySQLError {
                if error.description.contains("fuzz-password") { run.fail("the password in \(error.description)") }
            }
        }
    }
}
