import DBPlugin
import Foundation
import XCTest

/// The throwaway MariaDB that `Tests/servers/start-mariadb` started, read from the environment.
/// Missing variables, or a server that does not answer, are `TestRequirement.missing`.
public struct MariaDBTestServer {
    public let host: String
    public let port: Int
    public let adminUser: String
    public let adminPassword: String

    public struct Missing: Error, CustomStringConvertible {
        public var description: String {
            "DBSECRETS_TEST_MARIADB_* is not set: run Tests/servers/start-mariadb DIR and source DIR/mariadb.env"
        }
    }

    public static func fromEnvironment() throws -> MariaDBTestServer {
        let env = ProcessInfo.processInfo.environment
        guard let portText = env["DBSECRETS_TEST_MARIADB_PORT"], let port = Int(portText),
              let user = env["DBSECRETS_TEST_MARIADB_ADMIN_USER"],
              let password = env["DBSECRETS_TEST_MARIADB_ADMIN_PASSWORD"] else {
            throw TestRequirement.missing(Missing().description)
        }
        let host = env["DBSECRETS_TEST_MARIADB_HOST"] ?? "127.0.0.1"
        try TestRequirement.reachable("MariaDB", host: host, port: port)
        return MariaDBTestServer(host: host, port: port, adminUser: user, adminPassword: password)
    }

    /// Vault's templated DSN for this server.
    public var connectionURL: String { "{{username}}:{{password}}@tcp(\(host):\(port))/" }

    /// Plugin connection parameters logging in as `user` (the admin by default).
    public func config(username: String? = nil, password: String? = nil,
                       extra: [String: JSONValue] = [:]) -> [String: JSONValue] {
        var config: [String: JSONValue] = [
            "connection_url": .string(connectionURL),
            "username": .string(username ?? adminUser),
            "password": .string(password ?? adminPassword),
        ]
        config.merge(extra) { _, new in new }
        return config
    }

    public struct ClientResult {
        public var status: Int32
        public var output: String
        public var error: String
        public var succeeded: Bool { status == 0 }
    }

    /// Runs SQL with Debian's `mariadb` client over TCP, as an independent witness of what the plugin did.
    @discardableResult
    public func client(user: String, password: String, _ sql: String) throws -> ClientResult {
        var environment = ProcessInfo.processInfo.environment
        environment["MYSQL_PWD"] = password  // keeps the password out of the process list
        let result = try ProcessRunner.run("/usr/bin/mariadb", ["--no-defaults", "--batch", "--skip-column-names", "--connect-timeout=5",
                                                               "-h\(host)", "-P\(port)", "-u\(user)", "-e", sql],
                                           environment: environment, timeout: ProcessRunner.clientTimeout)
        return ClientResult(status: result.status, output: result.stdout, error: result.stderr)
    }

    /// Runs SQL as the admin and fails loudly if it does not succeed.
    @discardableResult
    public func admin(_ sql: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try client(user: adminUser, password: adminPassword, sql)
        XCTAssertTrue(result.succeeded, "admin SQL failed: \(sql): \(result.error)", file: file, line: line)
        return result.output
    }
}
