import DBPlugin
import Engine
import Foundation
@testable import Server
import TestSupport
import XCTest

/// Vault's API as the server answers it, over a real loopback connection, with a fake database
/// behind the engine: statuses, envelopes and error bodies as Vault's HTTP layer writes them.
final class ServerAPITests: XCTestCase {
    func configure(_ server: InProcessServer) throws {
        XCTAssertEqual(try server.request("POST", "/v1/database/config/db", body: """
            {"plugin_name": "fake-database-plugin", "connection_url": "fake://{{username}}:{{password}}@db",
             "username": "admin", "password": "root-secret", "allowed_roles": "*"}
            """).status, 204)
        XCTAssertEqual(try server.request("POST", "/v1/database/roles/ro", body: """
            {"db_name": "db", "creation_statements": ["CREATE"], "default_ttl": "1h", "max_ttl": "2h"}
            """).status, 204)
    }

    func testEveryRequestButHealthAndSealStatusNeedsTheTokenExactly() throws {
        let server = try InProcessServer()
        for token in [nil, "", "wrong", server.token + "x", String(server.token.dropLast()), server.token.uppercased()] as [String?] {
            let response = try server.request("GET", "/v1/database/roles?list=true", token: token ?? "")
            XCTAssertEqual(response.status, 403, "\(token ?? "nil")")
            XCTAssertEqual(response.body, "{\"errors\":[\"permission denied\"]}\n")
        }
        let client = try server.connect()
        defer { client.close() }
        XCTAssertEqual(try client.send("GET", "/v1/auth/token/lookup-self", token: nil, headers: ["Authorization: Bearer \(server.token)"]).status, 200)
        XCTAssertEqual(try client.send("GET", "/v1/auth/token/lookup-self", token: server.token).status, 200)
        XCTAssertEqual(try client.send("GET", "/v1/sys/health", token: nil).status, 200)
        let seal = try client.send("GET", "/v1/sys/seal-status", token: nil)
        XCTAssertEqual(seal.json?["sealed"] as? Bool, false)
        XCTAssertEqual(seal.json?["version"] as? String, "1.19.0+dbsecrets.0.0.0")
        XCTAssertEqual(try client.send("POST", "/v1/sys/seal-status", token: nil).status, 405)
        XCTAssertTrue(server.logs { $0.contains("GET /v1/sys/seal-status 200") })
        XCTAssertFalse(server.log.joined().contains(server.token), "the access log shows the token")
    }

    func testStatusesAndBodiesAreVaults() throws {
        let server = try InProcessServer()
        XCTAssertEqual(try server.request("LIST", "/v1/database/roles").body, "{\"errors\":[]}\n", "an empty list is a 404")
        XCTAssertEqual(try server.request("GET", "/v1/database/roles/ro").status, 404)
        try configure(server)

        let read = try server.request("GET", "/v1/database/roles/ro")
        XCTAssertEqual(read.status, 200)
        XCTAssertEqual(read.headers["content-type"], "application/json")
        XCTAssertEqual(read.headers["cache-control"], "no-store")
        XCTAssertTrue(read.body.hasPrefix("{\"request_id\":\""), read.body)
        XCTAssertTrue(read.body.hasSuffix(",\"wrap_info\":null,\"warnings\":null,\"auth\":null,\"mount_type\":\"database\"}\n"), read.body)
        XCTAssertEqual(read.data?["default_ttl"] as? Int, 3600)
        XCTAssertEqual(read.json?["lease_id"] as? String, "")

        for request in [("LIST", "/v1/database/roles"), ("GET", "/v1/database/roles?list=true"), ("GET", "/v1/database/roles/?list=1")] {
            XCTAssertEqual(try server.request(request.0, request.1).data?["keys"] as? [String], ["ro"], "\(request)")
        }
        XCTAssertEqual(try server.request("GET", "/v1/database/roles?list=maybe").status, 400)
        XCTAssertEqual(try server.request("LIST", "/v1/database/roles/ro").status, 404, "the folder roles/ro/ holds nothing")

        let unsupported = try server.request("GET", "/v1/database/rotate-role/ro")
        XCTAssertEqual(unsupported.status, 405)
        XCTAssertEqual(unsupported.errors, ["1 error occurred:\n\t* unsupported operation\n\n"])
        XCTAssertEqual(try server.request("PATCH", "/v1/database/roles/ro", body: "{}").status, 405)
        let unknown = try server.request("GET", "/v1/database/nothing/here")
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(unknown.errors, ["no handler for route \"database/nothing/here\". route entry not found."])
        XCTAssertEqual(try server.request("GET", "/ui/").status, 404)

        let invalid = try server.request("POST", "/v1/database/roles/bad", body: "{\"db_name\": \"db\", \"default_ttl\": \"soon\"}")
        XCTAssertEqual(invalid.status, 400)
        XCTAssertEqual(invalid.errors?.count, 1)
        XCTAssertFalse(invalid.errors?.first?.hasPrefix("1 error occurred") ?? true)
        XCTAssertEqual(try server.request("GET", "/v1/database/creds/nope").errors, ["unknown role: nope"])

        server.database.failures["newUser"] = 1
        let failed = try server.request("GET", "/v1/database/creds/ro")
        XCTAssertEqual(failed.status, 500)
        XCTAssertEqual(failed.errors, ["1 error occurred:\n\t* forced error\n\n"])

        let warned = try server.request("PUT", "/v1/database/roles/ro", body: "{\"default_tll\": \"1h\"}")
        XCTAssertEqual(warned.status, 200, "warnings alone are an envelope")
        XCTAssertEqual(warned.json?["warnings"] as? [String], ["Endpoint ignored these unrecognized parameters: [default_tll]"])
        XCTAssertTrue(warned.json?["data"] is NSNull)

        XCTAssertEqual(try server.request("DELETE", "/v1/database/roles/other").status, 204)
        XCTAssertEqual(try server.request("GET", "/v1/sys/leases/count?type=irrevocable").status == 500, false)
    }

