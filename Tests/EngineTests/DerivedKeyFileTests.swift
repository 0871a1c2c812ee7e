import DBPlugin
@testable import Engine
import Foundation
import TestSupport
import XCTest

/// `sys/derived-keys.json`, the state folder's store of SCRAM salted passwords: a cache, so
/// anything wrong with it costs a derivation, never an error; and a secret, so it is kept as the
/// passwords it comes from are.
final class DerivedKeyFileTests: XCTestCase {
    private var folder: TemporaryFolder!
    private var state: StateDirectory!

    override func setUp() {
        folder = TemporaryFolder()
        state = StateDirectory(path: folder.path + "/state")
    }

    override func tearDown() {
        folder.remove()
    }

    private var file: String { folder.path + "/state/sys/" + DerivedKeyFile.name }

    func testRemembersForgetsAndKeepsTheNewest() throws {
        let store = DerivedKeyFile(state: state)
        XCTAssertNil(store.key(for: [1]))
        store.remember([9, 9], for: [1])
        XCTAssertEqual(DerivedKeyFile(state: state).key(for: [1]), [9, 9], "another process reads it")
        store.remember([8], for: [1])
        XCTAssertEqual(store.key(for: [1]), [8])
        for i in 0..<DerivedKeyFile.capacity { store.remember([UInt8(i)], for: [2, UInt8(i)]) }
        XCTAssertNil(store.key(for: [1]), "the oldest goes first")
        XCTAssertEqual(store.key(for: [2, 0]), [0])
        store.forget([2, 0])
        XCTAssertNil(store.key(for: [2, 0]))
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int, 0o600)
    }

    func testADamagedFileIsAsGoodAsNone() throws {
        let store = DerivedKeyFile(state: state)
        store.remember([1], for: [1])
        for garbage in ["", "{", "[]", #"{"format_version": 9, "keys": []}"#, #"{"format_version": 1, "keys": [["zz", "qq"], 3]}"#] {
            try Data(garbage.utf8).write(to: URL(fileURLWithPath: file))
            XCTAssertNil(store.key(for: [1]), garbage)
        }
        store.remember([2], for: [1])
        XCTAssertEqual(store.key(for: [1]), [2], "rewritten whole")
    }

    func testALinkInItsPlaceIsNeverFollowed() throws {
        let store = DerivedKeyFile(state: state)
        store.remember([1], for: [1])
        let target = folder.path + "/elsewhere.json"
        try Data("{}".utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.removeItem(atPath: file)
        try FileManager.default.createSymbolicLink(atPath: file, withDestinationPath: target)
        XCTAssertNil(store.key(for: [1]))
        store.remember([2], for: [1])
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "{}", "the link's target is untouched")
    }
}
