import Foundation
import TestSupport
import XCTest

/// Databases that refuse connections (a closed port) or hang (a listener whose kernel accepts
/// connections that nobody ever answers), for each wire client: every command that needs the
/// database fails within its connect timeout, with exit 2 and one line naming host:port, no
/// password, and nothing half-written in the state directory.
final class FaultUnreachableDatabaseTests: XCTestCase {
    let rootPassword = "fault-root-\(UUID().uuidString.prefix(8))"
    var tool: FaultBinary!

    override func setUpWithError() throws { tool = try FaultBinary("dbsecrets-fault") }
    override func tearDown() { tool?.remove() }

    enum Plugin: CaseIterable {
        case postgres, mysql, redis

        /// Connection parameters with a half-second connect timeout, password from stdin.
        func config(port: Int) -> [String] {
            switch self {
            case .postgres:
                return ["plugin_name=postgresql-database-plugin",
                        "connection_url=postgresql://{{username}}:{{password}}@127.0.0.1:\(port)/x?sslmode=disable&connect_timeout=0.5"]
            case .mysql:
                return ["plugin_name=mysql-database-plugin", "connection_url={{username}}:{{password}}@tcp(127.0.0.1:\(port))/?timeout=500ms"]
            case .redis:
                return ["plugin_name=redis-database-plugin", "host=127.0.0.1", "port=\(port)", "connect_timeout=500ms"]
            }
        }

        var creationStatement: String {
            switch self {
            case .postgres: return #"creation_statements=CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'"#
            case .mysql: return "creation_statements=CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'"
            case .redis: return #"creation_statements=["+@read"]"#
            }
        }
    }

    /// A connection `db` (written without verification, as when the database was up) and a role `r`.
    private func configure(_ plugin: Plugin, port: Int) throws {
        var r = try tool.run(["write", "database/config/db"] + plugin.config(port: port)
                                + ["username=admin", "password=-", "allowed_roles=*", "verify_connection=false"], stdin: rootPassword)
        XCTAssertEqual(r.status, 0, "\(plugin): \(r.stderr)")
        r = try tool.run(["write", "database/roles/r", "db_name=db", plugin.creationStatement, "default_ttl=1h"])
        XCTAssertEqual(r.status, 0, "\(plugin): \(r.stderr)")
    }

    /// What a failed call may leave: the connection and role it started from, and lock files.
    private func assertNothingHalfWritten(_ plugin: Plugin, file: StaticString = #filePath, line: UInt = #line) throws {
        let files = tool.stateFiles().filter { !$0.hasPrefix("locks/") }
        XCTAssertEqual(files, ["config/db.json", "roles/r.json"], "\(plugin)", file: file, line: line)
        XCTAssertEqual(try tool.leases().count, 0, file: file, line: line)
    }

    private func checkEveryCall(_ plugin: Plugin, port: Int, within seconds: TimeInterval, rotateRoot: Bool, reason: String) throws {
        let address = "127.0.0.1:\(port)"
        try configure(plugin, port: port)

        var r = try tool.run("read", "database/creds/r")
        assertCleanDatabaseFailure(r, prefix: "Error reading database/creds/r: ", address: address, secrets: [rootPassword], within: seconds)
        XCTAssertTrue(r.stderr.lowercased().contains(reason), "\(plugin) says why: \(r.stderr)")

        if rotateRoot {
            r = try tool.run("write", "-f", "database/rotate-root/db")
            assertCleanDatabaseFailure(r, prefix: "Error writing data to database/rotate-root/db: ", address: address,
                                       secrets: [rootPassword], within: seconds)
            XCTAssertEqual(try tool.stateObject("config/db.json")["connection_details"].flatMap { ($0 as? [String: Any])?["password"] as? String },
                           rootPassword, "the root password is unchanged")
        }

        // A verified write is refused and stores nothing.
        r = try tool.run(["write", "database/config/db2"] + plugin.config(port: port) + ["username=admin", "password=-"], stdin: rootPassword)
        assertCleanDatabaseFailure(r, prefix: "Error writing data to database/config/db2: ", address: address,
                                   secrets: [rootPassword], within: seconds)
        try assertNothingHalfWritten(plugin)
    }

    func testARefusedConnectionFailsAtOnceForEveryPlugin() throws {
        let port = try freePort()
        for plugin in Plugin.allCases {
            try checkEveryCall(plugin, port: port, within: 1, rotateRoot: true, reason: "refused")
            tool.remove()
        }
    }

    func testAServerThatAcceptsAndNeverAnswersFailsWithinTheConnectTimeout() throws {
        let hung = try ScriptedServer(accepting: false)
        defer { hung.stop() }
        for plugin in Plugin.allCases {
            try checkEveryCall(plugin, port: hung.port, within: 2, rotateRoot: plugin == .postgres, reason: "timed out")
            tool.remove()
        }
    }
}
