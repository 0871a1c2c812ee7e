@testable import ElastiCachePlugin
import DBPlugin
import Foundation
import XCTest

/// Where region, credentials and endpoint come from, with an injected environment and a
/// temporary HOME holding `~/.aws` files. No network: nothing here verifies a connection.
final class ElastiCacheResolutionTests: XCTestCase {
    var home: URL!

    override func setUpWithError() throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("elasticache-home-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home.appendingPathComponent(".aws"), withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: home)
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(to: home.appendingPathComponent(".aws/\(name)"), atomically: true, encoding: .utf8)
    }

    /// Never the real instance metadata service: the chain's last resort is disabled unless a test
    /// points it at a double.
    func env(_ extra: [String: String] = [:]) -> AWSEnvironment {
        AWSEnvironment(["HOME": home.path, "AWS_EC2_METADATA_DISABLED": "true"].merging(extra) { _, new in new })
    }

    let keys: [String: JSONValue] = ["access_key_id": "AKIDCONFIG", "secret_access_key": "config-secret"]

    // MARK: Region

    func testRegionOrder() throws {
        try write("config", "[default]\nregion = eu-north-1\n\n[profile dev]\nregion = ap-south-1\n")
        XCTAssertEqual(env(["AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-2"]).region(configured: "sa-east-1"),
                       "sa-east-1")
        XCTAssertEqual(env(["AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-2"]).region(configured: nil),
                       "eu-west-1")
        XCTAssertEqual(env(["AWS_DEFAULT_REGION": "eu-west-2"]).region(configured: ""), "eu-west-2")
        XCTAssertEqual(env().region(configured: nil), "eu-north-1")
        XCTAssertEqual(env(["AWS_PROFILE": "dev"]).region(configured: nil), "ap-south-1")
        XCTAssertEqual(env(["AWS_PROFILE": "missing"]).region(configured: nil), "us-east-1")
    }

    func testRegionFallsBackToUSEast1LikeUpstream() throws {
        // Upstream's Test_redisElastiCacheDB_Initialize_NoRegion: keys, a url, no region anywhere.
        let plugin = ElastiCachePlugin.forTests(["HOME": home.path, "AWS_CONFIG_FILE": "/nonexistent/config",
                                                     "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials"])
        let response = try plugin.initialize(InitializeRequest(config: [
            "access_key_id": "someaccesskey", "secret_access_key": "somesecretkey",
            "url": "some-cache.abc.cfg.use1.cache.amazonaws.com",
        ], verifyConnection: false))
        XCTAssertEqual(plugin.region, "us-east-1")
        XCTAssertEqual(plugin.endpoint?.absoluteString, "https://elasticache.us-east-1.amazonaws.com/")
        XCTAssertEqual(response.config["url"], "some-cache.abc.cfg.use1.cache.amazonaws.com")
    }

    func testConfigFileOverrideAndRegionInEndpoint() throws {
        let custom = home.appendingPathComponent("custom-config")
        try "[profile ops]\nregion=ca-central-1 # inline comment\n".write(to: custom, atomically: true, encoding: .utf8)
        let plugin = ElastiCachePlugin.forTests(["HOME": home.path, "AWS_CONFIG_FILE": custom.path,
                                                     "AWS_PROFILE": "ops"])
        _ = try plugin.initialize(InitializeRequest(config: keys, verifyConnection: false))
        XCTAssertEqual(plugin.region, "ca-central-1")
        XCTAssertEqual(plugin.endpoint?.absoluteString, "https://elasticache.ca-central-1.amazonaws.com/")
    }

    // MARK: Credentials

    func testConfiguredPairWinsOverEnvironmentAndFiles() throws {
        try write("credentials", "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n")
        let c = try env(["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret"])
            .chainCredentials(key: "AKIDCONFIG", secret: "config-secret")
        XCTAssertEqual(c, AWSCredentials(accessKeyID: "AKIDCONFIG", secretAccessKey: "config-secret", source: "configuration"))
    }

    func testEnvironmentWinsOverFilesAndCarriesTheSessionToken() throws {
        try write("credentials", "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n")
        let c = try env(["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret",
                         "AWS_SESSION_TOKEN": "token"]).chainCredentials(key: "", secret: "")
        XCTAssertEqual(c, AWSCredentials(accessKeyID: "AKIDENV", secretAccessKey: "env-secret", sessionToken: "token",
                                         source: "environment"))
    }

