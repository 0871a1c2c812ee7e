import Foundation
import TestSupport
import XCTest
@testable import PostgresPlugin

/// The bytes a PostgreSQL server sends, generated: backend messages first straight into the pure
/// decoder, then from a local listener into the real client, so the framing, the authentication
/// exchanges and the result reader all see them. A server that lies must cost a typed error
/// within the timeouts, never a trap or a hang.
final class PostgresWireFuzzTests: XCTestCase {
    static let postgresTypes = Array("RSKZENTDCIvAGHWdc1s".utf8)

    /// A backend message with a plausible type and a body that is valid, damaged or random.
    static func postgresMessage(_ g: inout FuzzGenerator, valid: Bool = false) -> (type: UInt8, body: [UInt8]) {
        let type = g.chance(10) ? UInt8.random(in: 0...255, using: &g) : g.pick(postgresTypes)
        var body: [UInt8]
        func int32(_ v: Int32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        func int16(_ v: Int16) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        func cString(_ s: String) -> [UInt8] { Array(s.utf8) + [0] }
        switch type {
        case UInt8(ascii: "R"):
            let code = g.pick([0, 3, 5, 10, 11, 12, 2, 7, -1, Int32.max])
            body = int32(code) + g.pick([[], g.bytes(4), cString("SCRAM-SHA-256") + [0], Array("r=abc,s=QSXCR+Q6sek8bf92,i=4096".utf8)])
        case UInt8(ascii: "T"):
            let count = g.pick([0, 1, 2, -1, Int16.max])
            body = int16(count) + (0..<min(Int(max(count, 0)), 3)).flatMap { _ in cString("col") + g.bytes(18) }
        case UInt8(ascii: "D"):
            let count = g.pick([0, 1, 3, -1, Int16.max])
            body = int16(count) + (0..<min(Int(max(count, 0)), 3)).flatMap { _ in
                int32(g.pick([-1, 0, 3, 1 << 30, Int32.max, Int32.min])) + Array("abc".utf8)
            }
        case UInt8(ascii: "E"), UInt8(ascii: "N"):
            body = Array("SERROR".utf8) + [0] + Array("C28P01".utf8) + [0] + Array("Mbad".utf8) + [0, 0]
        case UInt8(ascii: "Z"):
            body = [g.pick(Array("ITE?".utf8))]
        default:
            body = cString(g.text(maxLength: 8)) + cString(g.text(maxLength: 8))
        }
        if !valid {
            switch g.int(0...3) {
            case 0: body = g.bytes(g.int(0...24))
            case 1: body = Array(body.prefix(g.int(0...body.count)))
            case 2 where !body.isEmpty: body[g.int(0...body.count - 1)] = UInt8.random(in: 0...255, using: &g)
            default: break
            }
        }
        return (type, body)
    }

    func testPostgresBackendMessagesDecodeOrFailAsProtocolViolations() {
        let run = FuzzRun("PostgresBackendMessage.decode", seconds: 0.5)
        run.loop(minimumInputs: 500) { run in
            let (type, body) = Self.postgresMessage(&run.generator)
            run.input("type \(type) body \(body)")
            do {
                _ = try PostgresBackendMessage.decode(type: type, body: body)
            } catch let error as PostgresClientError {
                if error.kind != .protocolViolation { run.fail("unexpected kind \(error.kind): \(error.message)") }
            }
        }
    }

    /// Regression: a RowDescription or DataRow with a negative count trapped on `0..<count`.
    func testANegativeColumnCountIsAProtocolViolation() {
        for type in [UInt8(ascii: "T"), UInt8(ascii: "D")] {
            XCTAssertThrowsError(try PostgresBackendMessage.decode(type: type, body: [0xff, 0xff])) { error in
                XCTAssertEqual((error as? PostgresClientError)?.kind, .protocolViolation)
            }
        }
    }

    /// Framed messages on the wire, with lengths that are right, wrong, negative or huge.
    static func postgresStream(_ g: inout FuzzGenerator) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<g.int(0...6) {
            if g.chance(8) { out += g.bytes(g.int(1...12)); continue }
            let (type, body) = postgresMessage(&g, valid: !g.chance(3))
            var length = Int32(body.count + 4)
            if g.chance(6) { length = g.pick([0, 3, -1, Int32.max, 1 << 30, length + 1, length - 1]) }
            out += [type] + withUnsafeBytes(of: length.bigEndian) { Array($0) } + body
        }
        return out
    }

    func testPostgresClientSurvivesAServerSpeakingNoise() throws {
        let server = try ScriptedServer()
        defer { server.stop() }
        let run = FuzzRun("PostgresConnection against noise", seconds: 1)
        run.loop(perInput: .seconds(1), minimumInputs: 20) { run in
            var g = run.generator
            let startup = Self.postgresStream(&g)
            // Often a successful login first, so the query reader sees noise too.
            let login: [UInt8] = [UInt8(ascii: "R"), 0, 0, 0, 8, 0, 0, 0, 0, UInt8(ascii: "Z"), 0, 0, 0, 5, UInt8(ascii: "I")]
            let loginFirst = g.chance(2)
            let query = Self.postgresStream(&g)
            let stall = g.chance(30)
            run.generator = g
            var script: [ScriptedServer.Step] = [.receive(0.5), .send(loginFirst ? login : startup)]
            if loginFirst { script += [.receive(0.5), .send(query)] }
            if stall { script.append(.stall(0.5)) }
            server.enqueue(script)
            run.input("startup \(loginFirst ? login : startup) query \(query) stall \(stall)")
            do {
                let connection = try PostgresConnection.connect(PostgresConnection.Configuration(
                    host: "127.0.0.1", port: server.port, user: "fuzz", password: "fuzz-password",
                    connectTimeout: 0.3, queryTimeout: 0.3))
                defer { connection.close() }
                _ = try connection.simpleQuery("SELECT 1")
            } catch let error as PostgresClientError {
                if error.message.contains("fuzz-password") { run.fail("the password in \(error.message)") }
                if error.kind == .connect || error.kind == .io || error.kind == .timeout {
                    if !error.message.contains("127.0.0.1:\(server.port)") { run.fail("no address in \(error.message)") }
                }
            }
        }
    }

    /// SCRAM's iteration count comes from the server; an absurd one must not stall the login
    /// past its timeout (PBKDF2 cannot be interrupted once started).
    func testAHostileSCRAMIterationCountIsRefused() throws {
        var authenticator = SCRAMAuthenticator(password: "pw", clientNonce: "nonce")
        let started = Date()
        XCTAssertThrowsError(try authenticator.clientFinalMessage(serverFirst: "r=nonceXYZ,s=QSXCR+Q6sek8bf92,i=2147483647")) { error in
            XCTAssertEqual((error as? PostgresClientError)?.kind, .authentication)
            XCTAssertEqual((error as? PostgresClientError)?.message,
                           "SCRAM-SHA-256: the server asks for 2147483647 iterations, more than the 1000000 this client allows")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
        XCTAssertNoThrow(try authenticator.clientFinalMessage(serverFirst: "r=nonceXYZ,s=QSXCR+Q6sek8bf92,i=4096"))
    }
}
