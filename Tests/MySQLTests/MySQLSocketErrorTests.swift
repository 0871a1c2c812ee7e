import DBPlugin
import XCTest
@testable import MySQLPlugin

/// How socket failures read in the MySQL plugin: all are connection errors naming the server.
final class MySQLSocketErrorTests: XCTestCase {
    func testEverySocketFailureIsWordedForMySQL() {
        let at = "127.0.0.1:3307"
        let cases: [(SocketError, String)] = [
            (SocketError(.resolve, .connect, address: "nowhere.invalid:3306", reason: "Name or service not known"),
             "could not resolve nowhere.invalid:3306: Name or service not known"),
            (SocketError(.connect, .connect, address: at, reason: "Connection refused"), "could not connect to \(at): Connection refused"),
            (SocketError(.connect, .connect, address: "/tmp/x.sock", reason: "socket path is too long"),
             "could not connect to /tmp/x.sock: socket path is too long"),
            (SocketError(.timeout, .connect, address: at), "timed out after 1.5s connecting to \(at)"),
            (SocketError(.timeout, .write, address: at), "timed out after 1.5s writing to \(at)"),
            (SocketError(.timeout, .read, address: at), "timed out after 1.5s waiting for \(at) to answer"),
            (SocketError(.closed, .read, address: at, byPeer: true), "\(at) closed the connection"),
            (SocketError(.closed, .write, address: at), "connection to \(at) is closed"),
            (SocketError(.io, .write, address: at, reason: "Broken pipe"), "could not write to \(at): Broken pipe"),
            (SocketError(.io, .read, address: at, reason: "Connection reset by peer"),
             "could not read from \(at): Connection reset by peer"),
        ]
        for (socketError, message) in cases {
            let error = MySQLError(socketError, timeout: 1.5)
            XCTAssertEqual(error.kind, .connection, message)
            XCTAssertEqual(error.description, message)
        }
    }
}
