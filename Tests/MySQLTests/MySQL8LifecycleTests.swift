import Foundation
import TestSupport
import XCTest

/// The built `dbsecrets` binary against the MySQL 8 double (Tests/servers/mysql8-double, proved
/// with PyMySQL by MySQL8DoubleTests), as an operator drives it: caching_sha2_password's cache is
/// empty after every password change and every restart, and the next login must still work.
/// PyMySQL witnesses the credentials; the double's events say which path each login took.
final class MySQL8LifecycleTests: XCTestCase {
    private let rootPassword = "Root-Passw0rd-\(UUID().uuidString.prefix(8))"
    private var state: TemporaryFolder!

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: PackageRoot.binary.path) else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("the dbsecrets binary is not built") }
            throw XCTSkip("build the binary first (scripts/test does)")
        }
        state = TemporaryFolder("dbsecrets-mysql8-state")
        addTeardownBlock { [state] in state?.remove() }
    }

    private func double(_ extra: [MySQL8Double.Account] = []) throws -> MySQL8Double {
        let double = try MySQL8Double([.init(user: "vault", plugin: "caching_sha2_password", password: rootPassword)] + extra)
        addTeardownBlock { double.stop() }
        return double
    }

    @discardableResult
    private func dbsecrets(_ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:]) throws -> ProcessResult {
        var environment = ["DBSECRETS_STATE_DIR": state.url.appendingPathComponent("state").path, "HOME": state.path,
                           "PATH": "/usr/bin:/bin"]
        environment.merge(extra) { _, new in new }
        return try ProcessRunner.run(PackageRoot.binary.path, arguments, environment: environment, stdin: stdin, timeout: 30)
    }

    private func assertSucceeds(_ arguments: [String], stdin: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try dbsecrets(arguments, stdin: stdin)
        XCTAssertEqual(result.status, 0, "\(arguments.prefix(2)): \(result.stderr)", file: file, line: line)
        return result.stdout
    }

    private func configure(_ double: MySQL8Double, query: String = "", _ fields: [String]) throws -> ProcessResult {
        try dbsecrets(["write", "database/config/my", "plugin_name=mysql-database-plugin",
                       "connection_url={{username}}:{{password}}@tcp(127.0.0.1:\(double.port))/\(query)",
                       "username=vault", "password=-", "allowed_roles=*"] + fields, stdin: rootPassword)
    }

    private func writeRole() throws {
        _ = try assertSucceeds(["write", "database/roles/ro", "db_name=my", "default_ttl=1h", "max_ttl=2h",
                                "creation_statements=CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT SELECT ON *.* TO '{{name}}'@'%';"])
    }

    private func creds() throws -> (user: String, password: String, lease: String) {
        let json = try assertSucceeds(["read", "-format=json", "database/creds/ro"])
        let object = (try JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
        let data = object["data"] as? [String: String] ?? [:]
        return (data["username"] ?? "", data["password"] ?? "", object["lease_id"] as? String ?? "")
    }

    /// The root password as stored in the state folder, and as the double holds it.
    private func storedRootPassword() throws -> String {
        let url = state.url.appendingPathComponent("state/config/my.json")
        let object = (try JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any] ?? [:]
        return (object["connection_details"] as? [String: Any])?["password"] as? String ?? ""
    }

    private func doublePassword(_ double: MySQL8Double, _ user: String) throws -> String? {
        let url = double.state.url.appendingPathComponent("server/accounts.json")
        let rows = (try JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [[Any]] ?? []
        return rows.first { $0.first as? String == user }.flatMap { ($0.last as? [String: String])?["password"] }
    }

    private func vaultLogins(_ events: [String]) -> [String] {
        events.filter { $0.hasPrefix("vault caching_sha2_password ") }
    }

    // MARK: the life of a connection

    func testWithAPinnedKeyEveryLoginAfterAChangeOrARestartWorksWithoutTLS() throws {
        let appPassword = "App-Passw0rd-\(UUID().uuidString.prefix(8))"
        let double = try double([.init(user: "app", plugin: "caching_sha2_password", password: appPassword)])
        let pin = double.publicKeyFile
        var result = try configure(double, ["server_public_key=@\(pin)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(vaultLogins(double.newEvents()), ["vault caching_sha2_password full-rsa ok"], "verify_connection, cache empty")
        XCTAssertTrue(try assertSucceeds(["read", "database/config/my"]).contains("server_public_key:-----BEGIN PUBLIC KEY-----"))
        try writeRole()
        let first = try creds()
        XCTAssertEqual(try double.pyMySQL([.init(user: first.user, password: first.password, server_public_key: pin)]).map(\.ok), [true])

        // rotate-root: the server evicts the account from its cache, so the next creds needs full authentication.
        _ = try assertSucceeds(["write", "-f", "database/rotate-root/my"])
        let rotated = try storedRootPassword()
        XCTAssertNotEqual(rotated, rootPassword)
        XCTAssertEqual(try doublePassword(double, "vault"), rotated)
        _ = double.newEvents()
        let second = try creds()
        XCTAssertEqual(vaultLogins(double.newEvents()), ["vault caching_sha2_password full-rsa ok"])

        // rotate-role of a static role, each new password witnessed, the old one refused.
        _ = try assertSucceeds(["write", "database/static-roles/app", "db_name=my", "username=app", "rotation_period=1h"])
        let before = try assertSucceeds(["read", "-field=password", "database/static-creds/app"])
        _ = try assertSucceeds(["write", "-f", "database/rotate-role/app"])
        let after = try assertSucceeds(["read", "-field=password", "database/static-creds/app"])
        XCTAssertNotEqual(before, after)
        XCTAssertEqual(try double.pyMySQL([.init(user: "app", password: after, server_public_key: pin),
                                           .init(user: "app", password: before, server_public_key: pin),
                                           .init(user: "app", password: appPassword, server_public_key: pin)]).map(\.ok),
                       [true, false, false])

        // A restart empties the cache: creds still works, and revocation still drops the users.
        try double.restart()
        _ = double.newEvents()
        let third = try creds()
        XCTAssertEqual(vaultLogins(double.newEvents()), ["vault caching_sha2_password full-rsa ok"])
        for lease in [first.lease, second.lease, third.lease] {
            _ = try assertSucceeds(["lease", "revoke", lease])
        }
        XCTAssertEqual(try double.pyMySQL([first, second, third].map { MySQL8Double.Attempt(user: $0.user, password: $0.password, server_public_key: pin) })
            .map(\.ok), [false, false, false])
        // The logins never sent a password in clear text. (The statements that set one, CREATE USER
        // and ALTER USER, travel as the connection does: in clear text without TLS, as with any client.)
        XCTAssertFalse(double.received(rootPassword))
        result = try dbsecrets(["read", "database/config/my"])
        XCTAssertFalse(result.stdout.contains(rotated))
    }

    func testOverTLSTheSameLifeNeedsNoKey() throws {
        let tls = try TLSTestMaterial.fromEnvironment()
        let double = try double()
        let result = try configure(double, ["tls_ca=@\(tls.caFile)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        try writeRole()
        _ = try creds()
        _ = try assertSucceeds(["write", "-f", "database/rotate-root/my"])
        _ = double.newEvents()
        _ = try creds()
        try double.restart()
        _ = try creds()
        XCTAssertEqual(vaultLogins(double.newEvents()), ["vault caching_sha2_password full-tls ok", "vault caching_sha2_password full-tls ok"])
        XCTAssertFalse(double.received(try storedRootPassword()))
    }

    // MARK: rotation beyond Vault's community edition

    /// MySQL 8.0.14's dual passwords (`RETAIN CURRENT PASSWORD`, then `DISCARD OLD PASSWORD` when
    /// the grace period ends), and a self-managed account changing its own password (`ALTER USER
    /// USER() … REPLACE`) with the root account gone.
    func testTwoPasswordsAndSelfManagedRotation() throws {
        let appPassword = "App-Passw0rd-\(UUID().uuidString.prefix(8))", ownPassword = "Own-Passw0rd-\(UUID().uuidString.prefix(8))"
        let double = try double([.init(user: "app", plugin: "caching_sha2_password", password: appPassword),
                                 .init(user: "own", plugin: "caching_sha2_password", password: ownPassword)])
        let pin = double.publicKeyFile
        XCTAssertEqual(try configure(double, ["server_public_key=@\(pin)"]).status, 0)
        func logins(_ attempts: [(String, String)]) throws -> [Bool] {
            try double.pyMySQL(attempts.map { MySQL8Double.Attempt(user: $0.0, password: $0.1, server_public_key: pin) }).map(\.ok)
        }

        _ = try assertSucceeds(["write", "database/static-roles/app", "db_name=my", "username=app", "rotation_period=1h",
                                "skip_import_rotation=true", "password=-", "retain_previous_password=true",
                                "previous_password_grace=2s"], stdin: appPassword)
        _ = try assertSucceeds(["write", "-f", "database/rotate-role/app"])
        let rotated = try assertSucceeds(["read", "-field=password", "database/static-creds/app"])
        XCTAssertEqual(try logins([("app", rotated), ("app", appPassword)]), [true, true], "both log in right after the rotation")
        Thread.sleep(forTimeInterval: 2.2)
        XCTAssertEqual(try assertSucceeds(["tidy"]), "previous password discarded: app (only the current password of app logs in now)\n")
        XCTAssertEqual(try logins([("app", rotated), ("app", appPassword)]), [true, false], "only the new one after the grace period")

        _ = try assertSucceeds(["write", "database/static-roles/own", "db_name=my", "username=own", "rotation_period=1h",
                                "self_managed_password=-"], stdin: ownPassword)
        XCTAssertEqual(try double.pyMySQL([.init(user: "vault", password: try storedRootPassword(), server_public_key: pin,
                                                 sql: ["DROP USER 'vault'@'%'"])]).map(\.ok), [true])
        let first = try assertSucceeds(["read", "-field=password", "database/static-creds/own"])
        _ = try assertSucceeds(["write", "-f", "database/rotate-role/own"])
        let second = try assertSucceeds(["read", "-field=password", "database/static-creds/own"])
        XCTAssertNotEqual(first, second)
        XCTAssertEqual(try logins([("own", second), ("own", first), ("own", ownPassword)]), [true, false, false])
    }

    // MARK: what a clear connection needs

    /// Regression: `allowPublicKeyRetrieval=true` used to reach the server as `SET
    /// allowPublicKeyRetrieval=true`, which MySQL 8 refuses with error 1193.
    func testWithoutAKeyTheFullPathIsRefusedUnlessRetrievalIsAllowed() throws {
        let double = try double()
        var result = try configure(double, [])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("error verifying connection: the server asked for caching_sha2_password full "
            + "authentication"), result.stderr)
        for expected in ["server_public_key", "allowPublicKeyRetrieval=true", "tls=true", "Vault's driver always does"] {
            XCTAssertTrue(result.stderr.contains(expected), result.stderr)
        }
        XCTAssertEqual(double.newEvents(), [], "nothing was sent")

        result = try configure(double, query: "?allowPublicKeyRetrieval=true", [])
        XCTAssertEqual(result.status, 0, result.stderr)
        try writeRole()
        _ = try assertSucceeds(["write", "-f", "database/rotate-root/my"])
        _ = double.newEvents()
        _ = try creds()
        XCTAssertEqual(double.newEvents().filter { $0.hasPrefix("vault ") },
                       ["vault key-request", "vault caching_sha2_password full-rsa ok"])
    }

    func testAConfiguredKeyThatIsNotTheServersFailsAndABadOneIsRefusedAtOnce() throws {
        let double = try double()
        let folder = TemporaryFolder("dbsecrets-keys")
        defer { folder.remove() }
        let other = folder.url.appendingPathComponent("other.pem"), garbage = folder.url.appendingPathComponent("garbage.pem")
        try RSATestKey.other().publicPEM.write(to: other, atomically: true, encoding: .utf8)
        try "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n".write(to: garbage, atomically: true, encoding: .utf8)
        var result = try configure(double, ["server_public_key=@\(other.path)"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("error verifying connection: the server's RSA public key (for caching_sha2_password) "
            + "is not the one in server_public_key, so the password was not sent"), result.stderr)
        result = try configure(double, ["server_public_key=@\(garbage.path)", "verify_connection=false"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("server_public_key is not a PEM public key"), result.stderr)
        XCTAssertEqual(try dbsecrets(["read", "database/config/my"]).status, 2, "nothing was written")
    }

    func testAParameterThatIsNotTheDriversIsSetAndTheServersRefusalNamesIt() throws {
        let double = try double()
        let result = try configure(double, query: "?allowPublicKeyRetrieval=true&innodb_strict_modes=ON", [])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("connection_url parameter innodb_strict_modes is not one of the driver's, so it was sent "
            + "to the server as SET innodb_strict_modes=…, which the server refused: Error 1193 (HY000): Unknown system variable"),
                      result.stderr)
    }

    // MARK: recovery

    /// A root rotation killed right after the server took the new password: the cache is empty
    /// for it, and the next tidy learns which password works by logging in (full authentication).
    func testAnInterruptedRootRotationIsSettledThroughFullAuthentication() throws {
        let double = try double()
        XCTAssertEqual(try configure(double, ["server_public_key=@\(double.publicKeyFile)"]).status, 0)
        let trace = try dbsecrets(["write", "-f", "database/rotate-root/my"], environment: ["DBSECRETS_TEST_TRACE_STEPS": "1"])
        XCTAssertEqual(trace.status, 0, trace.stderr)
        guard let step = trace.stderr.split(separator: "\n").first(where: { $0.hasSuffix(" root database changed") })?
            .split(separator: " ")[1] else { return XCTFail("no step boundary after the database change: \(trace.stderr)") }
        let stored = try storedRootPassword()

        let killed = try dbsecrets(["write", "-f", "database/rotate-root/my"], environment: ["DBSECRETS_TEST_CRASH_AT": String(step)])
        XCTAssertNotEqual(killed.status, 0)
        let taken = try XCTUnwrap(try doublePassword(double, "vault"))
        XCTAssertNotEqual(taken, stored, "the server has the new password, the state the old one")
        XCTAssertEqual(try storedRootPassword(), stored)

        _ = double.newEvents()
        _ = try assertSucceeds(["tidy"])
        XCTAssertEqual(try storedRootPassword(), taken, "the password the server took is stored")
        XCTAssertTrue(vaultLogins(double.newEvents()).contains("vault caching_sha2_password full-rsa ok"))
        try writeRole()
        _ = try creds()
    }
}
