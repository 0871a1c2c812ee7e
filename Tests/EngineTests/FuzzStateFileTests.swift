import DBPlugin
import Engine
import Foundation
import TestSupport
import XCTest

/// Damaged state files, as a disk error, a bad restore or a hand edit leaves them: random bytes,
/// flipped bytes, truncations, and well-formed JSON with values of the wrong type or absurd size.
/// Whatever the engine does with them must end in a result or an `EngineError`, and an error
/// about an unreadable file must name that file. Never a trap, never a hang.
final class FuzzStateFileTests: XCTestCase {
    /// JSON values that are wrong in type or size for some field.
    nonisolated(unsafe) static let strangeValues: [Any] = [
        Int.max, Int.min, -1, 0, 1e308, -1e308, 0.5, "", "x", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
        "2026-02-30T00:00:00Z", "2026-11-23T16:04:20.123456789Z", "database/creds/ro/../../x", "../../etc", NSNull(),
        [Any](), [String: Any](), true, [1, "a", NSNull()], ["a": ["b": ["c": 1]]], String(repeating: "z", count: 5000),
        "* * * * *", "61 * * * *", "rsa_private_key", "password", 2, 99,
    ]

    func testDamagedStateFilesGiveCleanErrorsNamingTheFile() throws {
        let fixture = FastEngineFixture()
        defer { fixture.remove() }
        try fixture.configureConnectionAndRole()
        fixture.database.addUser("app", password: "app-initial")
        try fixture.write("database/static-roles/st", ["db_name": "db", "username": "app", "rotation_period": "1h"])
        try fixture.write("sys/policies/password/pol", ["policy": "length = 12\nrule \"charset\" { charset = \"abc\" }"])
        let creds = try XCTUnwrap(try fixture.read("database/creds/ro"))
        let leaseID = creds.leaseID
        let leaseFile = leaseID.split(separator: "/").suffix(2).joined(separator: ".")
        let state = fixture.stateURL
        let intents = state.appendingPathComponent("intents")
        try FileManager.default.createDirectory(at: intents, withIntermediateDirectories: true)
        let created = Timestamp.format(fixture.clock.now.addingTimeInterval(-3600))
        try Data(#"{"connection": "db", "username": "admin", "old_password": "root-secret", "new_password": "next-secret", "created_at": "\#(created)", "format_version": 1}"#.utf8)
            .write(to: intents.appendingPathComponent("root-db.json"))
        try Data(#"{"role": "st", "username": "app", "new_password": "pending", "created_at": "\#(created)", "format_version": 1}"#.utf8)
            .write(to: intents.appendingPathComponent("static-st.json"))
        try Data(#"{"lease_id": "database/creds/ro/Zz", "role": "ro", "db_name": "db", "created_at": "\#(created)", "format_version": 1}"#.utf8)
            .write(to: intents.appendingPathComponent("creds-Zz.json"))

        let relativePaths = ["config/db.json", "roles/ro.json", "static-roles/st.json", "password-policies/pol.json",
                             "leases/\(leaseFile).json", "intents/root-db.json", "intents/static-st.json", "intents/creds-Zz.json"]
        let originals = try relativePaths.map { try Data(contentsOf: state.appendingPathComponent($0)) }
        let engine = fixture.engine
        let operations: [(String, () throws -> Any?)] = [
            ("read config", { try fixture.read("database/config/db") }),
            ("read role", { try fixture.read("database/roles/ro") }),
            ("read static role", { try fixture.read("database/static-roles/st") }),
            ("list", { (try fixture.list("database/roles"), try fixture.list("database/static-roles"), try fixture.list("database/config")) }),
            ("creds", { try fixture.read("database/creds/ro") }),
            ("static-creds", { try fixture.read("database/static-creds/st") }),
            ("rotate-role", { try fixture.write("database/rotate-role/st") }),
            ("rotate-root", { try fixture.write("database/rotate-root/db") }),
            ("update role", { try fixture.write("database/roles/ro", ["default_ttl": "2h"]) }),
            ("update config", { try fixture.write("database/config/db", ["allowed_roles": "ro,st"]) }),
            ("generate", { try fixture.read("sys/policies/password/pol/generate") }),
            ("lookup", { try engine.lookupLease(leaseID) }),
            ("renew", { try engine.renewLease(leaseID, increment: 60) }),
            ("revoke", { try engine.revokeLease(leaseID) }),
            ("revoke-prefix", { try engine.revokeLeases(prefix: "database/creds/", force: false) }),
            ("lease list", { try engine.listLeases(prefix: "") }),
            ("tidy", { try engine.runDueWork() }),
        ]

        let run = FuzzRun("state files", seconds: 2)
        run.loop(minimumInputs: 100) { run in
            // Every iteration starts from the same good state, then damages one file.
            for (path, data) in zip(relativePaths, originals) { try data.write(to: state.appendingPathComponent(path)) }
            let target = run.generator.int(0...relativePaths.count - 1)
            let (how, damaged) = damage(originals[target], &run.generator)
            let file = state.appendingPathComponent(relativePaths[target])
            try damaged.write(to: file)
            if run.generator.chance(3) { fixture.clock.advance(Double(run.generator.int(0...200_000))) }
            let (name, operation) = run.generator.pick(operations)
            run.input("\(relativePaths[target]) \(how): \(String(decoding: damaged.prefix(300), as: UTF8.self).debugDescription); then \(name)")
            do {
                _ = try operation()
            } catch let error as EngineError {
                if error.message.contains("corrupt") || error.message.contains("format_version") {
                    if !error.message.contains(state.path + "/") { run.fail("\(name): an unreadable file without its path: \(error.message)") }
                }
                if error.message.contains("root-secret") { run.fail("\(name): the root password in \(error.message)") }
            }
        }

        // A file that is not JSON at all is reported as corrupt, with its path, by every reader.
        for (path, _) in zip(relativePaths, originals) where !path.hasPrefix("intents") {
            try Data("\u{0}\u{1}garbage".utf8).write(to: state.appendingPathComponent(path))
        }
        let expected = "state file \(state.path)/roles/ro.json is corrupt: not a JSON object with a format_version"
        XCTAssertEqual(engineError { try fixture.read("database/roles/ro") }?.message, expected)
        XCTAssertEqual(engineError { try fixture.read("database/creds/ro") }?.message, expected)
        XCTAssertEqual(engineError { try engine.lookupLease(leaseID) }?.message,
                       "state file \(state.path)/leases/\(leaseFile).json is corrupt: not a JSON object with a format_version")
    }

    /// Regression: a failed rotation or revocation added one to a count read from the file, which
    /// trapped when the file said Int.max.
    func testAttemptCountsAtIntMaxInAStateFileDoNotTrap() throws {
        let fixture = FastEngineFixture()
        defer { fixture.remove() }
        try fixture.configureConnectionAndRole()
        fixture.database.addUser("app", password: "app-initial")
        try fixture.write("database/static-roles/st", ["db_name": "db", "username": "app", "rotation_period": "1h"])
        let leaseID = try XCTUnwrap(try fixture.read("database/creds/ro")).leaseID
        for (path, key) in [("static-roles/st.json", "failed_attempts"), ("leases/\(leaseID.split(separator: "/").suffix(2).joined(separator: ".")).json", "revoke_attempts")] {
            let url = fixture.stateURL.appendingPathComponent(path)
            var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            object[key] = Int.max
            try JSONSerialization.data(withJSONObject: object).write(to: url)
        }
        fixture.database.failures = ["initialize": 2]
        XCTAssertNotNil(engineError { try fixture.write("database/rotate-role/st") })
        XCTAssertNotNil(engineError { try fixture.engine.revokeLease(leaseID) })
    }

    /// Regression: a period or TTL far beyond Go's duration range, written into a state file by
    /// hand, made the next rotation a date whose formatting and TTL trapped.
    func testAnAbsurdRotationPeriodInAStateFileDoesNotTrap() throws {
        let fixture = FastEngineFixture()
        defer { fixture.remove() }
        try fixture.configureConnectionAndRole()
        fixture.database.addUser("app", password: "app-initial")
        try fixture.write("database/static-roles/st", ["db_name": "db", "username": "app", "rotation_period": "1h"])
        let url = fixture.stateURL.appendingPathComponent("static-roles/st.json")
        for period in [Int.max, Int.min, -1, 1 << 62] {
            var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            object["rotation_period"] = period
            object.removeValue(forKey: "next_vault_rotation")
            try JSONSerialization.data(withJSONObject: object).write(to: url)
            _ = engineError { try fixture.read("database/static-creds/st") }
            _ = engineError { try fixture.read("database/static-roles/st") }
            _ = engineError { try fixture.write("database/rotate-role/st") }
            _ = engineError { try fixture.engine.runDueWork() }
        }
    }

    private func damage(_ original: Data, _ g: inout FuzzGenerator) -> (String, Data) {
        switch g.int(0...5) {
        case 0:
            return ("random bytes", Data(g.bytes(g.int(0...64))))
        case 1:
            var bytes = [UInt8](original)
            for _ in 0..<g.int(1...4) where !bytes.isEmpty {
                let at = g.int(0...bytes.count - 1)
                switch g.int(0...2) {
                case 0: bytes[at] = UInt8.random(in: 0...255, using: &g)
                case 1: bytes.remove(at: at)
                default: bytes.insert(g.pick(Array("{}[]\":,0-e.\\nu".utf8)), at: at)
                }
            }
            return ("bytes changed", Data(bytes))
        case 2:
            return ("truncated", original.prefix(g.int(0...original.count)))
        default:
            guard var object = (try? JSONSerialization.jsonObject(with: original)) as? [String: Any] else {
                return ("unchanged", original)
            }
            var keys = Array(object.keys).sorted()
            keys.append(g.pick(["connection_details", "password", "next_vault_rotation", "retry_at", "expire_time", "extra"]))
            let key = g.pick(keys)
            if g.chance(5) {
                object.removeValue(forKey: key)
            } else if key == "format_version" && g.chance(2) {
                object[key] = g.pick([0, 2, -1, Int.max] as [Any])
            } else {
                object[key] = g.pick(Self.strangeValues)
            }
            let data = (try? JSONSerialization.data(withJSONObject: object)) ?? original
            return ("\(key) changed", data)
        }
    }
}

/// `EngineFixture`'s engine on tmpfs when there is one: every state write fsyncs twice, which on
/// a virtual disk would leave the fuzz loop a few dozen inputs per second.
final class FastEngineFixture {
    let folder: URL
    let database = FakeDatabase()
    let clock = TestClock()
    let engine: Engine

    init() {
        let shm = URL(fileURLWithPath: "/dev/shm")
        let base = FileManager.default.isWritableFile(atPath: shm.path) ? shm : URL(fileURLWithPath: NSTemporaryDirectory())
        folder = base.appendingPathComponent("dbsecrets-fuzz-\(UUID().uuidString)")
        let clock = self.clock
        engine = Engine(environment: EngineEnvironment(state: StateDirectory(root: folder.appendingPathComponent("state")),
                                                       plugins: database.catalog(), now: { clock.now }))
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }

    var stateURL: URL { folder.appendingPathComponent("state") }

    @discardableResult
    func write(_ path: String, _ data: [String: JSONValue] = [:]) throws -> EngineResponse? {
        try engine.handle(EngineRequest(.write, path, data: data))
    }

    func read(_ path: String) throws -> EngineResponse? { try engine.handle(EngineRequest(.read, path)) }

    func list(_ path: String) throws -> [String] {
        try engine.handle(EngineRequest(.list, path))?.data?["keys"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    func configureConnectionAndRole() throws {
        try write("database/config/db", [
            "plugin_name": "fake-database-plugin", "connection_url": "fake://{{username}}:{{password}}@db",
            "username": "admin", "password": "root-secret", "allowed_roles": "*",
        ])
        try write("database/roles/ro", ["db_name": "db", "creation_statements": "CREATE", "default_ttl": "1h", "max_ttl": "2h"])
    }
}
