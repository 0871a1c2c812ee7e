import Foundation
import TestSupport
import XCTest

/// `dbsecrets server` as an operator runs it: beside the CLI on one state folder, stopped by
/// SIGTERM mid-request, with its token from each source, over HTTPS, doing due work alone.
final class ServerBinaryTests: XCTestCase {
    var postgres: PostgresTestServer!

    override func setUpWithError() throws {
        postgres = try PostgresTestServer.fromEnvironment()
    }

    /// A connection to the test PostgreSQL and a role `ro` (with `statements` to create its users).
    func configure(_ server: ServerProcess, ttl: String = "1h", statements: String? = nil, role: String = "ro") throws {
        let url = "postgresql://{{username}}:{{password}}@\(postgres.host):\(postgres.port)/\(postgres.database)?sslmode=disable"
        XCTAssertEqual(try server.call("POST", "database/config/pg", json: """
            {"plugin_name": "postgresql-database-plugin", "connection_url": "\(url)", "username": "\(postgres.user)",
             "password": "\(postgres.password)", "allowed_roles": "*"}
            """).status, 204)
        let creation = statements ?? "CREATE ROLE \\\"{{name}}\\\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"
        XCTAssertEqual(try server.call("POST", "database/roles/\(role)", json: """
            {"db_name": "pg", "default_ttl": "\(ttl)", "max_ttl": "24h", "creation_statements": ["\(creation)"]}
            """).status, 204)
    }

    func logsIn(_ user: String, _ password: String) throws -> Bool {
        try postgres.psql(user: user, password: password, "SELECT 1").output == "1"
    }