    func testBodiesJSONFormsAndNothing() throws {
        let server = try InProcessServer()
        try configure(server)
        for bad in ["{", "[1]", "\"text\"", "{\"a\":}", String(repeating: "[", count: 600) + String(repeating: "]", count: 600)] {
            let response = try server.request("PUT", "/v1/database/roles/x", body: bad)
            XCTAssertEqual(response.status, 400, bad)
            XCTAssertTrue(response.errors?.first?.hasPrefix("failed to decode JSON input: ") ?? false, "\(response.errors ?? [])")
        }
        let form = try server.request("PUT", "/v1/database/roles/formed", body: "db_name=db&default_ttl=30m",
                                      headers: ["Content-Type: application/x-www-form-urlencoded"])
        XCTAssertEqual(form.status, 204)
        XCTAssertEqual(try server.request("GET", "/v1/database/roles/formed").data?["default_ttl"] as? Int, 1800)
        // curl --data @payload.json says form-urlencoded; a body that starts like JSON is JSON.
        let curlLike = try server.request("PUT", "/v1/database/roles/curled", body: "{\"db_name\": \"db\"}",
                                          headers: ["Content-Type: application/x-www-form-urlencoded"])
        XCTAssertEqual(curlLike.status, 204)
        XCTAssertEqual(try server.request("POST", "/v1/database/rotate-root/db").status, 204, "no body is no data")
        XCTAssertEqual(try server.request("POST", "/v1/database/rotate-root/db", body: "null").status, 204)
        let help = try server.request("GET", "/v1/database/roles/ro?help=1")
        XCTAssertTrue((help.json?["help"] as? String)?.contains("Matching Route") ?? false, help.body)
    }

    func testCredentialsLeasesAndTheTokenPaths() throws {
        let server = try InProcessServer()
        try configure(server)
        let creds = try server.request("GET", "/v1/database/creds/ro")
        XCTAssertEqual(creds.status, 200)
        let lease = try XCTUnwrap(creds.json?["lease_id"] as? String)
        XCTAssertTrue(lease.hasPrefix("database/creds/ro/"))
        XCTAssertEqual(creds.json?["lease_duration"] as? Int, 3600)
        XCTAssertEqual(creds.json?["renewable"] as? Bool, true)
        let username = try XCTUnwrap(creds.data?["username"] as? String)
        XCTAssertEqual(server.database.password(of: username), creds.data?["password"] as? String)

        let lookup = try server.request("PUT", "/v1/sys/leases/lookup", body: "{\"lease_id\": \"\(lease)\"}")
        XCTAssertEqual(lookup.data?["id"] as? String, lease)
        XCTAssertTrue(lookup.body.hasSuffix("\"mount_type\":\"system\"}\n"))
        XCTAssertEqual(try server.request("LIST", "/v1/sys/leases/lookup/database/creds/ro").data?["keys"] as? [String],
                       [String(lease.split(separator: "/").last!)])
        let renewed = try server.request("PUT", "/v1/sys/leases/renew", body: "{\"lease_id\": \"\(lease)\", \"increment\": 1800}")
        XCTAssertEqual(renewed.json?["lease_duration"] as? Int, 1800)
        XCTAssertEqual(try server.request("PUT", "/v1/sys/leases/revoke", body: "{\"lease_id\": \"\(lease)\"}").status, 204)
        XCTAssertNil(server.database.users[username])
        XCTAssertEqual(try server.request("PUT", "/v1/sys/leases/lookup", body: "{\"lease_id\": \"\(lease)\"}").errors, ["invalid lease"])

        let me = try server.request("GET", "/v1/auth/token/lookup-self")
        XCTAssertEqual(me.data?["id"] as? String, server.token)
        XCTAssertEqual(me.data?["policies"] as? [String], ["root"])
        XCTAssertTrue(me.body.hasSuffix("\"mount_type\":\"token\"}\n"))
        let child = try server.request("POST", "/v1/auth/token/create", body: "{\"ttl\": \"20m\", \"policies\": [\"x\"], \"no_parent\": true}")
        XCTAssertEqual(child.status, 200)
        XCTAssertEqual((child.json?["auth"] as? [String: Any])?["client_token"] as? String, server.token)
        XCTAssertEqual((child.json?["warnings"] as? [String])?.count, 1)
    }

