@testable import Engine
import Foundation
import XCTest

/// The state folder's path is standardized as `URL.standardizedFileURL` does it; a path that is
/// already standard skips it (it costs a tenth of a short command's start-up).
final class StateDirectoryPathTests: XCTestCase {
    func testPathsAreStandardizedAsURLDoesIt() {
        let cwd = FileManager.default.currentDirectoryPath
        for path in ["/tmp/st", "/tmp/st/", "/tmp//st", "/tmp/./st", "/tmp/x/../st", "relative/st", "./st", "/"] {
            XCTAssertEqual(StateDirectory(path: path).rootPath, URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: cwd)).standardizedFileURL.path, path)
        }
        XCTAssertTrue(StateDirectory.isStandard("/tmp/st"))
        XCTAssertFalse(StateDirectory.isStandard("/tmp/../st"))
        XCTAssertFalse(StateDirectory.isStandard("/tmp/st/"))
        XCTAssertFalse(StateDirectory.isStandard("st"))
    }

    func testTheEnvironmentChoosesTheFolderAsBefore() {
        XCTAssertEqual(StateDirectory.resolve(flag: nil, environment: ["DBSECRETS_STATE_DIR": "/a/b"]).rootPath, "/a/b")
        XCTAssertEqual(StateDirectory.resolve(flag: "/f", environment: ["DBSECRETS_STATE_DIR": "/a/b"]).rootPath, "/f")
        XCTAssertEqual(StateDirectory.resolve(flag: nil, environment: ["XDG_STATE_HOME": "/x/"]).rootPath, "/x/dbsecrets")
        XCTAssertEqual(StateDirectory.resolve(flag: nil, environment: ["HOME": "/home/u"]).rootPath, "/home/u/.local/state/dbsecrets")
        XCTAssertEqual(StateDirectory.resolve(flag: nil, environment: ["HOME": "/home/u"]).root.path, "/home/u/.local/state/dbsecrets")
    }
}
