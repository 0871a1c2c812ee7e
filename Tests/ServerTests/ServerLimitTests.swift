import DBPlugin
import Engine
import Foundation
@testable import Server
import TestSupport
import TLS
import XCTest

/// Clients that are slow, large, many, or gone half-way cost the server a bounded amount and
/// never the other clients; a stop lets the request in flight finish.
final class ServerLimitTests: XCTestCase {
    func testOversizedBodiesAreRefusedBeforeTheyAreRead() throws {
        var limits = ServerLimits()
        limits.maximumRequestBytes = 1000
        let server = try InProcessServer(limits: limits)
        let client = try server.connect()
        defer { client.close() }
        try client.write("PUT /v1/database/roles/r HTTP/1.1\r\nX-Vault-Token: \(server.token)\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n")
        let refused = try client.readResponse()
        XCTAssertEqual(refused.status, 413, "answered at once, without a 100 Continue")
        XCTAssertEqual(refused.errors, ["http: request body too large"])
        XCTAssertTrue(client.isClosedByServer(within: 2))

        let chunked = try server.connect()
        defer { chunked.close() }
        try chunked.write("PUT /v1/database/roles/r HTTP/1.1\r\nX-Vault-Token: \(server.token)\r\nTransfer-Encoding: chunked\r\n\r\n")
        try chunked.write("200\r\n" + String(repeating: " ", count: 512) + "\r\n200\r\n" + String(repeating: " ", count: 512) + "\r\n")
        XCTAssertEqual(try chunked.readResponse().status, 413)
        XCTAssertEqual(try server.request("LIST", "/v1/database/roles").status, 404, "nothing was written")
        XCTAssertEqual(try server.request("PUT", "/v1/database/roles/r", body: "{\"db_name\": \"x\"}" + String(repeating: " ", count: 900)).status, 204)
    }