    func leaseIDs(_ server: ServerProcess) throws -> [String] {
        let listed = try server.cli(["lease", "list", "-format=json"])
        let items = (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))) as? [[String: Any]] ?? []
        return items.compactMap { $0["id"] as? String }
    }

    /// A lease made by the CLI is renewed and revoked through the server, and one made through
    /// the server by the CLI; then both make and revoke leases at once, and nothing is lost.
    func testTheCLIAndTheServerOnOneStateAtTheSameTime() throws {
        let server = try ServerProcess("dbsecrets-server-cli")
        // A role name of its own, so that the users it makes are told apart from other tests' on
        // the shared server (the default username template keeps 8 characters of it).
        let role = "b" + String(UUID().uuidString.lowercased().filter(\.isLetter).prefix(7))
        try configure(server, role: role)
        let made = try server.cli(["read", "-format=json", "database/creds/\(role)"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let creds = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(made.stdout.utf8))) as? [String: Any])
        let lease = try XCTUnwrap(creds["lease_id"] as? String)
        let data = try XCTUnwrap(creds["data"] as? [String: Any])
        let user = try XCTUnwrap(data["username"] as? String), password = try XCTUnwrap(data["password"] as? String)
        XCTAssertEqual(try server.call("PUT", "sys/leases/renew", json: "{\"lease_id\": \"\(lease)\", \"increment\": \"2h\"}").json?["lease_duration"] as? Int, 7200)
        XCTAssertTrue(try logsIn(user, password))
        XCTAssertEqual(try server.call("PUT", "sys/leases/revoke/\(lease)").status, 204)
        XCTAssertFalse(try logsIn(user, password), "revoked through the server")

        let served = try server.call("GET", "database/creds/\(role)")
        let servedLease = try XCTUnwrap(served.json?["lease_id"] as? String)
        let renewed = try server.cli(["lease", "renew", "-format=json", "-increment=3h", servedLease])
        XCTAssertTrue(renewed.stdout.contains("\"lease_duration\": 10800"), renewed.stdout + renewed.stderr)
        XCTAssertEqual(try server.cli(["lease", "revoke", servedLease]).status, 0)
        XCTAssertFalse(try logsIn(try XCTUnwrap(served.data?["username"] as? String), try XCTUnwrap(served.data?["password"] as? String)))

        // Both at once: three threads through the server, three through the CLI.
        let failures = LogBox()
        let group = DispatchGroup()
        for worker in 0..<6 {
            group.enter()
            Thread {
                defer { group.leave() }
                for _ in 0..<3 {
                    do {
                        if worker % 2 == 0 {
                            let answer = try server.call("GET", "database/creds/\(role)")
                            guard answer.status == 200, let id = answer.json?["lease_id"] as? String else { throw NSError(domain: answer.body, code: answer.status) }
                            let revoked = try server.call("PUT", "sys/leases/revoke", json: "{\"lease_id\": \"\(id)\"}")
                            guard revoked.status == 204 else { throw NSError(domain: revoked.body, code: revoked.status) }
                        } else {
                            let read = try server.cli(["read", "-field=lease_id", "database/creds/\(role)"])
                            guard read.status == 0 else { throw NSError(domain: read.stderr, code: Int(read.status)) }
                            let revoked = try server.cli(["lease", "revoke", read.stdout])
                            guard revoked.status == 0 else { throw NSError(domain: revoked.stderr, code: Int(revoked.status)) }
                        }
                    } catch {
                        failures.append("worker \(worker): \(error)")
                    }
                }
            }.start()
        }
        XCTAssertEqual(group.wait(timeout: .now() + 120), .success)
        XCTAssertEqual(failures.lines, [])
        XCTAssertEqual(try leaseIDs(server), [], "every lease revoked")
        let left = try postgres.psql(user: postgres.user, password: postgres.password,
                                     "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'v-%-\(role)-%' AND rolvaliduntil > now()")
        XCTAssertEqual(left.output, "0", "a user outlived its lease")
        let intents = (try? FileManager.default.contentsOfDirectory(atPath: server.state.appendingPathComponent("intents").path)) ?? []
        XCTAssertEqual(intents, [])
        XCTAssertEqual(server.stop(), 0)
    }

    /// SIGTERM while a request waits on its database: the answer still comes, then the server exits 0.
    func testSIGTERMDrainsARequestInFlight() throws {
        let server = try ServerProcess("dbsecrets-server-drain")
        try configure(server, statements: "SELECT pg_sleep(1.5); CREATE ROLE \\\"{{name}}\\\" WITH LOGIN PASSWORD '{{password}}';")
        let answer = LogBox()
        let done = DispatchSemaphore(value: 0)
        Thread {
            let result = try? server.call("GET", "database/creds/ro")
            answer.append("\(result?.status ?? 0)")
            done.signal()
        }.start()
        usleep(600_000)
        let signalled = Date()
        kill(server.process.processIdentifier, SIGTERM)
        XCTAssertEqual(done.wait(timeout: .now() + 20), .success)
        XCTAssertEqual(answer.lines, ["200"], "the request in flight was answered")
        let deadline = Date().addingTimeInterval(10)
        while server.process.isRunning && Date() < deadline { usleep(20_000) }
        XCTAssertFalse(server.process.isRunning)
        XCTAssertEqual(server.process.terminationStatus, 0)
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 5)
        XCTAssertTrue(server.log.contains("dbsecrets server stopped"), server.log)
        XCTAssertEqual(try leaseIDs(server).count, 1, "its lease was kept")
        _ = try server.cli(["lease", "revoke", "-prefix", "database/creds/ro"])
    }

    /// The due work runs inside: a short lease is revoked by the server alone.
    func testTheServerRevokesExpiredLeasesOnItsOwn() throws {
        let server = try ServerProcess("dbsecrets-server-due", arguments: ["-interval=1s"])
        try configure(server, ttl: "2s")
        let creds = try server.call("GET", "database/creds/ro")
        let user = try XCTUnwrap(creds.data?["username"] as? String), password = try XCTUnwrap(creds.data?["password"] as? String)
        let deadline = Date().addingTimeInterval(20)
        while try !leaseIDs(server).isEmpty && Date() < deadline { usleep(200_000) }
        XCTAssertEqual(try leaseIDs(server), [])
        XCTAssertFalse(try logsIn(user, password))
        XCTAssertTrue(server.log.contains("lease revoked: database/creds/ro/"), server.log)
        XCTAssertEqual(server.stop(), 0)
    }

    /// `-on-rotate` runs after a rotation the server's own pass made, with the rotated path and
    /// kind and never the password, as under `agent`.
    func testTheServerRunsTheRotationHook() throws {
        let folder = TemporaryFolder("dbsecrets-server-hook")
        defer { folder.remove() }
        let log = folder.url.appendingPathComponent("hook.log")
        let hook = folder.url.appendingPathComponent("hook.sh")
        try "#!/bin/sh\necho \"$DBSECRETS_ROTATED_KIND $DBSECRETS_ROTATED_PATH\" >>\(log.path)\n".write(to: hook, atomically: true, encoding: .utf8)
        chmod(hook.path, 0o700)
        let user = "srv_hook_" + String(UUID().uuidString.lowercased().filter(\.isLetter).prefix(6))
        XCTAssertEqual(try postgres.psql(user: postgres.user, password: postgres.password, "CREATE ROLE \(user) LOGIN PASSWORD 'initial'").status, 0)
        defer { _ = try? postgres.psql(user: postgres.user, password: postgres.password, "DROP ROLE IF EXISTS \(user)") }
        let server = try ServerProcess("dbsecrets-server-hook", arguments: ["-interval=1s", "-on-rotate=\(hook.path)"], folder: folder)
        try configure(server)
        XCTAssertEqual(try server.call("POST", "database/static-roles/hooked", json: """
            {"db_name": "pg", "username": "\(user)", "rotation_period": "5s"}
            """).status, 204)
        let deadline = Date().addingTimeInterval(20)
        var lines: [String] = []
        while Date() < deadline {
            lines = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            if !lines.isEmpty { break }
            usleep(200_000)
        }
        XCTAssertEqual(lines.first, "static-role database/static-roles/hooked", server.log)
        let password = try XCTUnwrap(try server.call("GET", "database/static-creds/hooked").data?["password"] as? String)
        XCTAssertFalse(server.log.contains(password), "no password in the server's output")
        XCTAssertEqual(server.stop(), 0)
    }

    func testTheTokenComesFromTheStateFolderAFileOrTheEnvironment() throws {
        let first = try ServerProcess("dbsecrets-server-token")
        let stored = first.token
        XCTAssertTrue(stored.hasPrefix("hvs.") && stored.count == 28, stored)
        let attributes = try FileManager.default.attributesOfItem(atPath: first.state.appendingPathComponent("server-token").path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        XCTAssertFalse(first.log.contains(stored), "the token is never printed")
        XCTAssertEqual(first.stop(), 0)
        let again = try ServerProcess("dbsecrets-server-token", folder: first.folder)
        XCTAssertEqual(again.token, stored, "the same token after a restart")
        XCTAssertEqual(try again.call("GET", "auth/token/lookup-self").status, 200)
        XCTAssertEqual(again.stop(), 0)

        let file = first.folder.url.appendingPathComponent("token")
        try "from-a-file-123\n".write(to: file, atomically: true, encoding: .utf8)
        let fromFile = try ServerProcess("dbsecrets-server-token", arguments: ["-token-file=\(file.path)"], folder: first.folder)
        XCTAssertEqual(try fromFile.curl(["-H", "X-Vault-Token: from-a-file-123", "http://127.0.0.1:8200/v1/auth/token/lookup-self"]).status, 200)
        XCTAssertEqual(try fromFile.curl(["-H", "X-Vault-Token: \(stored)", "http://127.0.0.1:8200/v1/auth/token/lookup-self"]).status, 403)
        XCTAssertEqual(fromFile.stop(), 0)
        let fromEnvironment = try ServerProcess("dbsecrets-server-token", environment: ["DBSECRETS_SERVER_TOKEN": "from-the-environment"],
                                                folder: first.folder)
        XCTAssertEqual(try fromEnvironment.curl(["-H", "Authorization: Bearer from-the-environment",
                                                 "http://127.0.0.1:8200/v1/auth/token/lookup-self"]).status, 200)
        XCTAssertFalse(fromEnvironment.log.contains("from-the-environment"))
        XCTAssertEqual(fromEnvironment.stop(), 0)
    }

    func testListeningBeyondLoopbackNeedsTLSOrSayingSo() throws {
        let folder = TemporaryFolder("dbsecrets-server-flags")
        defer { folder.remove() }
        let environment = ["DBSECRETS_STATE_DIR": folder.url.appendingPathComponent("state").path, "PATH": "/usr/bin:/bin", "HOME": folder.path]
        let refused = try ProcessRunner.run(PackageRoot.binary.path, ["server", "-address=0.0.0.0:0"], environment: environment, timeout: 10)
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("0.0.0.0 is not a loopback address"), refused.stderr)
        for (arguments, message) in [(["-tls-cert-file=/nonexistent"], "go together"),
                                     (["-tls-cert-file=/nonexistent", "-tls-key-file=/nonexistent"], "cannot read -tls-cert-file"),
                                     (["-max-connections=0"], "-max-connections"), (["-read-header-timeout=soon"], "-read-header-timeout"),
                                     (["-address=nonsense"], "expected host:port"), (["-address="], "give -address or -unix")] {
            let run = try ProcessRunner.run(PackageRoot.binary.path, ["server"] + arguments, environment: environment, timeout: 10)
            XCTAssertEqual(run.status, 1, "\(arguments)")
            XCTAssertTrue(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        }
        let busy = try ServerProcess("dbsecrets-server-busy")
        let taken = try ProcessRunner.run(PackageRoot.binary.path, ["server", "-address=127.0.0.1:\(busy.port)"], environment: environment, timeout: 10)
        XCTAssertEqual(taken.status, 2)
        XCTAssertTrue(taken.stderr.contains("address already in use"), taken.stderr)
        XCTAssertEqual(busy.stop(), 0)
        let insecure = try ServerProcess("dbsecrets-server-insecure", arguments: ["-address=0.0.0.0:0", "-allow-insecure-remote"])
        XCTAssertEqual(try insecure.curl(["http://127.0.0.1:8200/v1/sys/health"]).status, 200)
        XCTAssertEqual(insecure.stop(), 0)
    }

    func testHTTPSWithCurl() throws {
        let env = ProcessInfo.processInfo.environment
        guard let certificate = env["DBSECRETS_TEST_TLS_SERVER_CERT"], let key = env["DBSECRETS_TEST_TLS_SERVER_KEY"],
              let ca = env["DBSECRETS_TEST_TLS_CA"] else {
            throw TestRequirement.missing("DBSECRETS_TEST_TLS_* are not set: run scripts/with-test-servers")
        }
        let server = try ServerProcess("dbsecrets-server-https", arguments: ["-tls-cert-file=\(certificate)", "-tls-key-file=\(key)"])
        XCTAssertTrue(server.log.contains("on https://127.0.0.1:"), server.log)
        let url = "https://127.0.0.1:\(server.port)/v1/auth/token/lookup-self"
        XCTAssertEqual(try server.curl(["--cacert", ca, "-H", "X-Vault-Token: \(server.token)", url]).status, 200)
        XCTAssertNotEqual(try server.curl(["-H", "X-Vault-Token: \(server.token)", url]).status, 200, "an unknown CA is refused by curl")
        XCTAssertEqual(server.stop(), 0)
    }
}
