import Foundation
import XCTest

/// `-output-curl-string` prints the `curl` call Vault's API takes for the same step, and
/// `-output-policy` the policy it needs; neither runs the request, and secrets never print.
final class APIOutputTests: XCTestCase {
    func testCurlStringsOfEachKindOfRequest() {
        let cli = CLIRunner()
        cli.environment["VAULT_ADDR"] = "https://vault.example:8200"
        let token = #"-H "X-Vault-Request: true" -H "X-Vault-Token: $(vault print token)""#
        XCTAssertEqual(cli.run("read", "-output-curl-string", "database/creds/ro").stdout,
                       "curl \(token) \"https://vault.example:8200/v1/database/creds/ro\"\n")
        XCTAssertEqual(cli.run("list", "database/roles", "-output-curl-string").stdout,
                       "curl \(token) \"https://vault.example:8200/v1/database/roles?list=true\"\n", "a trailing global flag counts too")
        XCTAssertEqual(cli.run("write", "-output-curl-string", "database/roles/ro", "db_name=pg", "default_ttl=1h").stdout,
                       "curl -X PUT \(token) -d '{\"db_name\":\"pg\",\"default_ttl\":\"1h\"}' \"https://vault.example:8200/v1/database/roles/ro\"\n")
        XCTAssertEqual(cli.run("delete", "-output-curl-string", "database/roles/ro").stdout,
                       "curl -X DELETE \(token) \"https://vault.example:8200/v1/database/roles/ro\"\n")
        XCTAssertEqual(cli.run("lease", "renew", "-output-curl-string", "-increment=1h", "database/creds/ro/abc").stdout,
                       "curl -X PUT \(token) -d '{\"increment\":3600,\"lease_id\":\"database/creds/ro/abc\"}' \"https://vault.example:8200/v1/sys/leases/renew\"\n")
        XCTAssertEqual(cli.run("lease", "revoke", "-output-curl-string", "-prefix", "database/creds/ro").stdout,
                       "curl -X PUT \(token) -d '{\"sync\":false}' \"https://vault.example:8200/v1/sys/leases/revoke-prefix/database/creds/ro\"\n")
        XCTAssertEqual(cli.run("secrets", "enable", "-output-curl-string", "-path=pg", "-max-lease-ttl=30m", "database").stdout,
                       "curl -X POST \(token) -d '{\"type\":\"database\",\"description\":\"\",\"config\":{\"default_lease_ttl\":\"0s\",\"force_no_cache\":false,\"max_lease_ttl\":\"30m0s\",\"options\":null},\"local\":false,\"seal_wrap\":false,\"external_entropy_access\":false,\"options\":null}' \"https://vault.example:8200/v1/sys/mounts/pg/\"\n")
        XCTAssertEqual(cli.run("secrets", "move", "-output-curl-string", "database", "pg").stdout,
                       "curl -X POST \(token) -d '{\"from\":\"database/\",\"to\":\"pg/\"}' \"https://vault.example:8200/v1/sys/remount\"\n")
        XCTAssertEqual(cli.run("tidy", "-output-curl-string").stdout, "curl -X PUT \(token) \"https://vault.example:8200/v1/sys/leases/tidy\"\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: cli.stateURL.path), "no request ran")
    }

    func testSecretsNeverPrintInACurlString() {
        let cli = CLIRunner()
        let result = cli.run(["write", "-output-curl-string", "database/config/pg", "plugin_name=postgresql-database-plugin",
                              "username=admin", "password=-", "private_key=KEY"], stdin: "hunter2-secret")
        XCTAssertEqual(result.code, 0)
        XCTAssertFalse(result.stdout.contains("hunter2-secret"))
        XCTAssertFalse(result.stdout.contains("KEY\""))
        XCTAssertTrue(result.stdout.contains(#""password":"(secret not shown)""#), result.stdout)
        XCTAssertEqual(result.stderr, "The value of password, private_key is not shown: put it in place of (secret not shown) in the body.\n")
    }

    func testPoliciesOfEachKindOfRequest() {
        let cli = CLIRunner()
        XCTAssertEqual(cli.run("read", "-output-policy", "database/creds/ro").stdout,
                       "path \"database/creds/ro\" {\n  capabilities = [\"read\"]\n}\n")
        XCTAssertEqual(cli.run("write", "-output-policy", "database/roles/ro", "db_name=pg").stdout,
                       "path \"database/roles/ro\" {\n  capabilities = [\"create\", \"update\"]\n}\n")
        XCTAssertEqual(cli.run("list", "-output-policy", "postgres/roles").stdout,
                       "path \"postgres/roles\" {\n  capabilities = [\"list\"]\n}\n")
        XCTAssertEqual(cli.run("lease", "revoke", "-output-policy", "-prefix", "database/creds/ro").stdout,
                       "path \"sys/leases/revoke-prefix/database/creds/ro\" {\n  capabilities = [\"create\", \"update\", \"sudo\"]\n}\n")
        XCTAssertEqual(cli.run("secrets", "disable", "-output-policy", "pg").stdout,
                       "path \"sys/mounts/pg/\" {\n  capabilities = [\"delete\"]\n}\n")
        XCTAssertEqual(cli.run("lease", "list", "-output-policy").code, 1, "lease list sends no request Vault knows")
    }
}
