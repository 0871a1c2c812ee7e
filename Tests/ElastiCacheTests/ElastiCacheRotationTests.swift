@testable import ElastiCachePlugin
import Foundation
import Glibc
import TestSupport
import XCTest

/// Static-role rotation against the local ElastiCache endpoint (which checks every signature with
/// botocore) and the real redis-server it manages: a rotation is proven by logging in to Redis.
final class ElastiCacheRotationTests: XCTestCase {
    var server: ElastiCacheTestServer!
    /// Fast backoff so retry tests take milliseconds; same attempt count as the default.
    let fast = AWSRetryPolicy(maxAttempts: 3, requestTimeout: 5, baseDelay: 0.01, maxDelay: 0.05, totalTimeout: 10)

    override func setUpWithError() throws {
        server = try ElastiCacheTestServer.fromEnvironment()
        try server.resetFailures()
    }

    func plugin(_ config: [String: JSONValue]? = nil, environment: [String: String] = ["HOME": "/nonexistent"],
                retry: AWSRetryPolicy? = nil, verify: Bool = true) throws -> ElastiCachePlugin {
        let plugin = ElastiCachePlugin.forTests(environment, retryPolicy: retry ?? fast)
        _ = try plugin.initialize(InitializeRequest(config: config ?? server.config(), verifyConnection: verify))
        return plugin
    }

    func rotate(_ plugin: ElastiCachePlugin, _ userID: String, to password: String) throws {
        _ = try plugin.updateUser(UpdateUserRequest(
            username: userID, password: PasswordChange(newPassword: password, statements: [])))
    }

