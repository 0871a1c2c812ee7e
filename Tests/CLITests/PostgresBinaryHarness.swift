import Foundation
import TestSupport
import XCTest

/// The built binary on a state folder of its own, with a PostgreSQL admin of its own (CREATEROLE)
/// on the test server: what the end-to-end tests of mounts and of Vault fidelity share.
final class PostgresBinaryHarness {
    let server: PostgresTestServer
    let folder = TemporaryFolder("dbsecrets-pg-binary")
    let admin = "bin_admin_\(UUID().uuidString.prefix(8).lowercased())"
    let adminPassword = "bin-admin-\(UUID().uuidString.prefix(8))"
    let createStatement = "creation_statements=CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"

    init() throws {
        server = try PostgresTestServer.fromEnvironment()
        try TestRequirement.builtBinary()
        XCTAssertEqual(try server.psql(user: server.user, password: server.password,
                                       "CREATE ROLE \(admin) WITH LOGIN CREATEROLE PASSWORD '\(adminPassword)'").status, 0)
    }

    /// Drops the admin and the state folder.
    func remove() {
        _ = try? server.psql(user: server.user, password: server.password, "DROP ROLE IF EXISTS \(admin)")
        folder.remove()
    }

    var environment: [String: String] {
        ["DBSECRETS_STATE_DIR": folder.url.appendingPathComponent("state").path, "PATH": "/usr/bin:/bin"]
    }

    @discardableResult
    func run(_ args: [String], stdin: String? = nil, extra: [String: String] = [:]) throws -> ProcessResult {
        try ProcessRunner.run(PackageRoot.binary.path, args, environment: environment.merging(extra) { _, new in new }, stdin: stdin)
    }

    func canLogIn(_ user: String, _ password: String) throws -> Bool {
        try server.psql(user: user, password: password, "SELECT 1").status == 0
    }

    /// `MOUNT/config/pg` as the admin; returns what the write printed.
    @discardableResult
    func configure(_ mount: String = "database", allowedRoles: String = "*", url: String? = nil) throws -> ProcessResult {
        try run(["write", "\(mount)/config/pg", "plugin_name=postgresql-database-plugin", "connection_url=\(url ?? server.templatedURL)",
                 "username=\(admin)", "password=-", "allowed_roles=\(allowedRoles)"], stdin: adminPassword)
    }

    /// As the superuser of the test server.
    @discardableResult
    func superuser(_ sql: String) throws -> (status: Int32, output: String) {
        try server.psql(user: server.user, password: server.password, sql)
    }
}
