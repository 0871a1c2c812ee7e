import Engine
import Foundation
import TestSupport
import XCTest

/// A real database server as the crash tests see it: how dbsecrets connects to it (with a root
/// user of the test's own, so rotating it never disturbs other tests), the statements of a
/// dynamic role, and the witness that says what the server holds, through its own client.
protocol CrashDatabase {
    var plugin: String { get }
    /// `write database/config/NAME` data, the root password going through stdin.
    func connectionData(allowedRoles: String) -> [String]
    var rootUser: String { get }
    var rootPassword: String { get }
    func roleData(connection: String) -> [String]
    /// The users dbsecrets created for dynamic role `role` (default username templates).
    func usersCreated(forRole role: String) throws -> [String]
    func createStaticUser(_ name: String, password: String) throws
    func canLogIn(_ user: String, _ password: String) throws -> Bool
    /// Sets the root user's password back to `rootPassword` (a test may have rotated it).
    func resetRootPassword() throws
    /// Removes the users a run made: its static user and its dynamic users.
    func dropUsers(role: String, staticUser: String) throws
    func dropRootUser() throws
}

/// `cr` + six lowercase letters: unique per test, and a valid name in every database.
func crashTestName(_ prefix: String = "cr") -> String {
    prefix + String((0..<6).map { _ in "abcdefghijklmnopqrstuvwxyz".randomElement()! })
}

struct CrashPostgres: CrashDatabase {
    let server: PostgresTestServer
    let rootUser = crashTestName("crroot")
    let rootPassword = "root-" + UUID().uuidString

    init() throws {
        server = try PostgresTestServer.fromEnvironment()
        try check(server.psql(user: server.user, password: server.password,
                              "CREATE ROLE \(rootUser) WITH LOGIN SUPERUSER PASSWORD '\(rootPassword)'"))
    }

    var plugin: String { "postgresql-database-plugin" }

    func connectionData(allowedRoles: String) -> [String] {
        ["plugin_name=postgresql-database-plugin", "connection_url=\(server.templatedURL)", "username=\(rootUser)",
         "password=-", "allowed_roles=\(allowedRoles)"]
    }

    func roleData(connection: String) -> [String] {
        ["db_name=\(connection)",
         #"creation_statements=CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT pg_read_all_data TO "{{name}}";"#]
    }

    func usersCreated(forRole role: String) throws -> [String] {
        let result = try server.psql(user: server.user, password: server.password,
                                     "SELECT rolname FROM pg_roles WHERE rolname LIKE 'v-root-\(role)-%' ORDER BY 1")
        try check(result)
        return result.output.split(separator: "\n").map(String.init)
    }

    func createStaticUser(_ name: String, password: String) throws {
        try check(server.psql(user: server.user, password: server.password, "CREATE ROLE \(name) WITH LOGIN PASSWORD '\(password)'"))
    }

    func canLogIn(_ user: String, _ password: String) throws -> Bool {
        try server.psql(user: user, password: password, "SELECT 1").status == 0
    }

    func resetRootPassword() throws {
        try check(server.psql(user: server.user, password: server.password, "ALTER ROLE \(rootUser) WITH PASSWORD '\(rootPassword)'"))
    }

    func dropUsers(role: String, staticUser: String) throws {
        for user in try usersCreated(forRole: role) + [staticUser] {
            _ = try server.psql(user: server.user, password: server.password, "DROP ROLE IF EXISTS \"\(user)\"")
        }
    }

    func dropRootUser() throws {
        _ = try server.psql(user: server.user, password: server.password, "DROP ROLE IF EXISTS \(rootUser)")
    }

    private func check(_ result: (status: Int32, output: String)) throws {
        if result.status != 0 { throw FaultSetupError("psql failed: \(result.output)") }
    }
}

struct CrashMariaDB: CrashDatabase {
    let server: MariaDBTestServer
    let rootUser = crashTestName("crroot")
    let rootPassword = "root-" + UUID().uuidString

