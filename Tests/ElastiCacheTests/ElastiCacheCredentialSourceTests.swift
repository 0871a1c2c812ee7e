@testable import ElastiCachePlugin
import DBPlugin
import Foundation
import TestSupport
import XCTest

/// Each place the AWS default chain finds credentials, against the local doubles (STS, instance
/// metadata, container credentials: proven with botocore when they start), each proved by a
/// rotation the ElastiCache endpoint accepts (it verifies every signature and session token, and
/// refuses expired ones) and a Redis login with the new password.
final class ElastiCacheCredentialSourceTests: XCTestCase {
    var server: ElastiCacheTestServer!
    var folder: TemporaryFolder!
    let role = "arn:aws:iam::123456789012:role/dbsecrets-test-role"
    let fast = AWSRetryPolicy(maxAttempts: 3, requestTimeout: 5, baseDelay: 0.01, maxDelay: 0.05, totalTimeout: 10)

    override func setUpWithError() throws {
        server = try ElastiCacheTestServer.fromEnvironment()
        try server.resetFailures()
        folder = TemporaryFolder("elasticache-sources")
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent(".aws"), withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? server?.resetFailures()
        folder?.remove()
    }

    /// No keys anywhere, the API at the double; instance metadata off unless a test turns it on.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        ["HOME": folder.path, "PATH": "/usr/bin:/bin", "AWS_REGION": server.region,
         "AWS_ENDPOINT_URL_ELASTICACHE": server.endpoint, "AWS_EC2_METADATA_DISABLED": "true"]
            .merging(extra) { _, new in new }
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let url = folder.url.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    var baseProfile: String {
        "[profile base]\naws_access_key_id = \(server.accessKeyID)\naws_secret_access_key = \(server.secretAccessKey)\n"
    }

    func plugin(_ environment: [String: String], config: [String: JSONValue] = ["url": "primary.example:6379"],
                addresses: AWSMetadataAddresses = .closedLoopback) throws -> ElastiCachePlugin {
        let plugin = ElastiCachePlugin.forTests(environment, retryPolicy: fast, addresses: addresses)
        _ = try plugin.initialize(InitializeRequest(config: config, verifyConnection: true))
        return plugin
    }

    func error(_ body: () throws -> Void) -> PluginError? {
        do {
            try body()
            return nil
        } catch {
            return error as? PluginError ?? PluginError(.database, "\(error)")
        }
    }

    /// Rotates a fresh user and logs in with the new password.
    func assertRotates(_ plugin: ElastiCachePlugin, file: StaticString = #filePath, line: UInt = #line) throws {
        let id = ElastiCacheTestServer.uniqueUserID()
        try server.createUser(id, password: "initial-password-0001")
        let password = "rotated-\(UUID().uuidString.prefix(12))"
        _ = try plugin.updateUser(UpdateUserRequest(username: id, password: PasswordChange(newPassword: password, statements: [])))
        XCTAssertTrue(try server.redisLogin(id, password), file: file, line: line)
    }

    // MARK: Instance metadata

    func testInstanceRoleThroughIMDSv2() throws {
        let before = try server.issuedCount("imds")
        let plugin = try plugin(environment(["AWS_EC2_METADATA_DISABLED": "false",
                                             "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.instanceMetadataEndpoint]))
        defer { plugin.close() }
        XCTAssertEqual(plugin.credentialSource, "EC2 instance metadata at \(server.instanceMetadataEndpoint)/ "
            + "(role dbsecrets-test-instance-role)")
        try assertRotates(plugin)
        XCTAssertEqual(try server.issuedCount("imds"), before + 1, "fetched once, reused while valid")
    }

    func testInstanceMetadataThatNeverAnswersFailsWithinItsOneSecondSayingWhereItLooked() throws {
        let silent = try SilentListener()
        defer { silent.close() }
        let start = Date()
        let failure = error {
            _ = try self.plugin(self.environment(["AWS_EC2_METADATA_DISABLED": "",
                                                  "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(silent.port)"]))
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        XCTAssertEqual(failure?.kind, .invalidConfiguration)
        let message = failure?.message ?? ""
        XCTAssertTrue(message.hasPrefix("unable to retrieve AWS credentials from provider chain: no AWS credentials found in "
            + "the configuration (access_key_id, secret_access_key), the environment"), message)
        XCTAssertTrue(message.hasSuffix("or EC2 instance metadata (EC2 instance metadata at http://127.0.0.1:\(silent.port)/: "
            + "the IMDSv2 token request failed: request to 127.0.0.1:\(silent.port) timed out after 1s)"), message)
    }

    /// With nothing set, the last resort is AWS's own address: the chain goes there (here a closed
    /// loopback port stands in for it) and fails at once when nothing answers.
    func testTheDefaultInstanceMetadataAddressIsTheLastResort() throws {
        var env = environment()
        env["AWS_EC2_METADATA_DISABLED"] = nil
        let failure = error { _ = try self.plugin(env) }
        XCTAssertTrue(failure?.message.hasSuffix("(EC2 instance metadata at http://127.0.0.1:1/: the IMDSv2 token request "
            + "failed: could not reach 127.0.0.1:1: connection refused)") == true, "\(String(describing: failure))")
        XCTAssertEqual(AWSMetadataAddresses.aws.instanceMetadataIPv4, "http://169.254.169.254/")
        env["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"] = "IPv6"
        XCTAssertTrue(error { _ = try self.plugin(env) }?.message.contains("EC2 instance metadata at http://[::1]:1/") == true)
    }

    // MARK: Container credentials

    func testECSTaskRoleFromTheRelativeURI() throws {
        let addresses = AWSMetadataAddresses(containerBase: server.containerEndpoint, instanceMetadataIPv4: "http://127.0.0.1:1/",
                                             instanceMetadataIPv6: "http://[::1]:1/")
        let plugin = try plugin(environment(["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/dbsecrets-task"]),
                                addresses: addresses)
        defer { plugin.close() }
        XCTAssertEqual(plugin.credentialSource, "container credentials at \(server.containerEndpoint)/v2/credentials/dbsecrets-task")
        try assertRotates(plugin)
        XCTAssertEqual(AWSMetadataAddresses.aws.containerBase, "http://169.254.170.2")
    }

    func testEKSPodIdentityFromTheFullURIWithTheTokenFileReadAtEachRefresh() throws {
        try server.setContainerToken("pod-token-one")
        let tokenFile = try write("pod-token", "pod-token-one")
        let env = environment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.containerEndpoint + "/v1/credentials",
                               "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile,
                               "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored-when-the-file-is-set"])
        let plugin = try plugin(env)
        defer { plugin.close() }
        try assertRotates(plugin)

        // The agent rotates the token in the file; a wrong one is refused with the endpoint's reason.
        try server.setContainerToken("pod-token-two")
        try write("pod-token", "pod-token-two")
        let again = try self.plugin(env)
        try assertRotates(again)
        try write("pod-token", "stale-token")
        let refused = error { _ = try self.plugin(env) }
        XCTAssertEqual(refused, PluginError(.connection, "unable to retrieve AWS credentials from provider chain: container "
            + "credentials at \(server.containerEndpoint)/v1/credentials: HTTP 403: AccessDeniedException: The service "
            + "account token is invalid"))
        try write("pod-token", "two\r\nX-Injected: 1")
        XCTAssertEqual(error { _ = try self.plugin(env) }?.message, "unable to retrieve AWS credentials from provider chain: "
            + "container credentials at \(server.containerEndpoint)/v1/credentials: the token in \(tokenFile) contains a line break")
    }

    func testContainerFullURIOverPlainHTTPMustBeLocal() {
        let failure = error {
            _ = try self.plugin(self.environment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://credentials.example.com/v1"]))
        }
        XCTAssertEqual(failure?.kind, .invalidConfiguration)
        XCTAssertEqual(failure?.message, "unable to retrieve AWS credentials from provider chain: container credentials: "
            + "AWS_CONTAINER_CREDENTIALS_FULL_URI \"http://credentials.example.com/v1\": plain http is only allowed to a "
            + "loopback address or 169.254.170.2, 169.254.170.23, fd00:ec2::23, localhost; use https")
        for allowed in ["http://127.0.0.2:9/v1", "http://[::1]:9/x", "http://localhost:9/x", "http://169.254.170.23/v1",
                        "https://credentials.example.com/v1"] {
            XCTAssertNoThrow(try ContainerCredentialProvider.fullURL(allowed), allowed)
        }
    }

    // MARK: STS AssumeRole from profiles

    func testAssumeRoleFromASourceProfileSignedWithOurSigV4() throws {
        try write(".aws/config", "[profile app]\nrole_arn = \(role)\nsource_profile = base\nrole_session_name = dbsecrets-test\n\n"
            + baseProfile)
        let before = try server.issuedCount("assume-role")
        let plugin = try plugin(environment(["AWS_PROFILE": "app", "AWS_ENDPOINT_URL_STS": server.stsEndpoint]))
        defer { plugin.close() }
        XCTAssertEqual(plugin.credentialSource, "profile \"app\" of \(folder.path)/.aws/credentials and "
            + "\(folder.path)/.aws/config: assume role \(role)")
        try assertRotates(plugin)
        XCTAssertEqual(try server.issuedCount("assume-role"), before + 1)
    }

    func testChainedRolesAndExternalID() throws {
        let second = "arn:aws:iam::123456789012:role/dbsecrets-second-role"
        try server.requireExternalID("ext-1234", forRole: second)
        try write(".aws/config", """
            [profile app]
            role_arn = \(second)
            source_profile = middle
            external_id = ext-1234

            [profile middle]
            role_arn = \(role)
            source_profile = base

            \(baseProfile)
            """)
        let before = try server.issuedCount("assume-role")
        let plugin = try plugin(environment(["AWS_PROFILE": "app", "AWS_ENDPOINT_URL": server.stsEndpoint,
                                             "AWS_ENDPOINT_URL_ELASTICACHE": server.endpoint]))
        defer { plugin.close() }
        try assertRotates(plugin)
        XCTAssertEqual(try server.issuedCount("assume-role"), before + 2, "base → role → second role")

        try write(".aws/config", "[profile app]\nrole_arn = \(second)\nsource_profile = base\n\n" + baseProfile)
        let refused = error { _ = try self.plugin(self.environment(["AWS_PROFILE": "app", "AWS_ENDPOINT_URL_STS": self.server.stsEndpoint])) }
        XCTAssertEqual(refused?.kind, .connection)
        XCTAssertTrue(refused?.message.hasPrefix("unable to retrieve AWS credentials from provider chain: profile \"app\" of "
            + "\(folder.path)/.aws/credentials and \(folder.path)/.aws/config: assume role \(second): operation error STS: "
            + "AssumeRole, https response error StatusCode: 403, RequestID: ") == true, "\(String(describing: refused))")
        XCTAssertTrue(refused?.message.hasSuffix("AccessDenied: User is not authorized to perform: sts:AssumeRole on resource: "
            + second) == true)
        XCTAssertFalse(refused?.message.contains(server.secretAccessKey) == true)
    }

    func testCredentialSourceEnvironmentAndEc2InstanceMetadataAndEcsContainer() throws {
        try write(".aws/config", """
            [profile from-env]
            role_arn = \(role)
            credential_source = Environment

            [profile from-instance]
            role_arn = \(role)
            credential_source = Ec2InstanceMetadata

            [profile from-container]
            role_arn = \(role)
            credential_source = EcsContainer
            """)
        let sts = ["AWS_ENDPOINT_URL_STS": server.stsEndpoint]
        // The environment's keys come first in the chain, as in the SDKs, whatever the profile says…
        let keys = ["AWS_ACCESS_KEY_ID": server.accessKeyID, "AWS_SECRET_ACCESS_KEY": server.secretAccessKey]
        let chain = AWSCredentialChain(environment: AWSEnvironment(environment(sts.merging(keys) { $1 })), region: server.region,
                                       retryPolicy: fast, apiHTTP: HTTPClient(timeout: 5), addresses: .closedLoopback)
        XCTAssertEqual(try chain.provider(accessKeyID: "", secretAccessKey: "").source, "environment")
        // …so credential_source = Environment matters where a profile is resolved as such: its role,
        // signed with the environment's keys.
        let viaRole = try XCTUnwrap(try chain.profileProvider("from-env", chain: []))
        let assumed = try viaRole.retrieve()
        XCTAssertTrue(assumed.accessKeyID.hasPrefix("ASIA") && assumed.sessionToken != nil)
        let client = ElastiCacheClient(endpoint: URL(string: server.endpoint)!, region: server.region,
                                       credentials: AWSCredentialCache(StaticCredentialProvider(assumed)), retryPolicy: fast,
                                       http: HTTPClient(timeout: 5))
        XCTAssertFalse(try client.describeUsers().isEmpty)

        let before = try server.issuedCount("imds")
        let fromInstance = try plugin(environment(sts.merging(["AWS_PROFILE": "from-instance", "AWS_EC2_METADATA_DISABLED": "",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.instanceMetadataEndpoint]) { $1 }))
        try assertRotates(fromInstance)
        XCTAssertEqual(try server.issuedCount("imds"), before + 1, "the instance's credentials signed AssumeRole")
        XCTAssertTrue(fromInstance.credentialSource?.hasSuffix("assume role \(role)") == true)

        try server.setContainerToken("pod-token")
        let fromContainer = try plugin(environment(sts.merging(["AWS_PROFILE": "from-container",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.containerEndpoint + "/v1/credentials",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "pod-token"]) { $1 }))
        try assertRotates(fromContainer)

        let disabled = error { _ = try self.plugin(self.environment(sts.merging(["AWS_PROFILE": "from-instance"]) { $1 })) }
        XCTAssertTrue(disabled?.message.hasSuffix("credential_source Ec2InstanceMetadata: AWS_EC2_METADATA_DISABLED is true") == true,
                      "\(String(describing: disabled))")
    }

    // MARK: credential_process

    func testCredentialProcessRunsWithoutAShellAndItsJSONSigns() throws {
        let marker = folder.url.appendingPathComponent("shell-ran").path
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("bin dir"), withIntermediateDirectories: true)
        let script = try write("bin dir/print creds", """
            #!/bin/sh
            # The arguments arrive as words, never through a shell.
            [ "$1" = "--profile" ] && [ "$2" = "two words" ] && [ "$3" = '$HOME;touch \(marker)' ] || { echo "bad args: $*" >&2; exit 3; }
            cat <<JSON
            {"Version": 1, "AccessKeyId": "\(server.sessionAccessKeyID)", "SecretAccessKey": "\(server.sessionSecretAccessKey)",
             "SessionToken": "\(server.sessionToken)", "Expiration": "2099-01-01T00:00:00Z"}
            JSON
            """)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        let quoted = script.replacingOccurrences(of: " ", with: "\\ ")
        try write(".aws/config", "[default]\ncredential_process = \(quoted) --profile \"two words\" '$HOME;touch \(marker)'\n")
        let plugin = try plugin(environment())
        defer { plugin.close() }
        XCTAssertEqual(plugin.credentialSource, "profile \"default\" of \(folder.path)/.aws/credentials and "
            + "\(folder.path)/.aws/config: credential_process")
        try assertRotates(plugin)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))
    }

    func testCredentialProcessFailuresNameTheProcessNeverItsOutput() throws {
        let cases: [(String, String)] = [
            ("exit 7", "sh exited with status 7 (its standard error is shown above)"),
            ("echo '{\"Version\": 2, \"AccessKeyId\": \"AKIDSECRETISH\", \"SecretAccessKey\": \"s3cret\"}'",
             "the output's Version is not 1 (the only version there is)"),
            ("echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDSECRETISH\"}'", "the output has no SecretAccessKey string"),
            ("echo 'AKIDSECRETISH s3cret'", "the output is not a JSON object"),
            ("echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDSECRETISH\", \"SecretAccessKey\": \"s3cret\", \"Expiration\": \"soon\"}'",
             "the output's Expiration is not an RFC 3339 timestamp"),
        ]
        for (body, reason) in cases {
            try write(".aws/config", "[default]\ncredential_process = sh -c \"\(body.replacingOccurrences(of: "\"", with: "\\\""))\"\n")
            let failure = error { _ = try self.plugin(self.environment()) }
            XCTAssertEqual(failure?.message, "unable to retrieve AWS credentials from provider chain: profile \"default\" of "
                + "\(folder.path)/.aws/credentials and \(folder.path)/.aws/config: credential_process: \(reason)", body)
            XCTAssertFalse(failure?.message.contains("s3cret") == true)
        }
        try write(".aws/config", "[default]\ncredential_process = no-such-credential-helper --x\n")
        XCTAssertTrue(error { _ = try self.plugin(self.environment()) }?.message
            .hasSuffix("credential_process: no-such-credential-helper was not found (PATH is searched when it has no /)") == true)
    }

    func testCredentialProcessIsBoundedInTime() throws {
        let provider = ProcessCredentialProvider(command: "sleep 30", environment: ["PATH": "/usr/bin:/bin"],
                                                 source: "test", timeout: 0.5)
        let start = Date()
        XCTAssertThrowsError(try provider.retrieve()) {
            XCTAssertEqual(($0 as? PluginError)?.message, "unable to retrieve AWS credentials from provider chain: test: "
                + "sleep did not finish within 0.5s")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }

    // MARK: Web identity

    func testIRSAWebIdentityFromTheEnvironmentRereadsTheRotatedToken() throws {
        try server.acceptWebIdentityToken("eyJ.irsa-one")
        let tokenFile = try write("irsa-token", "eyJ.irsa-one\n")
        let env = environment(["AWS_ROLE_ARN": role, "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile,
                               "AWS_ROLE_SESSION_NAME": "dbsecrets-irsa", "AWS_ENDPOINT_URL_STS": server.stsEndpoint])
        try server.setCredentialLifetime(1)
        let before = try server.issuedCount("web-identity")
        let plugin = try plugin(env)
        defer { plugin.close() }
        XCTAssertEqual(plugin.credentialSource, "web identity (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE)")
        try assertRotates(plugin)
        // Kubernetes rotates the token file; the next refresh (the credentials expire) reads it again.
        try server.acceptWebIdentityToken("eyJ.irsa-two")
        try write("irsa-token", "eyJ.irsa-two")
        Thread.sleep(forTimeInterval: 0.6)  // past half their life
        try assertRotates(plugin)
        XCTAssertGreaterThanOrEqual(try server.issuedCount("web-identity"), before + 2)

        try write("irsa-token", "eyJ.not-accepted")
        let refused = error { _ = try self.plugin(env) }
        XCTAssertTrue(refused?.message.hasSuffix("InvalidIdentityToken: The web identity token that was passed could not be "
            + "validated by AWS.") == true, "\(String(describing: refused))")
        XCTAssertFalse(refused?.message.contains("eyJ") == true, "the token never appears")
    }

    func testWebIdentityTokenFileInAProfile() throws {
        try server.acceptWebIdentityToken("eyJ.profile")
        let tokenFile = try write("profile-token", "eyJ.profile")
        try write(".aws/config", "[profile web]\nrole_arn = \(role)\nweb_identity_token_file = \(tokenFile)\n")
        let plugin = try plugin(environment(["AWS_PROFILE": "web", "AWS_ENDPOINT_URL_STS": server.stsEndpoint]))
        defer { plugin.close() }
        XCTAssertTrue(plugin.credentialSource?.hasSuffix(": web identity \(role)") == true)
        try assertRotates(plugin)
        try FileManager.default.removeItem(atPath: tokenFile)
        XCTAssertTrue(error { _ = try self.plugin(self.environment(["AWS_PROFILE": "web", "AWS_ENDPOINT_URL_STS": self.server.stsEndpoint])) }?
            .message.hasSuffix("web identity \(role): cannot read the web identity token file \(tokenFile)") == true)
    }

    // MARK: Refresh

    /// Credentials living a second, a plugin used for longer: every request is signed with valid
    /// ones (the endpoint refuses expired tokens), fetched again before they expire. (When exactly
    /// is pinned with a clock of our own in AWSCredentialChainTests.)
    func testTemporaryCredentialsAreRefreshedBeforeTheyExpire() throws {
        try server.setCredentialLifetime(1)
        let plugin = try plugin(environment(["AWS_EC2_METADATA_DISABLED": "false",
                                             "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.instanceMetadataEndpoint]))
        defer { plugin.close() }
        try assertRotates(plugin)
        let fetched = try server.issuedCount("imds")
        Thread.sleep(forTimeInterval: 1.1)  // the first ones have expired
        try assertRotates(plugin)
        XCTAssertGreaterThan(try server.issuedCount("imds"), fetched)
    }

    /// A wait for `active` that outlives the credentials signs its last checks with fresh ones.
    func testAWaitLongerThanTheCredentialsLiveRefreshesThemMidWay() throws {
        try server.setCredentialLifetime(1)
        let plugin = try plugin(environment(["AWS_EC2_METADATA_DISABLED": "false",
                                             "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.instanceMetadataEndpoint]))
        defer { plugin.close() }
        let before = try server.issuedCount("imds")
        try server.setModifyingSeconds(0.7)  // checks at 0, 0.25 and 0.75 s: the last one past half their life
        try assertRotates(plugin)
        XCTAssertGreaterThanOrEqual(try server.issuedCount("imds"), before + 1)
    }

    /// Credentials the service calls expired before their announced time (a clock apart) are
    /// dropped and fetched again, once, instead of failing the call.
    func testExpiredTokenFromTheServiceRefetchesTheCredentials() throws {
        final class FirstExpired: AWSCredentialProvider {
            let source = "test"
            var calls = 0
            let expired: AWSCredentials, fresh: AWSCredentials
            init(expired: AWSCredentials, fresh: AWSCredentials) { self.expired = expired; self.fresh = fresh }
            func retrieve() throws -> AWSCredentials {
                calls += 1
                return calls == 1 ? expired : fresh
            }
        }
        try server.setCredentialLifetime(0.2)
        let imds = InstanceMetadataProvider(base: URL(string: server.instanceMetadataEndpoint)!, timeout: 2, attempts: 1, notFound: "")
        var expired = try imds.retrieve()
        expired.expiration = Date().addingTimeInterval(3600)  // what a skewed clock would believe
        try server.setCredentialLifetime(3600)
        let fresh = try imds.retrieve()
        Thread.sleep(forTimeInterval: 0.3)
        let provider = FirstExpired(expired: expired, fresh: fresh)
        let client = ElastiCacheClient(endpoint: URL(string: server.endpoint)!, region: server.region,
                                       credentials: AWSCredentialCache(provider), retryPolicy: fast, http: HTTPClient(timeout: 5))
        XCTAssertFalse(try client.describeUsers().isEmpty)
        XCTAssertEqual(provider.calls, 2)
    }

    // MARK: Region and endpoints of STS

    func testSTSIsRegionalByDefault() throws {
        XCTAssertEqual(try AWSEnvironment([:]).stsEndpoint(region: "eu-west-3").absoluteString, "https://sts.eu-west-3.amazonaws.com/")
        XCTAssertEqual(try AWSEnvironment([:]).stsEndpoint(region: "cn-north-1").absoluteString,
                       "https://sts.cn-north-1.amazonaws.com.cn/")
        XCTAssertEqual(try AWSEnvironment(["AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ENDPOINT_URL_STS": "https://sts.vpce.example"])
            .stsEndpoint(region: "r").absoluteString, "https://sts.vpce.example/")
        XCTAssertEqual(try AWSEnvironment(["AWS_ENDPOINT_URL": "http://127.0.0.1:9"]).stsEndpoint(region: "r").absoluteString,
                       "http://127.0.0.1:9/")
    }
}