    func testSharedCredentialsFileForTheProfile() throws {
        try write("credentials", """
            # comment
            [default]
            aws_access_key_id = AKIDDEFAULT
            aws_secret_access_key = default-secret

            [dev]
            aws_access_key_id=AKIDDEV
            aws_secret_access_key=dev/secret+value
            aws_session_token=dev-token
            """)
        let d = try env().chainCredentials(key: "", secret: "")
        XCTAssertEqual(d.accessKeyID, "AKIDDEFAULT")
        XCTAssertEqual(d.secretAccessKey, "default-secret")
        XCTAssertNil(d.sessionToken)
        let dev = try env(["AWS_PROFILE": "dev"]).chainCredentials(key: "", secret: "")
        XCTAssertEqual(dev, AWSCredentials(accessKeyID: "AKIDDEV", secretAccessKey: "dev/secret+value",
                                           sessionToken: "dev-token",
                                           source: "profile dev in \(home.path)/.aws/credentials"))
    }

    func testSharedCredentialsFileOverrideAndConfigFileFallback() throws {
        let custom = home.appendingPathComponent("creds")
        try "[default]\naws_access_key_id = AKIDCUSTOM\naws_secret_access_key = custom\n"
            .write(to: custom, atomically: true, encoding: .utf8)
        XCTAssertEqual(try env(["AWS_SHARED_CREDENTIALS_FILE": custom.path])
            .chainCredentials(key: "", secret: "").accessKeyID, "AKIDCUSTOM")
        try write("config", "[profile ops]\naws_access_key_id = AKIDCONFIGFILE\naws_secret_access_key = x\n")
        XCTAssertEqual(try env(["AWS_PROFILE": "ops"]).chainCredentials(key: "", secret: "").accessKeyID,
                       "AKIDCONFIGFILE")
    }

    func testHalfAKeyPairIsUpstreamsError() {
        for (key, secret) in [("AKID", ""), ("", "secret")] {
            XCTAssertThrowsError(try env().chainCredentials(key: key, secret: secret)) { error in
                XCTAssertEqual(error as? PluginError, PluginError(.invalidConfiguration,
                    "unable to retrieve AWS credentials from provider chain: static AWS client credentials haven't "
                    + "been properly configured (the access key or secret key were provided but not both)"))
            }
        }
        // Through the plugin, including a half pair made of a deprecated synonym.
        let plugin = ElastiCachePlugin.forTests(["HOME": home.path, "AWS_ACCESS_KEY_ID": "AKIDENV",
                                                     "AWS_SECRET_ACCESS_KEY": "env-secret"])
        XCTAssertThrowsError(try plugin.initialize(InitializeRequest(config: ["password": "only-the-secret"],
                                                                     verifyConnection: false))) { error in
            XCTAssertTrue((error as? PluginError)?.message.contains("provided but not both") == true, "\(error)")
            XCTAssertFalse("\(error)".contains("only-the-secret"))
        }
    }

