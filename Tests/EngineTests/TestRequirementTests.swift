import Foundation
import TestSupport
import XCTest

/// The one rule for a missing server or program: a skip with the reason on a developer's
/// machine, a failure under CI and under scripts/test (`DBSECRETS_TEST_SERVERS`).
final class TestRequirementTests: XCTestCase {
    func testMissingIsASkipLocallyAndAFailureUnderCIOrScriptsTest() {
        XCTAssertTrue(TestRequirement.missing("no server", environment: [:]) is XCTSkip)
        XCTAssertTrue(TestRequirement.missing("no server", environment: ["CI": ""]) is XCTSkip)
        for environment in [["CI": "true"], ["DBSECRETS_TEST_SERVERS": "1"]] {
            let error = TestRequirement.missing("no server", environment: environment)
            XCTAssertTrue(error is TestRequirement.Unmet, "\(environment)")
            XCTAssertTrue("\(error)".hasPrefix("no server"), "\(error)")
        }
    }

    /// Variables that name a server do not prove it runs: a closed port is an unmet requirement.
    func testAServerThatDoesNotAnswerIsUnmet() throws {
        let port = try SilentListener.unusedPort()
        XCTAssertThrowsError(try TestRequirement.reachable("Redis", host: "127.0.0.1", port: port,
                                                           environment: ["DBSECRETS_TEST_SERVERS": "1"])) { error in
            XCTAssertEqual("\(error)", "Redis at 127.0.0.1:\(port) is not reachable: Connection refused (a failure under CI and scripts/test)")
        }
        let listener = try SilentListener()
        XCTAssertNoThrow(try TestRequirement.reachable("Redis", host: "127.0.0.1", port: listener.port, environment: [:]))
    }
}
