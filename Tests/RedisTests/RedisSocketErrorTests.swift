import DBPlugin
import Foundation
import TestSupport
import XCTest
@testable import RedisPlugin

/// How socket failures read in the Redis plugin: every one names the server, and a timeout says
/// what was being waited for and for how long.
final class RedisSocketErrorTests: XCTestCase {
    func testEverySocketFailureIsWordedForRedis() {
        let at = "127.0.0.1:6390"
        let cases: [(SocketError, RedisError.Kind, String)] = [
            (SocketError(.resolve, .connect, address: "nowhere.invalid:6390", reason: "Name or service not known"),
             .connection, "could not resolve Redis host nowhere.invalid (nowhere.invalid:6390): Name or service not known"),
            (SocketError(.connect, .connect, address: at, reason: "Connection refused"),
             .connection, "could not connect to Redis at \(at): Connection refused"),
            (SocketError(.timeout, .connect, address: at), .timeout, "timed out after 0.25s connecting to Redis at \(at)"),
            (SocketError(.timeout, .write, address: at), .timeout, "timed out after 0.25s sending to Redis at \(at)"),
            (SocketError(.timeout, .read, address: at), .timeout, "timed out after 0.25s waiting for a reply from Redis at \(at)"),
            (SocketError(.closed, .read, address: at, byPeer: true), .connection, "Redis at \(at) closed the connection"),
            (SocketError(.closed, .write, address: at), .connection, "connection to Redis at \(at) is closed"),
            (SocketError(.io, .write, address: at, reason: "Broken pipe"), .connection, "lost the connection to Redis at \(at): Broken pipe"),
        ]
        for (socketError, kind, message) in cases {
            let error = RedisError(socketError, host: socketError.address.components(separatedBy: ":")[0], timeout: 0.25)
            XCTAssertEqual(error.kind, kind, message)
            XCTAssertEqual(error.message, message)
        }
    }

    func testACommandAfterATimeoutSaysTheConnectionIsClosed() throws {
        let listener = try SilentListener()
        let redis = try RedisConnection(host: "127.0.0.1", port: listener.port, connectTimeout: 1)
        XCTAssertThrowsError(try redis.command(["PING"], timeout: 0.2)) { error in
            XCTAssertEqual((error as? RedisError)?.message,
                           "timed out after 0.2s waiting for a reply from Redis at 127.0.0.1:\(listener.port)")
        }
        XCTAssertFalse(redis.isOpen)
        XCTAssertThrowsError(try redis.command(["PING"])) { error in
            XCTAssertEqual((error as? RedisError)?.message, "connection to Redis at 127.0.0.1:\(listener.port) is closed")
        }
    }

    func testTimeoutsReadAsWholeSecondsOrMilliseconds() {
        XCTAssertEqual(formatSeconds(5), "5s")
        XCTAssertEqual(formatSeconds(0.5), "0.5s")
        XCTAssertEqual(formatSeconds(0.25), "0.25s")
        XCTAssertEqual(formatSeconds(0.1 + 0.2), "0.3s")
        XCTAssertEqual(formatSeconds(1.9999), "2s")
    }
}
