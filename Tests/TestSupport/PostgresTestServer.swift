import Foundation
import XCTest

/// The throwaway PostgreSQL that `Tests/servers/start-postgres` starts, read from the
/// `DBSECRETS_TEST_POSTGRES_*` variables. Without them a test is skipped locally, and fails in CI.
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
            if env["CI"] != nil { throw Missing() }
            throw XCTSkip(Missing().description)
        }
        return PostgresTestServer(host: host, port: port, user: user, password: password,
                                  database: env["DBSECRETS_TEST_POSTGRES_DATABASE"] ?? "postgres",
                                  socketDirectory: env["DBSECRETS_TEST_POSTGRES_SOCKET_DIR"] ?? "")
    }

    /// `postgresql://{{username}}:{{password}}@host:port/db?sslmode=disable`, Vault's recommended form.
    public var templatedURL: String {
        "postgresql://{{username}}:{{password}}@\(host):\(port)/\(database)?sslmode=disable"
    }

    /// Runs `psql -c sql` as `user` with `PGPASSWORD`, returning the exit status and output.
    @discardableResult
    public func psql(user: String, password: String, _ sql: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = ["-h", host, "-p", String(port), "-U", user, "-d", database, "-w", "-Atqc", sql]
        var environment = ProcessInfo.processInfo.environment
        environment["PGPASSWORD"] = password
        environment["PGCONNECT_TIMEOUT"] = "5"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
