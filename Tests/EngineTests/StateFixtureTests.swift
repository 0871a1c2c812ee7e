import DBPlugin
@testable import Engine
import Foundation
import TestSupport
import XCTest

/// State folders written by earlier versions (`StateFixtures/`, never regenerated) keep reading,
/// every record kind and every field, through the same stores and paths the commands use.
final class StateFixtureTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("StateFixtures")

    /// An engine on a copy of a fixture folder (commands may write to it), at the fixture's clock.
    private func engine(on fixture: String) throws -> (Engine, URL, TemporaryFolder) {
        let folder = TemporaryFolder("dbsecrets-fixture")
        let state = folder.url.appendingPathComponent("state")
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent(fixture), to: state)
        let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000 + 120))
        // The users the fixture's records name, with the passwords they hold.
        let database = FakeDatabase()
        database.addUser("app", password: "3bgye2qnkkg6r5t7cf4xbu2k")
        database.addUser("sched", password: "88clyql2wzfq7nsawv6i4in7")
        let engine = Engine(environment: EngineEnvironment(state: StateDirectory(root: state), plugins: database.catalog(),
                                                           now: { clock.now }))
        return (engine, state, folder)
    }

    private func date(_ text: String) throws -> Date { try XCTUnwrap(Timestamp.parse(text), text) }

    func testFormat1StillDecodesEveryRecordKind() throws {
        let (engine, _, folder) = try engine(on: "format-1")
        defer { folder.remove() }

        XCTAssertEqual(try engine.connections.read("db"), DatabaseConfig(
            pluginName: "fake-database-plugin", pluginVersion: "",
            connectionDetails: ["connection_url": "fake://{{username}}:{{password}}@db", "extra_parameter": "kept",
                                "password": "root-secret", "username": "admin"],
            allowedRoles: ["ro", "app", "sched"], rootRotationStatements: ["ALTER USER {{username}} PASSWORD '{{password}}'"],
            passwordPolicy: "pol", verifyConnection: true))

        XCTAssertEqual(try engine.roles.read("ro"), DynamicRole(
            dbName: "db", creationStatements: ["CREATE {{name}} '{{password}}' '{{expiration}}'", "GRANT {{name}}"],
            revocationStatements: ["DROP {{name}}"], rollbackStatements: ["ROLLBACK {{name}}"],
            renewStatements: ["RENEW {{name}} '{{expiration}}'"], defaultTTL: 3600, maxTTL: 86400,
            credentialType: .password, credentialConfig: ["password_policy": "pol"]))

        XCTAssertEqual(try engine.staticRoles.read("app"), StaticRole(
            dbName: "db", username: "app", rotationStatements: ["ALTER {{name}} '{{password}}'"], rotationPeriod: 86400,
            rotationSchedule: "", rotationWindow: 0, credentialType: .password, credentialConfig: [:],
            password: "3bgye2qnkkg6r5t7cf4xbu2k", lastVaultRotation: try date("2027-01-15T08:00:00.000Z"),
            nextVaultRotation: try date("2027-01-16T08:00:00.000Z"), retryAt: try date("2027-01-15T08:00:10.000Z"),
            lastError: "error setting credentials: forced error", failedAttempts: 1))
        XCTAssertEqual(try engine.staticRoles.read("sched"), StaticRole(
            dbName: "db", username: "sched", rotationStatements: [], rotationPeriod: 0, rotationSchedule: "0 3 * * sat",
            rotationWindow: 7200, credentialType: .password, credentialConfig: [:], password: "88clyql2wzfq7nsawv6i4in7",
            lastVaultRotation: try date("2027-01-15T08:00:00.000Z"), nextVaultRotation: try date("2027-01-16T03:00:00.000Z")))

        XCTAssertEqual(try engine.passwordPolicies.read("pol"), StoredPasswordPolicy(
            policy: "length = 24\nrule \"charset\" {\n  charset = \"abcdefghijklmnopqrstuvwxyz0123456789\"\n  min-chars = 2\n}\n"))

        let renewed = "database/creds/ro/6apBfOQeArfb9wKER4NNgLCr", failed = "database/creds/ro/sAeg8Etgr3Rpt8aYTPFJjw2i"
        XCTAssertEqual(try engine.leases.read(id: renewed), Lease(
            id: renewed, role: "ro", dbName: "db", username: "v-root-ro-CF1E6F57", revocationStatements: ["DROP {{name}}"],
            issueTime: try date("2027-01-15T08:00:00.000Z"), expireTime: try date("2027-01-15T10:01:00.000Z"),
            lastRenewal: try date("2027-01-15T08:01:00.000Z")))
        XCTAssertEqual(try engine.leases.read(id: failed), Lease(
            id: failed, role: "ro", dbName: "db", username: "v-root-ro-5229F306", revocationStatements: ["DROP {{name}}"],
            issueTime: try date("2027-01-15T08:01:00.000Z"), expireTime: try date("2027-01-15T09:01:00.000Z"),
            revokeAttempts: 1, lastError: "forced error", nextRevokeAttempt: try date("2027-01-15T08:01:15.416Z")))
        // The expiry index of format 1 still finds the lease whose retry is due.
        let (due, problems) = try engine.leases.dueMarkers(at: try date("2027-01-15T08:02:00.000Z"))
        XCTAssertEqual(due.map(\.file), ["ro.sAeg8Etgr3Rpt8aYTPFJjw2i"])
        XCTAssertEqual(problems, [])
        XCTAssertEqual(try engine.leases.claim(file: due[0].file, bucket: due[0].bucket, at: try date("2027-01-15T08:02:00.000Z"))?.id, failed)

        // Intents written before their later fields existed read with those fields absent.
        let created = try date("2027-01-15T08:01:00.000Z")
        XCTAssertEqual(try engine.intents.list().map { "\($0.kind.rawValue) \($0.object)" },
                       ["creds ro.PendingLeaseIdentifier01", "root db", "static app"])
        XCTAssertEqual(try engine.intents.read(RootRotationIntent.self, "db"), RootRotationIntent(
            connection: "db", username: "admin", oldPassword: "root-secret", newPassword: "root-next-secret", createdAt: created))
        XCTAssertEqual(try engine.intents.read(StaticRotationIntent.self, "app"), StaticRotationIntent(
            role: "app", username: "app", newPassword: "app-next-secret", createdAt: created))
        XCTAssertEqual(try engine.intents.read(CredsIntent.self, "ro.PendingLeaseIdentifier01"), CredsIntent(
            leaseID: "database/creds/ro/PendingLeaseIdentifier01", role: "ro", dbName: "db", createdAt: created))
    }

    /// What users see of the same files, through the paths.
    /// Leases are decoded without JSONDecoder (`Lease.decodeQuickly`, for listings of 100,000):
    /// what it takes it reads as JSONDecoder does, and what it does not take goes JSONDecoder's
    /// way, with its errors.
    func testTheQuickLeaseDecoderReadsWhatJSONDecoderReads() throws {
        let leases = Self.fixtures.appendingPathComponent("format-1/leases")
        let url = URL(fileURLWithPath: "/state/leases/x.json")
        for name in try FileManager.default.contentsOfDirectory(atPath: leases.path) {
            let data = try Data(contentsOf: leases.appendingPathComponent(name))
            let quick = try XCTUnwrap(Lease.decodeQuickly(data), name)
            XCTAssertEqual(quick, try StateCoding.decoder.decode(Lease.self, from: data), name)
            var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            object["last_error"] = NSNull()
            let withNull = try JSONSerialization.data(withJSONObject: object)
            XCTAssertEqual(Lease.decodeQuickly(withNull), try StateCoding.decoder.decode(Lease.self, from: withNull), name)
            object["irrevocable"] = nil
            let missing = try JSONSerialization.data(withJSONObject: object)
            XCTAssertNil(Lease.decodeQuickly(missing))
            XCTAssertThrowsError(try RecordStore<Lease>.decode(missing, file: url)) {
                XCTAssertEqual(($0 as? EngineError)?.message, "state file /state/leases/x.json is corrupt: missing irrevocable")
            }
            object["irrevocable"] = "yes"
            XCTAssertNil(Lease.decodeQuickly(try JSONSerialization.data(withJSONObject: object)), "a wrong type is JSONDecoder's to report")
        }
    }

    /// Connections, roles and static roles skip JSONDecoder too (QuickRecord.swift, for start-up).
    /// For every key of every fixture: the file as written, the key null, absent, or of another
    /// type, the quick reader takes what JSONDecoder takes and reads the same record, and leaves
    /// the rest to JSONDecoder.
    func testTheQuickRecordReadersReadWhatJSONDecoderReads() throws {
        try assertQuickReaderAgrees(folder: "config", DatabaseConfig.decodeQuickly)
        try assertQuickReaderAgrees(folder: "roles", DynamicRole.decodeQuickly)
        try assertQuickReaderAgrees(folder: "static-roles", StaticRole.decodeQuickly)
        try assertQuickReaderAgrees(folder: "leases", Lease.decodeQuickly)
    }

    /// A whole number written as `1.0` is `.int` to JSONValue's decoder and `.double` to the
    /// parser: the quick reader leaves such a file to the decoder.
    func testAWholeNumberWithAFractionTakesTheDecodersPath() throws {
        let text = #"{"format_version": 1, "db_name": "db", "creation_statements": [], "revocation_statements": [],"#
            + #" "rollback_statements": [], "renew_statements": [], "default_ttl": 0, "max_ttl": 0,"#
            + #" "credential_type": "password", "credential_config": {"bits": 2048.0, "list": [1.5]}}"#
        let data = Data(text.utf8)
        XCTAssertNil(DynamicRole.decodeQuickly(data))
        XCTAssertEqual(try RecordStore<DynamicRole>.decode(data, file: URL(fileURLWithPath: "/r.json")).credentialConfig,
                       ["bits": .int(2048), "list": .array([.double(1.5)])])
    }

    private func assertQuickReaderAgrees<R: Codable & Equatable>(folder: String, _ quick: (Data) -> R?,
                                                                 file: StaticString = #filePath, line: UInt = #line) throws {
        let directory = Self.fixtures.appendingPathComponent("format-1/" + folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }
        XCTAssertFalse(names.isEmpty, folder, file: file, line: line)
        for name in names {
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            XCTAssertEqual(try XCTUnwrap(quick(data), name, file: file, line: line),
                           try StateCoding.decoder.decode(R.self, from: data), name, file: file, line: line)
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            for key in object.keys where key != "format_version" {
                let wrong: Any = object[key] is String ? 7 : "a string"
                for (change, value) in [("null", NSNull() as Any?), ("absent", nil), ("of another type", wrong)] {
                    var changed = object
                    changed[key] = value
                    let variant = try JSONSerialization.data(withJSONObject: changed)
                    let expected = try? StateCoding.decoder.decode(R.self, from: variant)
                    let context = "\(folder)/\(name): \(key) \(change)"
                    if let expected {
                        // Taken, or left to the decoder: never read differently.
                        if let read = quick(variant) { XCTAssertEqual(read, expected, context, file: file, line: line) }
                    } else {
                        XCTAssertNil(quick(variant), context, file: file, line: line)
                    }
                }
            }
        }
    }

    /// `lease list` walks the lease folder through a packed listing (`StateFolder.sortedNames`):
    /// the same names, in the same order, as the record listing every other command uses.
    func testThePackedListingListsWhatTheRecordListingLists() throws {
        let folder = TemporaryFolder("dbsecrets-listing")
        defer { folder.remove() }
        let state = StateDirectory(root: folder.url.appendingPathComponent("state"))
        let leases = try XCTUnwrap(try state.openFolder(.lease, create: true))
        for name in ["b.X.json", "a-b.Y.json", "a.Z.json", "a.b.W.json", "A.json", "_.json", ".hidden.json", "note.txt", ".json", "z.json~1~2"] {
            try Data().write(to: state.folder(.lease).appendingPathComponent(name))
        }
        let packed = Array(try leases.sortedNames(endingIn: ".json"))
        XCTAssertEqual(packed, try RecordStore<Lease>(state: state, kind: .lease).list())
        XCTAssertEqual(packed, ["A", "_", "a-b.Y", "a.Z", "a.b.W", "b.X"])
    }

    func testFormat1ReadsThroughThePaths() throws {
        let (engine, _, folder) = try engine(on: "format-1")
        defer { folder.remove() }
        func read(_ path: String) throws -> [String: JSONValue]? { try engine.handle(EngineRequest(.read, path))?.data }
        func list(_ path: String) throws -> JSONValue? { try engine.handle(EngineRequest(.list, path))?.data?["keys"] }
        XCTAssertEqual(try read("database/config/db")?["connection_details"],
                       ["connection_url": "fake://{{username}}:{{password}}@db", "extra_parameter": "kept", "username": "admin"])
        XCTAssertEqual(try read("database/roles/ro")?["max_ttl"], 86400)
        XCTAssertEqual(try read("database/static-roles/sched")?["rotation_window"], 7200)
        XCTAssertEqual(try read("database/static-creds/app")?["password"], "3bgye2qnkkg6r5t7cf4xbu2k")
        XCTAssertEqual(try list("database/static-roles"), ["app", "sched"])
        XCTAssertEqual(try read("sys/policies/password/pol")?["policy"]?.stringValue?.hasPrefix("length = 24"), true)
        XCTAssertEqual(try engine.lookupLease("database/creds/ro/6apBfOQeArfb9wKER4NNgLCr")?.data?["expire_time"],
                       "2027-01-15T10:01:00.000Z")
        XCTAssertEqual(try engine.listLeases(prefix: "").map(\.revokeAttempts), [0, 1])
    }

    /// The rule of `StateEvolution`: a field added later, Optional or `@DefaultOnDecode`, reads a
    /// file written before it existed; a plain non-optional one would not.
    func testAFieldAddedLaterReadsOldFiles() throws {
        struct Before: Codable { var dbName: String }
        enum NotSkipped: DecodingDefault { static let value = false }
        struct After: StoredRecord, Equatable {
            var dbName: String
            var addedOptional: Int?
            @DefaultOnDecode<NotSkipped> var addedWithDefault: Bool
        }
        struct Careless: StoredRecord { var dbName: String; var added: Bool = false }

        let old = try StateCoding.encode(Before(dbName: "db"))
        let file = URL(fileURLWithPath: "/state/roles/old.json")
        XCTAssertEqual(try RecordStore<After>.decode(old, file: file), After(dbName: "db", addedOptional: nil, addedWithDefault: false))
        XCTAssertThrowsError(try RecordStore<Careless>.decode(old, file: file)) { error in
            XCTAssertEqual((error as? EngineError)?.message, "state file /state/roles/old.json is corrupt: missing added")
        }
        // Written again, the new field is an ordinary key.
        let new = try StateCoding.encode(After(dbName: "db", addedOptional: 3, addedWithDefault: true))
        XCTAssertTrue(String(decoding: new, as: UTF8.self).contains("\"addedWithDefault\" : true"))
        XCTAssertEqual(try RecordStore<After>.decode(new, file: file).addedWithDefault, true)
    }

    /// A file from a newer format is refused with its path and left as it is.
    func testANewerFormatIsRefusedAndLeftAlone() throws {
        let (engine, state, folder) = try engine(on: "format-1")
        defer { folder.remove() }
        let url = state.appendingPathComponent("roles/ro.json")
        let newer = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "\"format_version\" : 1", with: "\"format_version\" : 2")
        try newer.write(to: url, atomically: true, encoding: .utf8)
        XCTAssertEqual(engineError { try engine.handle(EngineRequest(.write, "database/roles/ro", data: ["max_ttl": "1h"])) }?.message,
                       "state file \(url.path) has format_version 2, which this version of dbsecrets does not understand")
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), newer)
    }

    /// The mount table and a mount's own storage, as the version that added mounts writes them.
    func testFormat1MountsStillDecodeAndServeTheirPaths() throws {
        let (engine, _, folder) = try engine(on: "format-1-mounts")
        defer { folder.remove() }
        let table = try engine.mountTable.read()
        XCTAssertEqual(table.entries.map(\.path), ["database/", "team/pg/", "old/"])
        XCTAssertEqual(table.entries[0], MountEntry(
            path: "database/", type: "database", description: "written explicit by secrets enable database",
            accessor: "database_00000000", uuid: "00000000-0000-0000-0000-000000000000", defaultLeaseTTL: 0, maxLeaseTTL: 0,
            forceNoCache: false, local: false, sealWrap: false, externalEntropyAccess: false, usesTopLevelStorage: true,
            createdAt: try date("2027-01-15T07:00:00.000Z")))
        XCTAssertEqual(table.entries[1], MountEntry(
            path: "team/pg/", type: "database", description: "team", accessor: "database_5ab1c0de",
            uuid: "3f0c6a52-9d1e-4c7b-8a55-2e6f0b9d4c11", defaultLeaseTTL: 600, maxLeaseTTL: 1800, forceNoCache: true,
            local: true, sealWrap: false, externalEntropyAccess: false, options: ["k": "v"],
            createdAt: try date("2027-01-15T07:01:00.000Z")))
        XCTAssertEqual(table.entries[2].pendingChange, PendingMountChange(
            kind: .move, destination: "new/", migrationID: "9e0d4b1a-3c2f-4e5d-8a7b-6c5d4e3f2a10",
            startedAt: try date("2027-01-15T07:59:00.000Z")))
        XCTAssertEqual(table.migrations, [MountMigration(id: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", source: "before/",
                                                         target: "old/", status: "success", time: try date("2027-01-15T07:03:00.000Z"))])

        let team = engine.engine(for: table.entries[1])
        XCTAssertEqual(team.scope.ttls, LeaseTTL.MountTTLs(defaultTTL: 600, maximumTTL: 1800))
        let leaseID = "team/pg/creds/ro/Tm8xLeaseUnderTeamPgMnt1"
        XCTAssertEqual(try team.leases.read(id: leaseID), Lease(
            id: leaseID, role: "ro", dbName: "db", username: "v-root-ro-7E21AA01", revocationStatements: nil,
            issueTime: try date("2027-01-15T08:00:00.000Z"), expireTime: try date("2027-01-15T08:10:00.000Z")))
        XCTAssertNil(try engine.leases.read(id: leaseID), "the top-level storage does not hold team/pg/'s leases")
        let (due, _) = try team.leases.dueMarkers(at: try date("2027-01-15T08:11:00.000Z"))
        XCTAssertEqual(due.map(\.file), ["ro.Tm8xLeaseUnderTeamPgMnt1"])
        XCTAssertEqual(try team.intents.read(CredsIntent.self, "ro.PendingUnderTeamPg01"), CredsIntent(
            leaseID: "team/pg/creds/ro/PendingUnderTeamPg01", role: "ro", dbName: "db", username: "v-root-ro-PENDING1",
            createdAt: try date("2027-01-15T08:01:00.000Z")))

        // Through the paths: each mount serves its own objects.
        func list(_ path: String) throws -> JSONValue? { try engine.handle(EngineRequest(.list, path))?.data?["keys"] }
        XCTAssertEqual(try list("team/pg/roles"), ["ro"])
        XCTAssertEqual(try list("database/config"), ["db"])
        XCTAssertEqual(try engine.handle(EngineRequest(.read, "team/pg/config/db"))?.data?["allowed_roles"], ["ro"])
        XCTAssertEqual(try engine.lookupLease(leaseID)?.data?["expire_time"], "2027-01-15T08:10:00.000Z")
        let mounts = try XCTUnwrap(engine.handle(EngineRequest(.read, "sys/mounts"))?.data)
        XCTAssertEqual(mounts.keys.sorted(), ["database/", "old/", "sys/", "team/pg/"])
        XCTAssertEqual(mounts["team/pg/"]?.objectValue?["config"], ["default_lease_ttl": 600, "max_lease_ttl": 1800, "force_no_cache": true])
        XCTAssertEqual(try engine.handle(EngineRequest(.read, "sys/remount/status/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"))?.data?["migration_info"],
                       ["source_mount": "before/", "target_mount": "old/", "status": "success"])
    }
}
