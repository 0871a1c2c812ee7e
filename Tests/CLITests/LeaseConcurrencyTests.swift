import Engine
import Foundation
import TestSupport
import XCTest

/// Regression: the expiry index was edited from unlocked reads. A pass listing a minute's markers
/// saw a marker a moment before its lease was written, deleted it, and the lease was then stored
/// with no marker: no pass ever looked at it again, and its user outlived its TTL. Under ordinary
/// concurrency about 0.6% of leases were never revoked.
///
/// Here many processes share one state folder for a bounded time, with TTLs of a few seconds:
/// `creds`, shortening `lease renew`, `lease revoke`, `tidy`, and two agents. Afterwards every
/// lease past its TTL is revoked, and no user the engine created is left in the database.
///
/// It also found that two PostgreSQL revocations at once fail one of them ("tuple concurrently
/// updated" on the shared schema's grants), leaving the lease to a 10-30 s retry: the plugin
/// now runs such a statement again at once.
final class LeaseConcurrencyTests: XCTestCase {
    func testPostgresLeasesUnderConcurrentCredsRenewRevokeTidyAndAgents() throws {
        try exercise(try CrashPostgres())
    }

    func testRedisLeasesUnderConcurrentCredsRenewRevokeTidyAndAgents() throws {
        try exercise(try CrashRedis())
    }

    func exercise(_ database: CrashDatabase) throws {
        defer { try? database.dropRootUser() }
        let run = try CrashRun(database)
        defer { run.remove() }
        let tool = run.tool
        XCTAssertEqual(try tool.run("write", "database/roles/\(run.role)", "default_ttl=3s", "max_ttl=6s").status, 0)

        let agents = try (0..<2).map { try tool.start(["agent", "-interval=1s"], log: tool.folder.path + "/agent\($0).log") }
        let ids = LockedList()
        let log = LockedList()
        let until = Date().addingTimeInterval(8)
        let workers: [@Sendable () throws -> Void] = [
            { while Date() < until { if let r = try? tool.run("read", "-field=lease_id", "database/creds/\(run.role)") { if r.status == 0 { ids.append(r.stdout) } else { log.append("creds \(r.status) \(r.stderr)") } } } },
            { while Date() < until { if let r = try? tool.run("read", "-field=lease_id", "database/creds/\(run.role)") { if r.status == 0 { ids.append(r.stdout) } else { log.append("creds \(r.status) \(r.stderr)") } } } },
            { while Date() < until { if let id = ids.random() { _ = try? tool.run("lease", "renew", "-increment=1s", id) } else { usleep(20_000) } } },
            { while Date() < until { if let id = ids.random() { _ = try? tool.run("lease", "revoke", id) } else { usleep(20_000) } } },
            { while Date() < until { if let r = try? tool.run("tidy") { if !r.stderr.isEmpty { log.append("tidy \(r.status) \(r.stderr)") } } } },
        ]
        runOnThreads(workers.map { worker in { @Sendable in try? worker() } }, atOnce: workers.count)
        XCTAssertGreaterThan(ids.count, 20, "enough leases made to mean something")

        // Every lease has expired by now or will within its max TTL; the agents revoke them.
        let settled = Date().addingTimeInterval(20)
        while Date() < settled, !((try? run.leaseFiles())?.isEmpty ?? false) { usleep(250_000) }
        for agent in agents {
            kill(agent.processIdentifier, SIGTERM)
            agent.waitUntilExit()
            XCTAssertEqual(agent.terminationStatus, 0)
        }
        let left = try run.leaseFiles()
        XCTAssertEqual(left.count, 0, "every lease past its TTL is revoked: \(left) markers: \(tool.stateFiles().filter { $0.hasPrefix("lease-expiry") }) now \(Timestamp.format(Date())) LOG \(log.all)")
        let agentLogs = (0..<2).map { (try? String(contentsOfFile: tool.folder.path + "/agent\($0).log", encoding: .utf8)) ?? "" }
        XCTAssertEqual(try database.usersCreated(forRole: run.role), [], "no user outlives its lease LOG \(log.all) AGENTS \(agentLogs)")
        XCTAssertEqual(run.intentFiles(), [])
    }
}

/// Lease ids the workers made, shared between threads.
final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ item: String) { lock.withLock { items.append(item) } }
    func random() -> String? { lock.withLock { items.randomElement() } }
    var count: Int { lock.withLock { items.count } }
    var all: [String] { lock.withLock { items } }
}