    func message(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    /// A user whose Redis login name differs from its ElastiCache UserId, as on AWS.
    func makeUser(password: String = "initial-password-0001") throws -> (id: String, login: String) {
        let id = ElastiCacheTestServer.uniqueUserID()
        let login = id.replacingOccurrences(of: "-", with: "_") + "_login"
        try server.createUser(id, userName: login, password: password)
        XCTAssertTrue(try server.redisLogin(login, password))
        return (id, login)
    }

    // MARK: Rotation

    func testRotationSetsTheNewRedisPasswordAndRetiresTheOld() throws {
        let user = try makeUser()
        let plugin = try plugin()
        defer { plugin.close() }
        // Reserved characters must survive form encoding (a raw '+' would arrive as a space).
        let new = "n3w+Pa$$=w0rd&%~!#-rotated"
        try rotate(plugin, user.id, to: new)
        XCTAssertTrue(try server.redisLogin(user.login, new))
        XCTAssertFalse(try server.redisLogin(user.login, "initial-password-0001"))

        // And again: each rotation replaces the password list.
        try rotate(plugin, user.id, to: "second-rotation-00000002")
        XCTAssertTrue(try server.redisLogin(user.login, "second-rotation-00000002"))
        XCTAssertFalse(try server.redisLogin(user.login, new))
    }

    func testDeprecatedUsernameAndPasswordWorkAsTheKeyPair() throws {
        let user = try makeUser()
        var config = server.config()
        config["username"] = config.removeValue(forKey: "access_key_id")
        config["password"] = config.removeValue(forKey: "secret_access_key")
        let plugin = try plugin(config)
        defer { plugin.close() }
        try rotate(plugin, user.id, to: "via-deprecated-fields-01")
        XCTAssertTrue(try server.redisLogin(user.login, "via-deprecated-fields-01"))
    }

    func testSessionCredentialsAndEndpointFromTheEnvironment() throws {
        let user = try makeUser()
        let environment = [
            "HOME": "/nonexistent",
            "AWS_ACCESS_KEY_ID": server.sessionAccessKeyID,
            "AWS_SECRET_ACCESS_KEY": server.sessionSecretAccessKey,
            "AWS_SESSION_TOKEN": server.sessionToken,
            "AWS_REGION": server.region,
            "AWS_ENDPOINT_URL_ELASTICACHE": server.endpoint,
            "AWS_ENDPOINT_URL": "http://127.0.0.1:1/",
        ]
        let plugin = try plugin(["url": "primary.example:6379"], environment: environment)
        defer { plugin.close() }
        XCTAssertEqual(plugin.credentialSource, "environment")
        try rotate(plugin, user.id, to: "from-the-environment-01")
        XCTAssertTrue(try server.redisLogin(user.login, "from-the-environment-01"))

        // The endpoint accepts that key only with its token.
        var noToken = environment
        noToken["AWS_SESSION_TOKEN"] = nil
        let refused = message { _ = try self.plugin(["url": "x"], environment: noToken) }
        XCTAssertTrue(refused.contains("StatusCode: 403"), refused)
        XCTAssertTrue(refused.hasSuffix("InvalidClientTokenId: The security token included in the request is invalid."),
                      refused)
    }

    func testVerifyConnectionCallsDescribeUsersOnlyWhenAsked() throws {
        try server.injectFailure(status: 400, code: "AccessDenied", message: "User is not authorized to perform: elasticache:DescribeUsers")
        let unverified = try plugin(verify: false)
        unverified.close()
        let refused = message { _ = try self.plugin() }
        XCTAssertTrue(refused.hasPrefix("unable to verify ElastiCache API access (region \"\(server.region)\"): "
            + "operation error ElastiCache: DescribeUsers, https response error StatusCode: 400, RequestID: "), refused)
        XCTAssertTrue(refused.hasSuffix("AccessDenied: User is not authorized to perform: elasticache:DescribeUsers"),
                      refused)
    }

    // MARK: Refusals from the API

    func testUserNotActiveIsRefusedBeforeModifyUser() throws {
        let user = try makeUser()
        try server.setStatus(user.id, "modifying")
        let plugin = try plugin()
        defer { plugin.close() }
        XCTAssertThrowsError(try rotate(plugin, user.id, to: "never-applied-0000001")) {
            XCTAssertEqual($0 as? PluginError, PluginError(.database,
                "user \(user.id) cannot be updated because it is not in the 'active' state"))
        }
        XCTAssertTrue(try server.redisLogin(user.login, "initial-password-0001"))
    }

    /// On AWS a user is `modifying` for a while after ModifyUser, and the new password works only
    /// once it is `active` again (the endpoint applies it to Redis then): the rotation waits.
    func testRotationReturnsOnlyOnceTheUserIsActiveAndTheNewPasswordWorks() throws {
        let user = try makeUser()
        let plugin = try plugin()
        defer { plugin.close() }
        try server.setModifyingSeconds(0.5)
        let start = Date()
        try rotate(plugin, user.id, to: "first-of-two-rotations-1")
        let waited = Date().timeIntervalSince(start)
        XCTAssertTrue(try server.redisLogin(user.login, "first-of-two-rotations-1"))
        XCTAssertFalse(try server.redisLogin(user.login, "initial-password-0001"))
        XCTAssertGreaterThan(waited, 0.45)
        XCTAssertLessThan(waited, 2, "checks at 0, 0.25, 0.75 s, …")
        // Active again, so a second rotation right away is not refused.
        try server.setModifyingSeconds(0)
        try rotate(plugin, user.id, to: "second-of-two-rotations")
        XCTAssertTrue(try server.redisLogin(user.login, "second-of-two-rotations"))
    }

    func testUserThatNeverBecomesActiveFailsTheRotationAfterUserActiveTimeout() throws {
        let user = try makeUser()
        let plugin = try plugin(server.config(["user_active_timeout": "500ms"]))
        defer { plugin.close() }
        try server.setModifyingSeconds(3600)
        let start = Date()
        XCTAssertThrowsError(try rotate(plugin, user.id, to: "never-becomes-active-01")) {
            XCTAssertEqual($0 as? PluginError, PluginError(.database, "ModifyUser was accepted but user \(user.id) was "
                + "still 'modifying' after 0.5s (user_active_timeout): the new password may not work yet, so the "
                + "rotation is not done", outcome: .unknown), "ModifyUser was accepted: the password may change")
        }
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertGreaterThan(elapsed, 0.45)
        XCTAssertLessThan(elapsed, 1.5)
        XCTAssertTrue(try server.redisLogin(user.login, "initial-password-0001"), "AWS has not applied it yet")
        // The engine's retry finds the user still modifying and is refused before any change.
        XCTAssertThrowsError(try rotate(plugin, user.id, to: "retried-too-early-0001")) {
            XCTAssertEqual(($0 as? PluginError)?.message,
                           "user \(user.id) cannot be updated because it is not in the 'active' state")
        }
    }

    func testAUserThatTurnsToAnotherStateIsNotWaitedFor() throws {
        let user = try makeUser()
        let plugin = try plugin()
        defer { plugin.close() }
        try server.setModifyingSeconds(3600)
        let server = self.server!
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { try? server.setStatus(user.id, "deleting") }
        let start = Date()
        XCTAssertThrowsError(try rotate(plugin, user.id, to: "user-being-deleted-0001")) {
            XCTAssertEqual(($0 as? PluginError)?.message,
                           "ModifyUser was accepted but user \(user.id) is now 'deleting', not 'active'")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 3)
    }

    func testUserActiveTimeoutZeroDoesNotWaitAsUpstream() throws {
        let user = try makeUser()
        let plugin = try plugin(server.config(["user_active_timeout": 0]))
        defer { plugin.close() }
        try server.setModifyingSeconds(0.5)
        try rotate(plugin, user.id, to: "not-waited-for-000001")
        XCTAssertTrue(try server.redisLogin(user.login, "initial-password-0001"), "handed out before it works")
        XCTAssertThrowsError(try rotate(plugin, user.id, to: "too-early-rotation-0001"))
    }

    func testUserActiveTimeoutIsValidated() {
        for bad: JSONValue in ["soon", "-1s", "61m", 3601] {
            XCTAssertThrowsError(try plugin(server.config(["user_active_timeout": bad]), verify: false), "\(bad)") {
                XCTAssertEqual(($0 as? PluginError)?.kind, .invalidConfiguration)
                XCTAssertTrue("\($0)".hasPrefix("invalid value for user_active_timeout"), "\($0)")
            }
        }
    }

    func testUnknownUser() throws {
        let plugin = try plugin()
        defer { plugin.close() }
        let id = ElastiCacheTestServer.uniqueUserID("nobody")
        let text = message { try self.rotate(plugin, id, to: "abcdefghijklmnopqrstuvwxyz1") }
        XCTAssertTrue(text.hasPrefix("unable to get user \(id): operation error ElastiCache: DescribeUsers, "
            + "https response error StatusCode: 404, RequestID: "), text)
        XCTAssertTrue(text.hasSuffix(", UserNotFound: User \(id) not found."), text)
    }

    func testWrongSecretKeyIsRefusedByTheSignatureCheck() throws {
        let wrongSecret = "wrong-secret-key/not+the+one"
        let text = message { _ = try self.plugin(self.server.config(["secret_access_key": .string(wrongSecret)])) }
        XCTAssertTrue(text.hasPrefix("unable to verify ElastiCache API access (region \"\(server.region)\"): "
            + "operation error ElastiCache: DescribeUsers, https response error StatusCode: 403"), text)
        XCTAssertTrue(text.hasSuffix("SignatureDoesNotMatch: The request signature we calculated does not match the "
            + "signature you provided. Check your AWS Secret Access Key and signing method. Consult the service "
            + "documentation for details."), text)
        XCTAssertFalse(text.contains(wrongSecret))
        XCTAssertFalse(text.contains(server.secretAccessKey))
    }

    func testUnknownAccessKeyAndWrongRegion() throws {
        let unknown = message { _ = try self.plugin(self.server.config(["access_key_id": "AKIDUNKNOWN"])) }
        XCTAssertTrue(unknown.hasSuffix("InvalidClientTokenId: The security token included in the request is invalid."),
                      unknown)
        let region = message { _ = try self.plugin(self.server.config(["region": "eu-central-1"])) }
        XCTAssertTrue(region.hasPrefix("unable to verify ElastiCache API access (region \"eu-central-1\"): "), region)
        XCTAssertTrue(region.hasSuffix("SignatureDoesNotMatch: Credential should be scoped to a valid region, not "
            + "'eu-central-1'."), region)
    }

    // MARK: Retries and bad responses

    func testThrottlingIsRetriedUpToThreeAttempts() throws {
        let user = try makeUser()
        let plugin = try plugin()
        defer { plugin.close() }
        try server.injectFailure(count: 2)
        try rotate(plugin, user.id, to: "after-two-throttles-01")
        XCTAssertTrue(try server.redisLogin(user.login, "after-two-throttles-01"))

        try server.injectFailure(count: 3)
        let text = message { try self.rotate(plugin, user.id, to: "after-three-throttles-1") }
        XCTAssertTrue(text.hasPrefix("unable to get user \(user.id): operation error ElastiCache: DescribeUsers, "
            + "exceeded maximum number of attempts, 3, https response error StatusCode: 400, RequestID: "), text)
        XCTAssertTrue(text.hasSuffix("Throttling: Rate exceeded"), text)
        XCTAssertTrue(try server.redisLogin(user.login, "after-two-throttles-01"))
    }

    func testServerErrorsAreRetriedButClientErrorsAreNot() throws {
        let user = try makeUser()
        let plugin = try plugin()
        defer { plugin.close() }
        try server.injectFailure(count: 2, status: 503, code: "ServiceUnavailable", message: "Service is unavailable.")
        try rotate(plugin, user.id, to: "after-two-503s-0000001")
        XCTAssertTrue(try server.redisLogin(user.login, "after-two-503s-0000001"))

        // One 400: were it retried, the second attempt would succeed.
        try server.injectFailure(count: 1, status: 400, code: "InvalidParameterValue", message: "Bad value.")
        let text = message { try self.rotate(plugin, user.id, to: "not-retried-000000001") }
        XCTAssertTrue(text.hasSuffix("InvalidParameterValue: Bad value."), text)
        XCTAssertFalse(text.contains("attempts"), text)
        XCTAssertTrue(try server.redisLogin(user.login, "after-two-503s-0000001"))
    }

    func testMalformedAndUnexpectedXML() throws {
        let user = try makeUser()
        let plugin = try plugin()
        defer { plugin.close() }
        try server.injectFailure(status: 200, body: "<DescribeUsersResponse><DescribeUsersResult><Users>")
        let malformed = message { try self.rotate(plugin, user.id, to: "never-applied-0000001") }
        XCTAssertTrue(malformed.hasPrefix("unable to get user \(user.id): operation error ElastiCache: DescribeUsers, "
            + "deserialization failed: invalid XML at line "), malformed)

        try server.injectFailure(status: 200, body: "<GetCallerIdentityResponse/>")
        let unexpected = message { try self.rotate(plugin, user.id, to: "never-applied-0000001") }
        XCTAssertEqual(unexpected, "unable to get user \(user.id): operation error ElastiCache: DescribeUsers, "
            + "deserialization failed: expected <DescribeUsersResponse>, got <GetCallerIdentityResponse>")

        try server.injectFailure(count: 3, status: 502, body: "<html><body>Bad Gateway</body></html>",
                                 contentType: "text/html")
        let html = message { try self.rotate(plugin, user.id, to: "never-applied-0000001") }
        XCTAssertTrue(html.contains("exceeded maximum number of attempts, 3, https response error StatusCode: 502"), html)
        XCTAssertTrue(html.hasSuffix("response is not AWS error XML (Content-Type: text/html)"), html)
        XCTAssertTrue(try server.redisLogin(user.login, "initial-password-0001"))
    }

    /// What a failed ModifyUser left, for the engine's recovery: only AWS's own refusal, with no
    /// earlier attempt unanswered, means the password was not changed.
    func testOnlyARefusalOfEveryAttemptCountsAsUnchanged() throws {
        let user = try makeUser()
        let client = ElastiCacheClient(endpoint: URL(string: server.endpoint)!, region: server.region,
                                       credentials: AWSCredentialCache(StaticCredentialProvider(AWSCredentials(
                                           accessKeyID: server.accessKeyID, secretAccessKey: server.secretAccessKey,
                                           source: "test"))), retryPolicy: fast, http: HTTPClient(timeout: 5))
        func failure() throws -> AWSAPIError {
            do {
                try client.modifyUser(userID: user.id, passwords: ["never-applied-0000001"])
            } catch let error as AWSAPIError {
                return error
            }
            XCTFail("ModifyUser did not fail")
            return AWSAPIError(service: "ElastiCache", action: "ModifyUser", failure: .malformed("no failure"))
        }
        try server.injectFailure(status: 400, code: "InvalidParameterValue", message: "Bad value.")
        XCTAssertTrue(try failure().isRefusal)
        try server.injectFailure(count: 3, status: 503, code: "ServiceUnavailable", message: "Unavailable.")
        XCTAssertFalse(try failure().isRefusal)
        try server.injectFailure(count: 1, status: 503, code: "ServiceUnavailable", message: "Unavailable.")
        try server.injectFailure(count: 1, status: 400, code: "InvalidUserState", message: "User is not in active state.")
        let afterAnUnknown = try failure()
        XCTAssertEqual(afterAnUnknown.code, "InvalidUserState")
        XCTAssertFalse(afterAnUnknown.isRefusal, "the first attempt may have changed the user")
    }

    // MARK: Bounded waits

    func testHungEndpointTimesOutNamingHostAndPort() throws {
        let slow = AWSRetryPolicy(maxAttempts: 1, requestTimeout: 1)
        try server.injectFailure(status: 200, body: "<late/>", delay: 3)
        let start = Date()
        let text = message { _ = try self.plugin(retry: slow) }
        let address = server.endpoint.replacingOccurrences(of: "http://", with: "")
        XCTAssertTrue(text.hasSuffix("https request failed: request to \(address) timed out after 1s"), text)
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertGreaterThan(elapsed, 0.9)
        XCTAssertLessThan(elapsed, 1.8)
    }

    func testUnreachableEndpointFailsFastNamingHostAndPort() throws {
        let port = try freePort()
        let start = Date()
        let text = message { _ = try self.plugin(self.server.config(["endpoint": .string("http://127.0.0.1:\(port)")])) }
        XCTAssertTrue(text.hasSuffix("exceeded maximum number of attempts, 3, https request failed: could not reach "
            + "127.0.0.1:\(port): connection refused"), text)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }
}

/// A port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
private func freePort() throws -> Int {
    let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { Glibc.close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw TestRequirement.missing("cannot bind a local port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
