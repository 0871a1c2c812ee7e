import Foundation
import Glibc
import TestSupport
import XCTest

/// The built `dbsecrets` binary and its ElastiCache plugin executable, as an operator runs them:
/// a static role rotated with credentials from each source of the AWS chain in turn, an agent
/// run that outlives its temporary credentials, and a user that stays `modifying`.
final class ElastiCacheBinaryTests: XCTestCase {
    var server: ElastiCacheTestServer!
    var folder: TemporaryFolder!
    let role = "arn:aws:iam::123456789012:role/dbsecrets-test-role"

    override func setUpWithError() throws {
        server = try ElastiCacheTestServer.fromEnvironment()
        try TestRequirement.builtBinary()
        try server.resetFailures()
        folder = TemporaryFolder("elasticache-binary")
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent(".aws"), withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? server?.resetFailures()
        folder?.remove()
    }

    var state: URL { folder.url.appendingPathComponent("state") }

    /// A minimal environment: no AWS keys, the API at the double, instance metadata off unless
    /// the test points it at the double. The plugin process inherits it from dbsecrets.
    func environment(_ extra: [String: String]) -> [String: String] {
        ["PATH": "/usr/bin:/bin", "HOME": folder.path, "DBSECRETS_STATE_DIR": state.path, "AWS_REGION": server.region,
         "AWS_ENDPOINT_URL_ELASTICACHE": server.endpoint, "AWS_EC2_METADATA_DISABLED": "true"]
            .merging(extra) { _, new in new }
    }

    @discardableResult
    func run(_ arguments: [String], _ environment: [String: String], stdin: String? = nil) throws -> ProcessResult {
        try ProcessRunner.run(PackageRoot.binary.path, arguments, environment: environment, stdin: stdin, timeout: 60)
    }

