@testable import Engine
import Foundation
import TestSupport
import XCTest

/// What one pass of due work keeps between items (`RecordCache`, `LockFiles`): never a record a
/// read would not give, never a lock that does not exclude.
final class PassReuseTests: XCTestCase {
    private var folder: TemporaryFolder!
    private var state: StateDirectory!

    override func setUp() {
        folder = TemporaryFolder()
        state = StateDirectory(path: folder.path + "/state")
    }

    override func tearDown() {
        folder.remove()
    }

    private var roleFile: String { folder.path + "/state/roles/r.json" }

    /// settledAge 0: the files here were all just written, and a real pass would keep none of them.
    private func cachedRoles() -> RecordStore<DynamicRole> {
        RecordStore(state: state, kind: .role, cache: RecordCache(settledAge: 0))
    }

    func testAKeptRecordIsWhatAReadGivesWhateverChangedTheFile() throws {
        let plain = RecordStore<DynamicRole>(state: state, kind: .role)
        let roles = cachedRoles()
        try plain.write("r", DynamicRole(dbName: "one", revocationStatements: ["DROP ROLE \"{{name}}\";"]))
        XCTAssertEqual(try roles.read("r")?.dbName, "one")
        XCTAssertEqual(try roles.read("r")?.dbName, "one", "unchanged")

        try plain.write("r", DynamicRole(dbName: "two"))
        XCTAssertEqual(try roles.read("r")?.dbName, "two", "written by another process: a new file")

        XCTAssertEqual(chmod(roleFile, 0o620), 0)
        XCTAssertThrowsError(try roles.read("r"), "a mode others may write is refused, kept or not")
        XCTAssertEqual(chmod(roleFile, 0o600), 0)
        XCTAssertEqual(try roles.read("r")?.dbName, "two")

        let elsewhere = folder.path + "/elsewhere.json"
        try FileManager.default.moveItem(atPath: roleFile, toPath: elsewhere)
        try FileManager.default.createSymbolicLink(atPath: roleFile, withDestinationPath: elsewhere)
        XCTAssertThrowsError(try roles.read("r"), "a link is refused, never followed")

        try FileManager.default.removeItem(atPath: roleFile)
        XCTAssertNil(try roles.read("r"), "removed")
    }

    func testAFileChangedRecentlyIsNotKept() throws {
        let roles = RecordStore<DynamicRole>(state: state, kind: .role, cache: RecordCache(settledAge: 3600))
        try roles.write("r", DynamicRole(dbName: "one"))
        XCTAssertEqual(try roles.read("r")?.dbName, "one")
        // Changed in place, within the kernel's timestamp tick of the read: only a file whose change
        // time is old enough is kept, so this one is read again.
        let edited = try String(contentsOfFile: roleFile, encoding: .utf8).replacingOccurrences(of: "\"one\"", with: "\"two\"")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: roleFile))
        try handle.write(contentsOf: Data(edited.utf8))
        try handle.close()
        XCTAssertEqual(try roles.read("r")?.dbName, "two")
    }

    func testTwoLocksOnOneFileStillExcludeEachOther() throws {
        let locks = try XCTUnwrap(try state.openFolder(.lock, create: true))
        let files = LockFiles()
        var first = try files.lock("slot.lock", in: locks, wait: false)
        XCTAssertNotNil(first)
        XCTAssertNil(try files.lock("slot.lock", in: locks, wait: false), "held in this process, by another lock")
        XCTAssertNil(try FileLock(in: locks, "slot.lock", wait: false), "held, for anyone who opens the file")
        first = nil
        var again = try files.lock("slot.lock", in: locks, wait: false)
        XCTAssertNotNil(again, "released, and taken again on the kept descriptor")
        again = nil

        // A lock file removed while kept: the next lock is on the file its name leads to now.
        XCTAssertEqual(unlink(folder.path + "/state/locks/slot.lock"), 0)
        let renewed = try files.lock("slot.lock", in: locks, wait: false)
        XCTAssertNotNil(renewed)
        XCTAssertNil(try FileLock(in: locks, "slot.lock", wait: false), "the new file is the one locked")
        withExtendedLifetime(renewed) {}
    }
}
