import DBPlugin
import XCTest
@testable import PostgresPlugin

/// How socket failures read in the Postgres client: a failed connect is "failed to connect to …",
/// a read timeout says what it waited for.
final class PostgresSocketErrorTests: XCTestCase {
    func testEverySocketFailureIsWordedForPostgres() {
        let at = "127.0.0.1:5433"
        let cases: [(SocketError, PostgresClientError.Kind, String)] = [
            (SocketError(.resolve, .connect, address: "nowhere.invalid:5432", reason: "Name or service not known"),
             .connect, "failed to connect to nowhere.invalid:5432: cannot resolve host: Name or service not known"),
            (SocketError(.connect, .connect, address: at, reason: "Connection refused"),
             .connect, "failed to connect to \(at): Connection refused"),
            (SocketError(.timeout, .connect, address: at), .connect, "failed to connect to \(at): timed out after 2s"),
            (SocketError(.timeout, .write, address: at), .timeout, "timed out writing to \(at)"),
            (SocketError(.timeout, .read, address: at), .timeout, "timed out after 2s waiting for \(at) to answer a query"),
            (SocketError(.closed, .read, address: at, byPeer: true), .io, "server at \(at) closed the connection"),
            (SocketError(.closed, .write, address: at), .io, "connection to \(at) is closed"),
            (SocketError(.io, .write, address: at, reason: "Broken pipe"), .io, "failed writing to \(at): Broken pipe"),
            (SocketError(.io, .read, address: at, reason: "Connection reset by peer"),
             .io, "failed reading from \(at): Connection reset by peer"),
        ]
        for (socketError, kind, message) in cases {
            let error = PostgresClientError(socketError, timeout: 2, awaiting: "a query")
            XCTAssertEqual(error.kind, kind, message)
            XCTAssertEqual(error.message, message)
        }
    }
}
