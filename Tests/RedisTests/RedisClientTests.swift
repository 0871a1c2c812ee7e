import Foundation
import TestSupport
import XCTest
@testable import RedisPlugin

/// The RESP client against a real redis-server.
final class RedisClientTests: XCTestCase {
    private var server: RedisTestServer!

    override func setUpWithError() throws {
        server = try RedisTestServer.fromEnvironment()
    }

    func testLogsInAndRunsCommands() throws {
        let redis = try RedisConnection.connect(host: server.host, port: server.port,
                                                username: server.adminUsername, password: server.adminPassword)
        defer { redis.close() }
        XCTAssertEqual(try redis.command(["PING"]), .simpleString("PONG"))
        XCTAssertEqual(try redis.command(["SET", "client-test", "a b\r\nc"]), .simpleString("OK"))
        XCTAssertEqual(try redis.command(["GET", "client-test"]).text, "a b\r\nc")
        XCTAssertEqual(try redis.command(["DEL", "client-test"]), .integer(1))
        XCTAssertEqual(try redis.command(["ACL", "GETUSER", "no-such-user"]), .null)
        XCTAssertEqual(try redis.command(["ACL", "WHOAMI"]).text, server.adminUsername)
    }

    func testWrongPasswordIsAClearAuthenticationError() throws {
        XCTAssertThrowsError(try RedisConnection.connect(host: server.host, port: server.port,
                                                         username: server.adminUsername, password: "wrong-Secret-42")) { error in
            let e = error as! RedisError
            XCTAssertEqual(e.kind, .authentication)
            XCTAssertEqual(e.code, "WRONGPASS")
            XCTAssertEqual(e.message, "Redis at 127.0.0.1:\(server.port) refused the login of user \"\(server.adminUsername)\": WRONGPASS invalid username-password pair or user is disabled.")
        }
    }

    func testACommandSentWithTheLoginAnswersInTheSameRoundTrip() throws {
        let (redis, reply) = try RedisConnection.connect(host: server.host, port: server.port, username: server.adminUsername,
                                                         password: server.adminPassword, then: ["ACL", "WHOAMI"])
        defer { redis.close() }
        XCTAssertEqual(reply?.text, server.adminUsername, "it ran after the login")
        XCTAssertEqual(try redis.command(["PING"]), .simpleString("PONG"), "and the stream is in step")
        XCTAssertEqual(try redis.send([["PING"], ["ECHO", "b"]]), [.simpleString("PONG"), .bulkString(Array("b".utf8))])
        XCTAssertThrowsError(try RedisConnection.connect(host: server.host, port: server.port, username: server.adminUsername,
                                                         password: "wrong-Secret-42", then: ["ACL", "WHOAMI"])) { error in
            XCTAssertEqual((error as! RedisError).code, "WRONGPASS", "a failed login is the error, whatever came after it")
        }
    }

    func testErrorRepliesAreTypedAndNameTheCommandButNotItsArguments() throws {
        let redis = try RedisConnection.connect(host: server.host, port: server.port,
                                                username: server.adminUsername, password: server.adminPassword)
        defer { redis.close() }
        XCTAssertThrowsError(try redis.command(["ACL", "SETUSER", "client-bad", "on", ">secret-pw", "foo"])) { error in
            let e = error as! RedisError
            XCTAssertEqual(e.kind, .server)
            XCTAssertEqual(e.code, "ERR")
            XCTAssertEqual(e.message, "Redis at 127.0.0.1:\(server.port) rejected ACL SETUSER: ERR Error in ACL SETUSER modifier 'foo': Syntax error")
        }
        // The connection is still usable after an error reply.
        XCTAssertEqual(try redis.command(["ACL", "SETUSER", "client-ro", "on", ">ro-pw", "~*", "+@read"]), .simpleString("OK"))
        defer { _ = try? redis.command(["ACL", "DELUSER", "client-ro"]) }

        let readOnly = try RedisConnection.connect(host: server.host, port: server.port, username: "client-ro", password: "ro-pw")
        defer { readOnly.close() }
        XCTAssertThrowsError(try readOnly.command(["SET", "k", "v"])) { error in
            let e = error as! RedisError
            XCTAssertEqual(e.kind, .permission)
            XCTAssertEqual(e.message, "user \"client-ro\" is not allowed to run SET on Redis at 127.0.0.1:\(server.port): NOPERM this user has no permissions to run the 'set' command")
        }
    }

    func testRefusedPortFailsAtOnceNamingHostAndPort() throws {
        let port = try SilentListener.unusedPort()
        let start = Date()
        XCTAssertThrowsError(try RedisConnection(host: "127.0.0.1", port: port, connectTimeout: 3)) { error in
            let e = error as! RedisError
            XCTAssertEqual(e.kind, .connection)
            XCTAssertEqual(e.message, "could not connect to Redis at 127.0.0.1:\(port): Connection refused")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    }

    func testHungServerTimesOutNamingHostAndPort() throws {
        let listener = try SilentListener()
        let start = Date()
        XCTAssertThrowsError(try RedisConnection.connect(host: "127.0.0.1", port: listener.port, username: "u",
                                                         password: "p", connectTimeout: 0.5)) { error in
            let e = error as! RedisError
            XCTAssertEqual(e.kind, .timeout)
            XCTAssertEqual(e.message, "timed out after 0.5s waiting for a reply from Redis at 127.0.0.1:\(listener.port)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }

    func testUnansweredConnectTimesOutNamingHostAndPort() throws {
        let listener = try SilentListener(backlog: 0)
        let first = try RedisConnection(host: "127.0.0.1", port: listener.port, connectTimeout: 1)
        defer { first.close() }
        let start = Date()
        XCTAssertThrowsError(try RedisConnection(host: "127.0.0.1", port: listener.port, connectTimeout: 0.5)) { error in
            let e = error as! RedisError
            XCTAssertEqual(e.kind, .timeout)
            XCTAssertEqual(e.message, "timed out after 0.5s connecting to Redis at 127.0.0.1:\(listener.port)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }

    func testUnknownHostIsAConnectionError() {
        XCTAssertThrowsError(try RedisConnection(host: "no-such-host.invalid", port: 6379, connectTimeout: 2)) { error in
            XCTAssertTrue((error as! RedisError).message.hasPrefix("could not resolve Redis host no-such-host.invalid"), "\(error)")
        }
    }
}
