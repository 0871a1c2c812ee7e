import Foundation
import TestSupport
import XCTest

/// Zero-downtime rotation on ElastiCache, with the built binary and its plugin executable against
/// the local endpoint: ModifyUser sends `Passwords=[new, previous]`, so both log in to the
/// endpoint's backing Redis right after a rotation, and only the new one after the grace period.
final class ElastiCacheTwoPasswordTests: XCTestCase {
    func testBothPasswordsLogInAfterARotationAndOnlyTheNewOneAfterTheGracePeriod() throws {
        let server = try ElastiCacheTestServer.fromEnvironment()
        try TestRequirement.builtBinary()
        try server.resetFailures()
        let folder = TemporaryFolder("elasticache-two-passwords")
        defer { folder.remove() }
        let environment = ["PATH": "/usr/bin:/bin", "HOME": folder.path, "DBSECRETS_STATE_DIR": folder.url.appendingPathComponent("state").path,
                           "AWS_REGION": server.region, "AWS_ENDPOINT_URL_ELASTICACHE": server.endpoint, "AWS_EC2_METADATA_DISABLED": "true",
                           "AWS_ACCESS_KEY_ID": server.accessKeyID, "AWS_SECRET_ACCESS_KEY": server.secretAccessKey]
        func dbsecrets(_ arguments: String...) throws -> ProcessResult {
            try ProcessRunner.run(PackageRoot.binary.path, arguments, environment: environment, timeout: 60)
        }
        func stored() throws -> String {
            let role = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.url.appendingPathComponent("state/static-roles/app.json")))
            return (role as? [String: Any])?["password"] as? String ?? ""
        }
        let userID = ElastiCacheTestServer.uniqueUserID()
        try server.createUser(userID, password: "initial-password-123456")

        XCTAssertEqual(try dbsecrets("write", "database/config/ec", "plugin_name=redis-elasticache-database-plugin",
                                     "url=primary.example.cache.amazonaws.com:6379", "allowed_roles=*").status, 0)
        var result = try dbsecrets("write", "database/static-roles/app", "db_name=ec", "username=\(userID)", "rotation_period=1h",
                                   "retain_previous_password=true", "previous_password_grace=2s")
        XCTAssertEqual(result.status, 0, result.stderr)
        let first = try stored()
        XCTAssertFalse(try server.redisLogin(userID, "initial-password-123456"), "an unknown first password is replaced")

        result = try dbsecrets("write", "-f", "database/rotate-role/app")
        XCTAssertEqual(result.status, 0, result.stderr)
        let second = try stored()
        XCTAssertNotEqual(second, first)
        XCTAssertTrue(try server.redisLogin(userID, second), "the new password logs in")
        XCTAssertTrue(try server.redisLogin(userID, first), "so does the previous one, right after the rotation")

        Thread.sleep(forTimeInterval: 2.2)
        result = try dbsecrets("tidy")
        XCTAssertEqual(result.stdout, "previous password discarded: app (only the current password of \(userID) logs in now)\n", result.stderr)
        XCTAssertTrue(try server.redisLogin(userID, second))
        XCTAssertFalse(try server.redisLogin(userID, first), "only the new one after the grace period")
    }
}