    func testSlowHeadersAndSlowBodiesLoseTheirConnectionWhileOthersAreServed() throws {
        var limits = ServerLimits()
        limits.headerTimeout = 0.4
        limits.readTimeout = 0.8
        let server = try InProcessServer(limits: limits)
        let slowHeaders = try server.connect(), slowBody = try server.connect()
        defer { slowHeaders.close(); slowBody.close() }
        try slowHeaders.write("GET /v1/sys/health HTTP/1.1\r\nHost: 127")
        try slowBody.write("PUT /v1/database/roles/r HTTP/1.1\r\nX-Vault-Token: \(server.token)\r\nContent-Length: 50\r\n\r\n{\"db_name\"")
        let started = Date()
        XCTAssertEqual(try server.request("GET", "/v1/sys/health").status, 200, "served while the others dawdle")
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.3)
        XCTAssertTrue(slowHeaders.isClosedByServer(within: 3))
        let headersClosed = Date().timeIntervalSince(started)
        XCTAssertTrue(slowBody.isClosedByServer(within: 3))
        let bodyClosed = Date().timeIntervalSince(started)
        XCTAssertGreaterThan(headersClosed, 0.3)
        XCTAssertLessThan(headersClosed, 1.5)
        XCTAssertGreaterThan(bodyClosed, 0.7)
        XCTAssertLessThan(bodyClosed, 2)
        XCTAssertEqual(try server.request("GET", "/v1/database/roles/r").status, 404, "the half body wrote nothing")
        XCTAssertTrue(server.logs { $0.contains("connection closed: timed out reading the headers") }, "\(server.log)")
    }

    func testAnIdleConnectionIsClosedAfterTheIdleTimeout() throws {
        var limits = ServerLimits()
        limits.idleTimeout = 0.3
        let server = try InProcessServer(limits: limits)
        let client = try server.connect()
        defer { client.close() }
        XCTAssertEqual(try client.send("GET", "/v1/sys/health", token: nil).status, 200)
        XCTAssertTrue(client.isClosedByServer(within: 3))
    }

    func testConnectionsBeyondTheLimitAreAnswered503AndTheLimitFreesUp() throws {
        var limits = ServerLimits()
        limits.maximumConnections = 3
        let server = try InProcessServer(limits: limits)
        var held = try (0..<3).map { _ in try server.connect() }
        XCTAssertEqual(try held[0].send("GET", "/v1/sys/health", token: nil).status, 200)
        usleep(100_000)
        let extra = try server.connect()
        defer { extra.close() }
        let refused = try extra.readResponse()
        XCTAssertEqual(refused.status, 503)
        XCTAssertEqual(refused.errors, ["too many connections: the server serves at most 3 at once"])
        XCTAssertTrue(extra.isClosedByServer(within: 2))
        held.removeLast().close()
        let deadline = Date().addingTimeInterval(3)
        var status = 0
        while Date() < deadline && status != 200 {
            status = (try? server.request("GET", "/v1/sys/health"))?.status ?? 0
            if status != 200 { usleep(50_000) }
        }
        XCTAssertEqual(status, 200, "a freed connection is available again")
        held.forEach { $0.close() }
    }

    /// A client killed half-way through its body: its request is not run, and the next one is.
    func testARequestKilledHalfWayChangesNothing() throws {
        let server = try InProcessServer()
        let body = "{\"plugin_name\": \"fake-database-plugin\", \"connection_url\": \"fake://db\", \"username\": \"admin\", \"password\": \"root-secret\"}"
        let client = try server.connect()
        try client.write("PUT /v1/database/config/db HTTP/1.1\r\nX-Vault-Token: \(server.token)\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
                         + body.prefix(40))
        usleep(50_000)
        client.close()
        XCTAssertTrue(server.logs { $0.contains("connection closed") }, "\(server.log)")
        XCTAssertEqual(try server.request("GET", "/v1/database/config/db").status, 404)
        XCTAssertEqual(try server.request("PUT", "/v1/database/config/db", body: body).status, 204)
        XCTAssertFalse(server.database.calls.isEmpty)
    }

    /// A stop while a request waits on its database: the request finishes and is answered (with
    /// `Connection: close`), new connections are refused, and the server returns.
    func testAStopDrainsTheRequestInFlight() throws {
        let server = try InProcessServer()
        XCTAssertEqual(try server.request("POST", "/v1/database/config/db", body: """
            {"plugin_name": "fake-database-plugin", "connection_url": "fake://db", "username": "admin", "password": "root-secret", "allowed_roles": "*"}
            """).status, 204)
        XCTAssertEqual(try server.request("POST", "/v1/database/roles/ro", body: "{\"db_name\": \"db\"}").status, 204)
        let inside = DispatchSemaphore(value: 0)
        server.database.duringNextInitialize = {
            inside.signal()
            usleep(600_000)
        }
        let client = try server.connect()
        defer { client.close() }
        try client.write("GET /v1/database/creds/ro HTTP/1.1\r\nX-Vault-Token: \(server.token)\r\n\r\n")
        XCTAssertEqual(inside.wait(timeout: .now() + 5), .success)
        let stopped = DispatchSemaphore(value: 0)
        let stopper = Thread {
            server.stop()
            stopped.signal()
        }
        stopper.start()
        let answer = try client.readResponse()
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(answer.headers["connection"], "close")
        XCTAssertNotNil(answer.data?["username"])
        XCTAssertEqual(stopped.wait(timeout: .now() + 5), .success)
        XCTAssertThrowsError(try server.connect(), "the listener is closed")
        XCTAssertEqual(StopRequest.flag, 0, "the drain did not need to cut database waits short")
    }

    func testHTTPSWithTheTLSLayer() throws {
        let env = ProcessInfo.processInfo.environment
        guard let certificate = env["DBSECRETS_TEST_TLS_SERVER_CERT"], let key = env["DBSECRETS_TEST_TLS_SERVER_KEY"],
              let ca = env["DBSECRETS_TEST_TLS_CA"] else {
            throw TestRequirement.missing("DBSECRETS_TEST_TLS_* are not set: run scripts/with-test-servers")
        }
        let context = try TLSServerContext(certificatePEM: Array(try Data(contentsOf: URL(fileURLWithPath: certificate))),
                                           keyPEM: Array(try Data(contentsOf: URL(fileURLWithPath: key))))
        let server = try InProcessServer(tls: TLSServerContextBox(context: context))
        let socket = try BlockingSocket.connect(host: "127.0.0.1", port: server.port, timeout: 2)
        let session = try TLSStream.handshake(
            over: socket, TLSConfiguration(verification: .chainAndHost, trustRoots: .pem(Array(try Data(contentsOf: URL(fileURLWithPath: ca)))),
                                           serverName: "127.0.0.1"),
            deadline: Date().addingTimeInterval(5))
        XCTAssertTrue(["TLSv1.2", "TLSv1.3"].contains(session.protocolVersion))
        let client = HTTPTestClient(session)
        defer { client.close() }
        XCTAssertEqual(try client.send("GET", "/v1/sys/health", token: nil).status, 200)
        XCTAssertEqual(try client.send("GET", "/v1/auth/token/lookup-self", token: server.token).status, 200)

        let plain = try server.connect()
        defer { plain.close() }
        try plain.write("GET /v1/sys/health HTTP/1.1\r\n\r\n")
        XCTAssertTrue(plain.isClosedByServer(within: 12))
        XCTAssertTrue(server.logs { $0.contains("TLS handshake failed") }, "\(server.log)")
    }
}