    func testMissingCredentialsFailAtOnceSayingWhereWeLooked() {
        let plugin = ElastiCachePlugin.forTests(["HOME": home.path, "AWS_ACCESS_KEY_ID": "AKIDALONE",
                                                 "AWS_EC2_METADATA_DISABLED": "true"])
        let start = Date()
        XCTAssertThrowsError(try plugin.initialize(InitializeRequest(config: ["url": "x"], verifyConnection: true))) { error in
            let e = error as? PluginError
            XCTAssertEqual(e?.kind, .invalidConfiguration)
            XCTAssertEqual(e?.message, "unable to retrieve AWS credentials from provider chain: no AWS credentials "
                + "found in the configuration (access_key_id, secret_access_key), the environment (AWS_ACCESS_KEY_ID, "
                + "AWS_SECRET_ACCESS_KEY, AWS_WEB_IDENTITY_TOKEN_FILE), profile \"default\" of "
                + "\(self.home.path)/.aws/credentials and \(self.home.path)/.aws/config, container credentials "
                + "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, AWS_CONTAINER_CREDENTIALS_FULL_URI) or EC2 instance metadata "
                + "[AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not] (disabled by AWS_EC2_METADATA_DISABLED)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    }

    // MARK: Deprecated synonyms and warnings

    func testDeprecatedUsernameAndPasswordAreTheKeyPair() throws {
        let deprecated = try ElastiCacheConfiguration(["username": "AKIDOLD", "password": "old-secret"])
        XCTAssertEqual(deprecated.accessKeyID, "AKIDOLD")
        XCTAssertEqual(deprecated.secretAccessKey, "old-secret")
        let both = try ElastiCacheConfiguration(["username": "AKIDOLD", "password": "old-secret",
                                             "access_key_id": "AKIDNEW", "secret_access_key": "new-secret"])
        XCTAssertEqual(both.accessKeyID, "AKIDNEW")
        XCTAssertEqual(both.secretAccessKey, "new-secret")
        let mixed = try ElastiCacheConfiguration(["access_key_id": "", "username": "AKIDOLD",
                                              "secret_access_key": "new-secret"])
        XCTAssertEqual(mixed.accessKeyID, "AKIDOLD")
        XCTAssertEqual(mixed.secretAccessKey, "new-secret")
    }

    func testWarningsForDeprecatedParameters() {
        XCTAssertEqual(ElastiCachePlugin.warnings(for: keys), [])
        XCTAssertEqual(ElastiCachePlugin.warnings(for: ["username": "AKID", "password": "s"]), [
            "username is deprecated, use access_key_id instead (it is strictly equivalent)",
            "password is deprecated, use secret_access_key instead (it is strictly equivalent)",
        ])
        XCTAssertEqual(ElastiCachePlugin.warnings(for: ["username": "AKID", "access_key_id": "AKID2"]),
                       ["username is deprecated and ignored because access_key_id is set"])
    }

    func testInitializeReturnsTheConfigUnchanged() throws {
        let config: [String: JSONValue] = ["url": "primary.example:6379", "username": "AKIDOLD", "password": "old",
                                           "region": "eu-west-1", "unknown": 42]
        let plugin = ElastiCachePlugin.forTests(["HOME": home.path])
        XCTAssertEqual(try plugin.initialize(InitializeRequest(config: config, verifyConnection: false)).config, config)
        XCTAssertEqual(plugin.credentialSource, "configuration")
        XCTAssertEqual(plugin.type, "redisElastiCache")
        XCTAssertEqual(ElastiCachePluginInfo.name, "redis-elasticache-database-plugin")
    }

    // MARK: Endpoint

    func testEndpointOrder() throws {
        let both = env(["AWS_ENDPOINT_URL_ELASTICACHE": "http://127.0.0.1:1001", "AWS_ENDPOINT_URL": "http://127.0.0.1:1002"])
        XCTAssertEqual(try both.elastiCacheEndpoint(configured: "http://127.0.0.1:1000/", region: "r").absoluteString,
                       "http://127.0.0.1:1000/")
        XCTAssertEqual(try both.elastiCacheEndpoint(configured: nil, region: "r").absoluteString, "http://127.0.0.1:1001/")
        XCTAssertEqual(try env(["AWS_ENDPOINT_URL": "http://127.0.0.1:1002"])
            .elastiCacheEndpoint(configured: nil, region: "r").absoluteString, "http://127.0.0.1:1002/")
        XCTAssertEqual(try env().elastiCacheEndpoint(configured: nil, region: "eu-west-3").absoluteString,
                       "https://elasticache.eu-west-3.amazonaws.com/")
        XCTAssertEqual(try env().elastiCacheEndpoint(configured: "https://vpce.example.com:443", region: "r").absoluteString,
                       "https://vpce.example.com/")
    }

    func testBadEndpointIsAConfigurationError() {
        for bad in ["127.0.0.1:8080", "ftp://host/", "http://", "http://h/?a=b"] {
            XCTAssertThrowsError(try env().elastiCacheEndpoint(configured: bad, region: "r"), bad) { error in
                XCTAssertEqual((error as? PluginError)?.kind, .invalidConfiguration)
                XCTAssertTrue("\(error)".hasPrefix("invalid endpoint \"\(bad)\""), "\(error)")
            }
        }
        XCTAssertThrowsError(try env(["AWS_ENDPOINT_URL": "nope"]).elastiCacheEndpoint(configured: nil, region: "r")) {
            XCTAssertTrue("\($0)".hasPrefix("invalid AWS_ENDPOINT_URL \"nope\""), "\($0)")
        }
    }

    func testHostHeaderOmitsDefaultPorts() {
        XCTAssertEqual(HTTPClient.hostHeader(URL(string: "https://elasticache.us-east-1.amazonaws.com/")!),
                       "elasticache.us-east-1.amazonaws.com")
        XCTAssertEqual(HTTPClient.hostHeader(URL(string: "http://127.0.0.1:4566/")!), "127.0.0.1:4566")
    }
}

extension AWSEnvironment {
    /// What the chain resolves and fetches, with nothing reachable over the network.
    func chainCredentials(key: String, secret: String) throws -> AWSCredentials {
        let chain = AWSCredentialChain(environment: self, region: region(configured: nil), retryPolicy: .standard,
                                       apiHTTP: HTTPClient(timeout: 1), addresses: .aws)
        return try chain.provider(accessKeyID: key, secretAccessKey: secret).retrieve()
    }
}
