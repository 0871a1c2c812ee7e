import XCTest
@testable import RedisPlugin
import TLS

/// Configuration checks that need no server: Vault's messages, in Vault's order.
final class RedisConfigurationTests: XCTestCase {
    private let valid: [String: JSONValue] = ["host": "127.0.0.1", "port": 6379, "username": "admin", "password": "pw"]

    private func error(_ config: [String: JSONValue]) -> PluginError? {
        do {
            _ = try RedisPlugin().initialize(InitializeRequest(config: config, verifyConnection: false))
            return nil
        } catch {
            return error as? PluginError
        }
    }

    private func without(_ key: String) -> [String: JSONValue] {
        var c = valid
        c[key] = nil
        return c
    }

    private func with(_ key: String, _ value: JSONValue) -> [String: JSONValue] {
        var c = valid
        c[key] = value
        return c
    }

    func testRequiredParametersUseVaultsMessages() {
        XCTAssertEqual(error(without("host")), PluginError(.invalidConfiguration, "host cannot be empty"))
        XCTAssertEqual(error(without("port")), PluginError(.invalidConfiguration, "port cannot be empty"))
        XCTAssertEqual(error(with("port", 0)), PluginError(.invalidConfiguration, "port cannot be empty"))
        XCTAssertEqual(error(without("username")), PluginError(.invalidConfiguration, "username cannot be empty"))
        XCTAssertEqual(error(without("password")), PluginError(.invalidConfiguration, "password cannot be empty"))
        XCTAssertEqual(error([:]), PluginError(.invalidConfiguration, "host cannot be empty"))
    }

    func testPortIsWeaklyTyped() {
        XCTAssertNil(error(with("port", "6379")))
        XCTAssertEqual(error(with("port", "redis"))?.message, "invalid value for port: expected an integer")
        XCTAssertEqual(error(with("port", 70000))?.kind, .invalidConfiguration)
    }

    func testTLSVerifiesTheHostAgainstTheCAOrTheSystemStore() throws {
        let verified = try XCTUnwrap(try RedisConfiguration(with("tls", true)).tls)
        XCTAssertEqual(verified.verification, .chainAndHost)
        XCTAssertEqual(verified.trustRoots, .system)
        XCTAssertEqual(verified.serverName, "127.0.0.1")
        var insecure = valid
        insecure["tls"] = "true"
        insecure["insecure_tls"] = true
        insecure["ca_cert"] = "-----BEGIN CERTIFICATE-----"
        XCTAssertEqual(try RedisConfiguration(insecure).tls?.verification, TLSConfiguration.Verification.none)
        XCTAssertEqual(try RedisConfiguration(insecure).tls?.trustRoots, .pem(Array("-----BEGIN CERTIFICATE-----".utf8)))
        XCTAssertNil(try RedisConfiguration(with("tls", false)).tls)
        XCTAssertNil(error(with("tls", "false")))
        XCTAssertEqual(error(with("tls", "maybe"))?.kind, .invalidConfiguration)
    }

    func testStatementTimeoutBoundsEachCommand() throws {
        XCTAssertEqual(try RedisConfiguration(valid).commandTimeout, 10)
        XCTAssertEqual(try RedisConfiguration(with("statement_timeout", "2s")).commandTimeout, 2)
        XCTAssertEqual(error(with("statement_timeout", "0"))?.kind, .invalidConfiguration)
    }

    func testPersistenceModeIsOptInAndValidated() throws {
        XCTAssertEqual(try RedisConfiguration(valid).persistence, RedisPersistenceMode.none)
        XCTAssertEqual(try RedisConfiguration(with("persistence_mode", "ACLSAVE")).persistence, .aclSave)
        XCTAssertEqual(try RedisConfiguration(with("persistence_mode", "rewrite")).persistence, .rewrite)
        XCTAssertEqual(try RedisConfiguration(with("persistence_mode", "none")).persistence, RedisPersistenceMode.none)
        XCTAssertEqual(error(with("persistence_mode", "ACLFILE")),
                       PluginError(.invalidConfiguration, "persistence_mode can only be 'none', 'ACLSAVE' or 'REWRITE', not 'ACLFILE'"))
    }

    func testConnectTimeoutAcceptsSecondsAndUnits() throws {
        XCTAssertEqual(try RedisConfiguration(valid).connectTimeout, 5)
        XCTAssertEqual(try RedisConfiguration(with("connect_timeout", "500ms")).connectTimeout, 0.5)
        XCTAssertEqual(try RedisConfiguration(with("connect_timeout", 2)).connectTimeout, 2)
        XCTAssertEqual(try RedisConfiguration(with("connect_timeout", "1m")).connectTimeout, 60)
        XCTAssertEqual(error(with("connect_timeout", "soon"))?.kind, .invalidConfiguration)
        XCTAssertEqual(error(with("connect_timeout", "-1s"))?.kind, .invalidConfiguration)
    }

    func testInitializeReturnsTheConfigurationUnchanged() throws {
        let config = with("someotherdata", "kept")
        let response = try RedisPlugin().initialize(InitializeRequest(config: config, verifyConnection: false))
        XCTAssertEqual(response.config, config)
    }

    func testOperationsBeforeInitializeFail() {
        XCTAssertThrowsError(try RedisPlugin().deleteUser(DeleteUserRequest(username: "x", statements: []))) { error in
            XCTAssertEqual((error as? PluginError)?.message, "connection has not been initialized")
        }
    }

    func testDefaultUsernameFollowsVaultsRedisScheme() {
        let name = RedisUsername.generate(UsernameMetadata(displayName: "token", roleName: "my-dynamic-role"),
                                          now: Date(timeIntervalSince1970: 1_608_481_717))
        XCTAssertNotNil(name.range(of: #"^V_TOKEN_MY-DYNAMIC-ROLE_[A-Z0-9]{20}_1608481717$"#, options: .regularExpression), name)

        // Empty parts are skipped, not left as empty fields.
        let bare = RedisUsername.generate(UsernameMetadata(displayName: "", roleName: "r"))
        XCTAssertTrue(bare.hasPrefix("V_R_"), bare)

        // Display and role names are cut to 64 bytes and the whole name to 100.
        let long = RedisUsername.generate(UsernameMetadata(displayName: String(repeating: "d", count: 80),
                                                           roleName: String(repeating: "r", count: 80)))
        XCTAssertEqual(long.utf8.count, 100)
        XCTAssertTrue(long.hasPrefix("V_" + String(repeating: "D", count: 64) + "_RRR"), long)
    }

    func testCreationStatementsAreJSONListsAndAllOfThemApply() throws {
        XCTAssertEqual(try RedisACLRules.parse([]), ["~*", "+@read"])
        XCTAssertEqual(try RedisACLRules.parse(["  ", ""]), ["~*", "+@read"])
        XCTAssertEqual(try RedisACLRules.parse([#"["~*", "+@read", "+@write"]"#]), ["~*", "+@read", "+@write"])
        XCTAssertEqual(try RedisACLRules.parse([#"["~app:*"]"#, #" ["+get", "+set"] "#]), ["~app:*", "+get", "+set"])
        XCTAssertThrowsError(try RedisACLRules.parse(["+@read"])) { error in
            XCTAssertTrue("\(error)".hasPrefix("error unmarshalling REDIS rules in the creation statement JSON"), "\(error)")
        }
        XCTAssertThrowsError(try RedisACLRules.parse([#"{"rules": 1}"#]))
    }
}