    /// A password that reaches an error (the fake database echoes it, as a careless driver
    /// might) is redacted from the body, and never reaches the access log.
    func testErrorBodiesAndTheLogCarryNoSecret() throws {
        let server = try InProcessServer()
        let secret = "Sup3r-Secret-Root-Pw"
        let response = try server.request("POST", "/v1/database/config/db?password=\(secret)", body: """
            {"plugin_name": "fake-database-plugin", "connection_url": "fake://db", "username": "admin", "password": "\(secret)"}
            """)
        XCTAssertEqual(response.status, 400, "a connection that does not verify is Vault's 400: \(response.body)")
        XCTAssertFalse(response.body.contains(secret), response.body)
        XCTAssertTrue(response.body.contains("[password]"), response.body)
        XCTAssertTrue(server.logs { $0.contains("POST /v1/database/config/db 400") }, "\(server.log)")
        XCTAssertFalse(server.log.joined().contains(secret))
    }

    func testKeepAliveAndPipelining() throws {
        let server = try InProcessServer()
        let client = try server.connect()
        defer { client.close() }
        for _ in 0..<3 { XCTAssertEqual(try client.send("GET", "/v1/sys/health", token: nil).status, 200) }
        try client.write("GET /v1/sys/health HTTP/1.1\r\n\r\nGET /v1/database/roles?list=true HTTP/1.1\r\nX-Vault-Token: \(server.token)\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 200)
        XCTAssertEqual(try client.readResponse().status, 404)
        try client.write("GET /v1/sys/health HTTP/1.1\r\nConnection: close\r\n\r\n")
        let last = try client.readResponse()
        XCTAssertEqual(last.headers["connection"], "close")
        XCTAssertTrue(client.isClosedByServer(within: 2))
    }

    func testChunkedBodiesAndExpectContinue() throws {
        let server = try InProcessServer()
        try configure(server)
        let client = try server.connect()
        defer { client.close() }
        try client.write("PUT /v1/database/roles/chunked HTTP/1.1\r\nX-Vault-Token: \(server.token)\r\nTransfer-Encoding: chunked\r\n\r\n"
                         + "5\r\n{\"db_\r\n", )
        try client.write("B\r\nname\":\"db\"}\r\n0\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 204)
        let body = "{\"db_name\": \"db\"}"
        try client.write("PUT /v1/database/roles/expecting HTTP/1.1\r\nX-Vault-Token: \(server.token)\r\nExpect: 100-continue\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 100)
        try client.write(body)
        XCTAssertEqual(try client.readResponse().status, 204)
        XCTAssertEqual(try server.request("LIST", "/v1/database/roles").data?["keys"] as? [String], ["chunked", "expecting", "ro"])
    }

    func testAUnixSocket() throws {
        let folder = TemporaryFolder("dbsecrets-unix")
        defer { folder.remove() }
        let path = folder.url.appendingPathComponent("s").path
        let server = try InProcessServer(unixPath: path, tcp: false)
        var status = stat()
        XCTAssertEqual(stat(path, &status), 0)
        XCTAssertEqual(status.st_mode & 0o777, 0o600)
        let client = HTTPTestClient(try BlockingSocket.connect(unixPath: path, timeout: 2))
        defer { client.close() }
        XCTAssertEqual(try client.send("GET", "/v1/auth/token/lookup-self", token: server.token).status, 200)
        XCTAssertTrue(server.stop())
        XCTAssertNotEqual(stat(path, &status), 0, "the socket file is removed at the end")
    }
}
