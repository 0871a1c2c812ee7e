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

    /// The server, or a skip when the variables are missing (a failure under CI).
    public static func fromEnvironment(file: StaticString = #filePath, line: UInt = #line) throws -> RedisTestServer {
        let env = ProcessInfo.processInfo.environment
        guard let host = env["DBSECRETS_TEST_REDIS_HOST"],
              let port = env["DBSECRETS_TEST_REDIS_PORT"].flatMap(Int.init),
              let username = env["DBSECRETS_TEST_REDIS_USERNAME"],
              let password = env["DBSECRETS_TEST_REDIS_PASSWORD"] else {
            let reason = "DBSECRETS_TEST_REDIS_* not set: run scripts/test or Tests/servers/start-redis"
            if env["CI"] != nil {
                XCTFail(reason, file: file, line: line)
                throw XCTSkip(reason)
            }
            throw XCTSkip(reason)
        }
        return RedisTestServer(host: host, port: port, adminUsername: username, adminPassword: password,
                               aclFile: env["DBSECRETS_TEST_REDIS_ACLFILE"] ?? "")
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

    /// Runs Debian's `redis-cli` as `username` and returns what it printed (stdout and stderr).
    /// redis-cli exits 0 even on error replies, so callers look at the text.
    public func redisCLI(username: String, password: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        process.arguments = ["-h", host, "-p", String(port), "--user", username, "--pass", password,
                             "--no-auth-warning"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