    init() throws {
        server = try MariaDBTestServer.fromEnvironment()
        try server.admin("CREATE USER '\(rootUser)'@'%' IDENTIFIED BY '\(rootPassword)'; GRANT ALL PRIVILEGES ON *.* TO '\(rootUser)'@'%' WITH GRANT OPTION")
    }

    var plugin: String { "mysql-database-plugin" }

    func connectionData(allowedRoles: String) -> [String] {
        ["plugin_name=mysql-database-plugin", "connection_url=\(server.connectionURL)", "username=\(rootUser)",
         "password=-", "allowed_roles=\(allowedRoles)"]
    }

    /// Two statements that MySQL commits one by one: a kill between them is a half-made user.
    func roleData(connection: String) -> [String] {
        ["db_name=\(connection)",
         "creation_statements=CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT SELECT ON *.* TO '{{name}}'@'%';"]
    }

    func usersCreated(forRole role: String) throws -> [String] {
        try server.admin("SELECT User FROM mysql.user WHERE User LIKE 'v-root-\(role)-%' ORDER BY 1")
            .split(separator: "\n").map(String.init)
    }

    func createStaticUser(_ name: String, password: String) throws {
        try server.admin("CREATE USER '\(name)'@'%' IDENTIFIED BY '\(password)'")
    }

    func canLogIn(_ user: String, _ password: String) throws -> Bool {
        try server.client(user: user, password: password, "SELECT 1").succeeded
    }

    func resetRootPassword() throws {
        try server.admin("ALTER USER '\(rootUser)'@'%' IDENTIFIED BY '\(rootPassword)'")
    }

    func dropUsers(role: String, staticUser: String) throws {
        for user in try usersCreated(forRole: role) + [staticUser] {
            _ = try server.client(user: server.adminUser, password: server.adminPassword, "DROP USER IF EXISTS '\(user)'@'%'")
        }
    }

    func dropRootUser() throws {
        _ = try server.client(user: server.adminUser, password: server.adminPassword, "DROP USER IF EXISTS '\(rootUser)'@'%'")
    }
}

struct CrashRedis: CrashDatabase {
    let server: RedisTestServer
    let rootUser = crashTestName("crroot")
    let rootPassword = "root-" + UUID().uuidString

    init() throws {
        server = try RedisTestServer.fromEnvironment()
        try admin(["ACL", "SETUSER", rootUser, "on", ">" + rootPassword, "~*", "&*", "+@all"])
    }

    var plugin: String { "redis-database-plugin" }

    @discardableResult
    private func admin(_ arguments: [String]) throws -> String {
        try server.redisCLI(username: server.adminUsername, password: server.adminPassword, arguments)
    }

    func connectionData(allowedRoles: String) -> [String] {
        ["plugin_name=redis-database-plugin", "host=\(server.host)", "port=\(server.port)", "username=\(rootUser)",
         "password=-", "allowed_roles=\(allowedRoles)"]
    }

    func roleData(connection: String) -> [String] {
        ["db_name=\(connection)", #"creation_statements=["~*", "+@read"]"#]
    }

    func usersCreated(forRole role: String) throws -> [String] {
        try admin(["ACL", "USERS"]).split(separator: "\n").map(String.init)
            .filter { $0.hasPrefix("V_ROOT_\(role.uppercased())_") }.sorted()
    }

    func createStaticUser(_ name: String, password: String) throws {
        try admin(["ACL", "SETUSER", name, "on", ">" + password, "~*", "+@read", "+ping"])
    }

    func canLogIn(_ user: String, _ password: String) throws -> Bool {
        try server.redisCLI(username: user, password: password, ["PING"]) == "PONG"
    }

    func resetRootPassword() throws {
        try admin(["ACL", "SETUSER", rootUser, "resetpass", ">" + rootPassword])
    }

    func dropUsers(role: String, staticUser: String) throws {
        for user in try usersCreated(forRole: role) + [staticUser] {
            try admin(["ACL", "DELUSER", user])
        }
    }

    func dropRootUser() throws {
        try admin(["ACL", "DELUSER", rootUser])
    }
}
