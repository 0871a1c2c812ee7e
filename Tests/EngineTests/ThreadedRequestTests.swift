import DBPlugin
@testable import Engine
import Foundation
import TestSupport
import XCTest

/// `dbsecrets server` runs requests on several threads of one process, where the engine's object
/// locks (flock, one open file description per taking) must exclude each other as they do
/// between processes, and nothing may assume one request per process.
final class ThreadedRequestTests: XCTestCase {
    /// The most threads found inside one object's lock at once.
    final class Occupancy: @unchecked Sendable {
        private let lock = NSLock()
        private var inside = 0
        private(set) var most = 0
        func enter() { lock.withLock { inside += 1; most = max(most, inside) } }
        func leave() { lock.withLock { inside -= 1 } }
    }

    func testTwoThreadsTakingOneObjectLockExcludeEachOther() throws {
        let f = EngineFixture()
        try f.write("database/roles/r", ["db_name": "db"])
        let engine = f.engine
        let occupancy = Occupancy()
        let failures = Occupancy()
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            for _ in 0..<15 {
                do {
                    try engine.withLock(.role, "r") {
                        occupancy.enter()
                        usleep(300)
                        occupancy.leave()
                    }
                } catch {
                    failures.enter()
                }
            }
        }
        XCTAssertEqual(occupancy.most, 1, "two threads held the lock of one object at once")
        XCTAssertEqual(failures.most, 0)
    }

    func testALockHeldByOneThreadIsNotFreeForAnother() throws {
        let f = EngineFixture()
        let engine = f.engine
        let taken = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let holder = Thread {
            try? engine.withLock(.staticRole, "app") {
                taken.signal()
                release.wait()
            }
        }
        holder.start()
        taken.wait()
        XCTAssertNil(try f.engine.withLockIfFree(.staticRole, "app") { true }, "another thread's lock looked free")
        XCTAssertEqual(try f.engine.withLockIfFree(.staticRole, "other") { true }, true)
        release.signal()
        let deadline = Date().addingTimeInterval(5)
        var freed: Bool?
        while freed == nil && Date() < deadline {
            freed = try f.engine.withLockIfFree(.staticRole, "app") { true }
            if freed == nil { usleep(1_000) }
        }
        XCTAssertEqual(freed, true, "the lock stayed taken after its thread let it go")
    }

    /// Creds, renewals and revocations from many threads at once, with a due-work pass among
    /// them: every user made has its lease until revoked, and nothing is left behind.
    func testConcurrentRequestsOnOneEngineKeepEveryLeaseAndUser() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        let engine = f.engine
        let errors = Occupancy()
        DispatchQueue.concurrentPerform(iterations: 6) { worker in
            for round in 0..<8 {
                do {
                    if worker == 0 && round % 4 == 0 { _ = try engine.runDueWork() }
                    let lease = try XCTUnwrap(engine.handle(EngineRequest(.read, "database/creds/ro"))?.leaseID)
                    _ = try engine.handle(EngineRequest(.write, "sys/leases/renew", data: ["lease_id": .string(lease), "increment": "30m"]))
                    _ = try engine.handle(EngineRequest(.write, "sys/leases/revoke", data: ["lease_id": .string(lease)]))
                } catch {
                    errors.enter()
                }
            }
        }
        XCTAssertEqual(errors.most, 0)
        XCTAssertEqual(try f.engine.listLeases(prefix: ""), [])
        XCTAssertEqual(f.database.users.keys.sorted(), ["admin"], "a user outlived its lease")
        XCTAssertEqual(f.database.calls.filter { $0.hasPrefix("newUser") }.count, 48)
        XCTAssertEqual(f.database.calls.filter { $0.hasPrefix("deleteUser") }.count, 48, "each user dropped exactly once")
    }
}