    @discardableResult
    func write(_ name: String, _ text: String, mode: Int? = nil) throws -> String {
        let url = folder.url.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        if let mode { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path) }
        return url.path
    }

    /// config write (which verifies with DescribeUsers) → static role write, which rotates the
    /// user's password at once → the stored password logs in, the user's old one no longer does.
    func assertStaticRoleRotates(_ env: [String: String], source: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let userID = ElastiCacheTestServer.uniqueUserID()
        try server.createUser(userID, password: "initial-password-123456")
        var r = try run(["write", "database/config/ec", "plugin_name=redis-elasticache-database-plugin",
                         "url=primary.example.cache.amazonaws.com:6379", "allowed_roles=*"], env)
        XCTAssertEqual(r.status, 0, "\(source): \(r.stderr)", file: file, line: line)
        r = try run(["write", "database/static-roles/app", "db_name=ec", "username=\(userID)", "rotation_period=1h"], env)
        XCTAssertEqual(r.status, 0, "\(source): \(r.stderr)", file: file, line: line)
        let password = try run(["read", "-field=password", "database/static-creds/app"], env).stdout
        XCTAssertTrue(try server.redisLogin(userID, password), source, file: file, line: line)
        XCTAssertFalse(try server.redisLogin(userID, "initial-password-123456"), source, file: file, line: line)
        for secret in [server.secretAccessKey, server.sessionSecretAccessKey] {
            XCTAssertFalse(r.stdout.contains(secret) || r.stderr.contains(secret), source, file: file, line: line)
        }
        try? FileManager.default.removeItem(at: state)
    }

    // MARK: Each source in turn

    func testAStaticRoleRotatesWithCredentialsFromEachSourceInTurn() throws {
        let sts = server.stsEndpoint
        let base = "[profile base]\naws_access_key_id = \(server.accessKeyID)\naws_secret_access_key = \(server.secretAccessKey)\n"

        try assertStaticRoleRotates(environment(["AWS_ACCESS_KEY_ID": server.sessionAccessKeyID,
                                                 "AWS_SECRET_ACCESS_KEY": server.sessionSecretAccessKey,
                                                 "AWS_SESSION_TOKEN": server.sessionToken]), source: "environment")

        let config = try write("config", "[profile assumed]\nrole_arn = \(role)\nsource_profile = base\n\n" + base)
        var before = try server.issuedCount("assume-role")
        try assertStaticRoleRotates(environment(["AWS_CONFIG_FILE": config, "AWS_PROFILE": "assumed", "AWS_ENDPOINT_URL_STS": sts]),
                                    source: "profile role_arn + source_profile")
        XCTAssertGreaterThanOrEqual(try server.issuedCount("assume-role"), before + 1)

        let helper = try write("creds-helper", """
            #!/bin/sh
            printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s", "SessionToken": "%s"}' "$1" "$2" "$3"
            """, mode: 0o755)
        try write(".aws/config", "[default]\ncredential_process = \(helper) \(server.sessionAccessKeyID) "
            + "'\(server.sessionSecretAccessKey)' '\(server.sessionToken)'\n")
        try assertStaticRoleRotates(environment([:]), source: "credential_process")
        try FileManager.default.removeItem(atPath: folder.path + "/.aws/config")

        try server.acceptWebIdentityToken("eyJ.binary-irsa")
        let token = try write("irsa-token", "eyJ.binary-irsa")
        before = try server.issuedCount("web-identity")
        try assertStaticRoleRotates(environment(["AWS_ROLE_ARN": role, "AWS_WEB_IDENTITY_TOKEN_FILE": token,
                                                 "AWS_ENDPOINT_URL_STS": sts]), source: "IRSA")
        XCTAssertGreaterThanOrEqual(try server.issuedCount("web-identity"), before + 1)

        let webConfig = try write("web-config", "[profile web]\nrole_arn = \(role)\nweb_identity_token_file = \(token)\n")
        try assertStaticRoleRotates(environment(["AWS_CONFIG_FILE": webConfig, "AWS_PROFILE": "web", "AWS_ENDPOINT_URL_STS": sts]),
                                    source: "profile web_identity_token_file")

        try server.setContainerToken("binary-pod-token")
        let podToken = try write("pod-token", "binary-pod-token")
        before = try server.issuedCount("container")
        try assertStaticRoleRotates(environment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.containerEndpoint + "/v1/credentials",
                                                 "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": podToken]),
                                    source: "container (EKS Pod Identity)")
        XCTAssertGreaterThanOrEqual(try server.issuedCount("container"), before + 1)

        before = try server.issuedCount("imds")
        try assertStaticRoleRotates(environment(["AWS_EC2_METADATA_DISABLED": "false",
                                                 "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.instanceMetadataEndpoint]),
                                    source: "EC2 instance metadata")
        XCTAssertGreaterThanOrEqual(try server.issuedCount("imds"), before + 1)

        // And over HTTPS with the bundle: the API and STS both verified against the test CA.
        try assertStaticRoleRotates(environment(["AWS_CONFIG_FILE": config, "AWS_PROFILE": "assumed",
                                                 "AWS_ENDPOINT_URL_STS": server.stsTLSEndpoint,
                                                 "AWS_ENDPOINT_URL_ELASTICACHE": server.tlsEndpoint,
                                                 "AWS_CA_BUNDLE": server.caBundle]), source: "HTTPS with AWS_CA_BUNDLE")
    }

    func testNoCredentialsAnywhereSaysWhereItLookedAndChangesNothing() throws {
        let r = try run(["write", "database/config/ec", "plugin_name=redis-elasticache-database-plugin", "url=x"], environment([:]))
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "Error writing data to database/config/ec: error creating database object: unable to retrieve AWS "
            + "credentials from provider chain: no AWS credentials found in the configuration (access_key_id, "
            + "secret_access_key), the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_WEB_IDENTITY_TOKEN_FILE), "
            + "profile \"default\" of \(folder.path)/.aws/credentials and \(folder.path)/.aws/config, container credentials "
            + "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, AWS_CONTAINER_CREDENTIALS_FULL_URI) or EC2 instance metadata "
            + "(disabled by AWS_EC2_METADATA_DISABLED)\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: state.appendingPathComponent("config/ec.json").path))
    }

    // MARK: An agent run

    /// Credentials that live one second, rotations that wait 0.75 s for the user to be active:
    /// an agent's rotation outlives the credentials it started with, and every request it makes
    /// is still signed with valid ones (the endpoint refuses expired tokens).
    func testExpiringCredentialsAreRefreshedAcrossAnAgentRun() throws {
        let env = environment(["AWS_EC2_METADATA_DISABLED": "false",
                               "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.instanceMetadataEndpoint])
        try server.setCredentialLifetime(1)
        let userID = ElastiCacheTestServer.uniqueUserID()
        try server.createUser(userID, password: "initial-password-123456")
        var r = try run(["write", "database/config/ec", "plugin_name=redis-elasticache-database-plugin", "url=x",
                         "allowed_roles=*"], env)
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try run(["write", "database/static-roles/app", "db_name=ec", "username=\(userID)", "rotation_period=5s"], env)
        XCTAssertEqual(r.status, 0, r.stderr)
        try server.setModifyingSeconds(0.7)  // checks at 0, 0.25 and 0.75 s: the last one past half their life
        let before = try server.issuedCount("imds")

        // Due now, as the clock would make it in five seconds.
        try makeRoleDue("app")
        let out = folder.url.appendingPathComponent("agent.out"), err = folder.url.appendingPathComponent("agent.err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let agent = Process()
        agent.executableURL = PackageRoot.binary
        agent.arguments = ["agent", "-interval=1s"]
        agent.environment = env
        agent.standardInput = FileHandle.nullDevice
        agent.standardOutput = try FileHandle(forWritingTo: out)
        agent.standardError = try FileHandle(forWritingTo: err)
        try agent.run()
        let deadline = Date().addingTimeInterval(20)
        var rotations = 0
        while Date() < deadline {
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            rotations = text.components(separatedBy: "static role rotated: app").count - 1
            if rotations >= 1 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        kill(agent.processIdentifier, SIGTERM)
        agent.waitUntilExit()
        let errors = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        XCTAssertEqual(rotations, 1, errors)
        XCTAssertEqual(errors, "")
        XCTAssertGreaterThanOrEqual(try server.issuedCount("imds") - before, 2, "fetched again while waiting for active")
        let password = try run(["read", "-field=password", "database/static-creds/app"], env).stdout
        XCTAssertTrue(try server.redisLogin(userID, password))
    }

    // MARK: A user that never becomes active

    func testAUserStuckModifyingFailsTheRotationWhichIsRetried() throws {
        let (env, userID, stored) = try staticRoleWithKeys(userActiveTimeout: "500ms")
        try server.setModifyingSeconds(3600)
        let start = Date()
        var r = try run(["write", "-f", "database/rotate-role/app"], env)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "Error writing data to database/rotate-role/app: unable to finish rotating credentials; "
            + "retries will continue in the background but it is also safe to retry manually: error setting credentials: ModifyUser was "
            + "accepted but user \(userID) was still 'modifying' after 0.5s (user_active_timeout): the new password may not "
            + "work yet, so the rotation is not done\n")
        // Nothing counted, and nothing handed out while AWS may still switch to the new password:
        // the plugin cannot log in as the user to tell which one it has (it only speaks the API).
        r = try run(["read", "-field=password", "database/static-creds/app"], env)
        XCTAssertEqual(r.status, 2)
        let unsettled = "the last rotation of static role app was interrupted and is not settled yet: error setting "
            + "credentials: user \(userID) cannot be updated because it is not in the 'active' state"
        XCTAssertEqual(r.stderr, "Error reading database/static-creds/app: \(unsettled)\n")
        XCTAssertTrue(try server.redisLogin(userID, stored), "AWS has not applied it yet")
        XCTAssertNotNil(try stateObject("static-roles/app.json")["retry_at"])

        // While the user is still modifying, tidy's retry is refused before any change…
        r = try run(["tidy"], env)
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.hasSuffix("(\(unsettled))\n"), r.stderr)

        // …and once AWS has finished the change, it rotates again.
        try assertTidyRotatesAgainOnceAWSFinishes(env, userID: userID, stored: stored)
    }

    // MARK: A crash while waiting

    /// dbsecrets killed while its plugin waits for the user to be active: the plugin stops asking
    /// AWS, the rotation's intent stays, and once AWS has finished the change (the stored password
    /// no longer works), the next tidy rotates the role again.
    func testAKillWhileWaitingForActiveIsRepairedByTheNextTidy() throws {
        let (env, userID, stored) = try staticRoleWithKeys(userActiveTimeout: "60s")
        try server.setModifyingSeconds(3600)
        let (rotation, pluginPID) = try startWaitingRotation(["write", "-f", "database/rotate-role/app"], env)
        let intent = state.appendingPathComponent("intents/static-app.json")
        kill(rotation.processIdentifier, SIGKILL)
        rotation.waitUntilExit()
        let gone = Date().addingTimeInterval(5)
        while Date() < gone && FileManager.default.fileExists(atPath: "/proc/\(pluginPID)") && !isZombie(pluginPID) {
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertTrue(!FileManager.default.fileExists(atPath: "/proc/\(pluginPID)") || isZombie(pluginPID),
                      "the orphaned plugin stops waiting")
        XCTAssertTrue(FileManager.default.fileExists(atPath: intent.path), "the intent outlives the crash")

        // The next tidy repairs it (the role's lock is free: its writer is gone).
        try assertTidyRotatesAgainOnceAWSFinishes(env, userID: userID, stored: stored)
        XCTAssertFalse(FileManager.default.fileExists(atPath: intent.path))
    }

    /// `agent` stops within a second of SIGTERM even while a rotation waits for the user: the stop is
    /// passed on to the plugin, whose wait ends like a lost connection; the next tidy repairs it.
    func testTheAgentStopsPromptlyWhileARotationWaitsForTheUser() throws {
        let (env, userID, stored) = try staticRoleWithKeys(userActiveTimeout: "60s")
        try server.setModifyingSeconds(3600)
        try makeRoleDue("app")
        let err = folder.url.appendingPathComponent("agent.err")
        let (agent, pluginPID) = try startWaitingRotation(["agent", "-interval=1s"], env, stderr: err)
        let stopped = Date()
        kill(agent.processIdentifier, SIGTERM)
        agent.waitUntilExit()
        XCTAssertLessThan(Date().timeIntervalSince(stopped), 2.5)
        XCTAssertEqual(agent.terminationStatus, 0)
        XCTAssertTrue(!FileManager.default.fileExists(atPath: "/proc/\(pluginPID)") || isZombie(pluginPID))
        let errors = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        XCTAssertTrue(errors.contains("dbsecrets stopped while waiting for user \(userID) to be active"), errors)
        try assertTidyRotatesAgainOnceAWSFinishes(env, userID: userID, stored: stored)
    }

    /// Starts dbsecrets with these arguments and returns once its plugin is waiting for the user to
    /// be active (the rotation's intent written, ModifyUser sent): the process and the plugin's pid.
    func startWaitingRotation(_ arguments: [String], _ env: [String: String], stderr: URL? = nil) throws -> (Process, Int32) {
        let process = Process()
        process.executableURL = PackageRoot.binary
        process.arguments = arguments
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        if let stderr {
            _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: stderr)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        let intent = state.appendingPathComponent("intents/static-app.json")
        var plugin: Int32?
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && (plugin == nil || !FileManager.default.fileExists(atPath: intent.path)) {
            plugin = children(of: process.processIdentifier).first
            Thread.sleep(forTimeInterval: 0.05)
        }
        let pluginPID = try XCTUnwrap(plugin, "the plugin process was not started")
        Thread.sleep(forTimeInterval: 0.5)  // ModifyUser sent; now waiting
        return (process, pluginPID)
    }

    /// Process ids whose parent is `pid`, from /proc.
    func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { candidate in
            guard let stat = try? String(contentsOfFile: "/proc/\(candidate)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == pid
        }
    }

    func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return true
        }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }

    /// A connection with the test key pair and this `user_active_timeout`, and a static role `app`
    /// on a new user, rotated once: the environment, the user's id and its stored password.
    func staticRoleWithKeys(userActiveTimeout: String) throws -> (env: [String: String], userID: String, stored: String) {
        let env = environment(["AWS_ACCESS_KEY_ID": server.accessKeyID, "AWS_SECRET_ACCESS_KEY": server.secretAccessKey])
        let userID = ElastiCacheTestServer.uniqueUserID()
        try server.createUser(userID, password: "initial-password-123456")
        var r = try run(["write", "database/config/ec", "plugin_name=redis-elasticache-database-plugin", "url=x",
                         "allowed_roles=*", "user_active_timeout=\(userActiveTimeout)"], env)
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try run(["write", "database/static-roles/app", "db_name=ec", "username=\(userID)", "rotation_period=1h"], env)
        XCTAssertEqual(r.status, 0, r.stderr)
        return (env, userID, try run(["read", "-field=password", "database/static-creds/app"], env).stdout)
    }

    /// AWS finishes the pending change (the stored password stops working); the next tidy settles
    /// the rotation's intent by rotating again, and the password it stores logs in.
    func assertTidyRotatesAgainOnceAWSFinishes(_ env: [String: String], userID: String, stored: String,
                                               file: StaticString = #filePath, line: UInt = #line) throws {
        try server.setModifyingSeconds(0)
        try server.setStatus(userID, "active")
        XCTAssertFalse(try server.redisLogin(userID, stored), file: file, line: line)
        let r = try run(["tidy"], env)
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stdout.hasPrefix("interrupted static rotation settled: app (no known password logs in; rotated again"),
                      r.stdout, file: file, line: line)
        let rotated = try run(["read", "-field=password", "database/static-creds/app"], env).stdout
        XCTAssertNotEqual(rotated, stored, file: file, line: line)
        XCTAssertTrue(try server.redisLogin(userID, rotated), file: file, line: line)
    }

    // MARK: State helpers

    func stateObject(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: state.appendingPathComponent(path))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// What the clock would do: the role's next rotation (or retry) is now. No dbsecrets process
    /// runs meanwhile, so the file is not being written.
    func makeRoleDue(_ name: String) throws {
        var role = try stateObject("static-roles/\(name).json")
        let past = "2020-01-01T00:00:00.000Z"
        if role["retry_at"] != nil { role["retry_at"] = past }
        role["next_vault_rotation"] = past
        try JSONSerialization.data(withJSONObject: role, options: [.prettyPrinted])
            .write(to: state.appendingPathComponent("static-roles/\(name).json"))
    }
}
