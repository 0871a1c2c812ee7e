import Foundation
import XCTest

/// The throwaway PostgreSQL that `Tests/servers/start-postgres` starts, read from the
/// `DBSECRETS_TEST_POSTGRES_*` variables. Without them, or with the server not answering, a test
/// is skipped locally and fails under CI and scripts/test (`TestRequirement`).
public struct PostgresTestServer: Sendable {
    public var host: String
    public var port: Int
    /// A superuser, authenticated with SCRAM-SHA-256.
    public var user: String
    public var password: String
    public var database: String
    /// The directory holding the server's Unix socket.
    public var socketDirectory: String

    public struct Missing: Error, CustomStringConvertible {
        public var description: String {
            "DBSECRETS_TEST_POSTGRES_* are not set: run Tests/servers/start-postgres DIR and export DIR/postgres.env"
        }
    }

    public static func fromEnvironment() throws -> PostgresTestServer {
        let env = ProcessInfo.processInfo.environment
        guard let host = env["DBSECRETS_TEST_POSTGRES_HOST"], let portText = env["DBSECRETS_TEST_POSTGRES_PORT"],
              let port = Int(portText), let user = env["DBSECRETS_TEST_POSTGRES_USER"],
              let password = env["DBSECRETS_TEST_POSTGRES_PASSWORD"] else {
            throw TestRequirement.missing(Missing().description)
        }
        try TestRequirement.reachable("PostgreSQL", host: host, port: port)
        return PostgresTestServer(host: host, port: port, user: user, password: password,
                                  database: env["DBSECRETS_TEST_POSTGRES_DATABASE"] ?? "postgres",
                                  socketDirectory: env["DBSECRETS_TEST_POSTGRES_SOCKET_DIR"] ?? "")
    }

    /// `postgresql://{{username}}:{{password}}@host:port/db?sslmode=disable`, Vault's recommended form.
    public var templatedURL: String {
        "postgresql://{{username}}:{{password}}@\(host):\(port)/\(database)?sslmode=disable"
    }

    /// Runs `psql -c sql` as `user` with `PGPASSWORD`, returning the exit status and output
    /// (stdout then stderr). Bounded like every client the tests run.
    @discardableResult
    public func psql(user: String, password: String, _ sql: String) throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["PGPASSWORD"] = password
        environment["PGCONNECT_TIMEOUT"] = "5"
        let result = try ProcessRunner.run("/usr/bin/psql", ["-h", host, "-p", String(port), "-U", user, "-d", database, "-w", "-Atqc", sql],
                                           environment: environment, timeout: ProcessRunner.clientTimeout)
        return (result.status, (result.stdout + result.stderr).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
