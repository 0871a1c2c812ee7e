import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// MARK: - The one rule for changing a database
//
// Every operation that changes a database (creating a dynamic user, rotating a static role's
// password, rotating the root password) follows one rule, written once in `changeDatabase`:
//
//   1. take the object's lock (a lease, a static role, a connection) and settle any intent a dead
//      process left on it;
//   2. write an intent that names everything the change will do: the username, the new password,
//      the lease id, and every password the database may still hold from earlier attempts;
//   3. change the database;
//   4. write the state (the lease, the role, the connection);
//   5. remove the intent.
//
// A crash, a full disk or a failing statement between any two steps leaves an intent whose
// object lock is free. Since a writer holds the lock from before step 2 until after step 5, a
// free lock proves the writer is gone, so the next command that touches the object (or the next
// `tidy`) settles the intent at once: `settleIntent`, one function per kind, next to its payload
// (CredsIntent.swift, StaticRotationIntent.swift, RootRotationIntent.swift). Settling asks the
// database for the truth where needed, and never deletes an intent while it holds the only copy
// of a password the database may have. Invariants after any crash and the next command:
//
//   - every user the engine created has a lease, or has been dropped;
//   - every lease has a marker in the expiry index for its next due time;
//   - the password `static-creds` returns, and the stored root password, log in;
//   - every intent left is one that the next pass will settle (or report, when the database
//     cannot be reached).

/// The kinds of intent: which object's lock guards each, and how its file is named
/// (`intents/KIND-NAME.json`).
enum IntentKind: String, CaseIterable, Sendable {
    /// A dynamic user about to be created; named after its lease file (`ROLE.ID`).
    case creds
    /// A static role's password about to change (or a static role being created).
    case staticRotation = "static"
    /// The connection's own password about to change.
    case rootRotation = "root"

    var lock: RecordKind {
        switch self {
        case .creds: return .lease
        case .staticRotation: return .staticRole
        case .rootRotation: return .connection
        }
    }

    func fileName(_ object: String) -> String { rawValue + "-" + object }

    /// The kind and object of an intent file name, nil for anything else.
    static func parse(_ fileName: String) -> (IntentKind, String)? {
        for kind in allCases where fileName.hasPrefix(kind.rawValue + "-") {
            let object = String(fileName.dropFirst(kind.rawValue.count + 1))
            return object.isEmpty ? nil : (kind, object)
        }
        return nil
    }
}

/// An intent's payload: what its kind's settle function needs.
protocol Intent: StoredRecord, Equatable {
    static var kind: IntentKind { get }
    /// The name of the object whose lock guards the intent.
    var object: String { get }
}

/// How far settling may go. Right after a change failed, it only asks and repairs; a later
/// command (or `tidy`) may also redo the change, e.g. rotate a password again.
enum SettleMode {
    case afterFailure
    case recovery
}

/// The intents folder: one file per pending change, whatever its kind.
struct IntentStore: Sendable {
    let state: StateDirectory

    /// The folder's files, for what needs no payload (listing, removing, naming).
    private var files: RecordStore<Unread> { RecordStore(state: state, kind: .intent) }
    private struct Unread: StoredRecord {}

    func read<I: Intent>(_ type: I.Type, _ object: String) throws -> I? {
        try RecordStore<I>(state: state, kind: .intent).read(I.kind.fileName(object))
    }

    func write<I: Intent>(_ intent: I) throws {
        try RecordStore<I>(state: state, kind: .intent).write(I.kind.fileName(intent.object), intent)
    }

    func delete(_ kind: IntentKind, _ object: String, durably: Bool = true) throws {
        try files.delete(kind.fileName(object), durably: durably)
    }

    /// Asked before every creds and rotation, so through the folder's descriptor: a `URL` built
    /// for `FileManager` cost more than the rest of the check (its first path appending). An
    /// entry that cannot be looked at counts as present, so that reading it reports why.
    func exists(_ kind: IntentKind, _ object: String) -> Bool {
        do {
            guard let folder = try state.openFolder(.intent, create: false) else { return false }
            return try folder.entryType(kind.fileName(object) + ".json") != nil
        } catch {
            return true
        }
    }

    func path(_ kind: IntentKind, _ object: String) -> String {
        files.url(kind.fileName(object)).path
    }

    /// Every intent's kind and object, from file names alone; names of no kind are skipped.
    func list() throws -> [(kind: IntentKind, object: String)] {
        try files.list().compactMap { IntentKind.parse($0) }.map { (kind: $0.0, object: $0.1) }
    }
}

extension Engine {
    /// Steps 2–5 of the rule (the caller holds the object's lock, step 1). `replacing` is the
    /// intent a dead process left for the same object, if any: it is put back when this change
    /// fails having changed nothing, since the passwords it names may still be the database's.
    func changeDatabase<I: Intent>(recording intent: I, replacing earlier: I?,
                                   change: () throws -> Void, store: () throws -> Void,
                                   describe: (Error) -> EngineError) throws {
        try intents.write(intent)
        try stepBoundary("\(I.kind.rawValue) intent recorded")
        do {
            try change()
        } catch {
            if (error as? PluginError)?.outcome == .unchanged {
                if let earlier { try? intents.write(earlier) } else { try? intents.delete(I.kind, intent.object) }
            } else {
                _ = try? settleIntent(I.kind, intent.object, mode: .afterFailure)
            }
            throw describe(error)
        }
        try stepBoundary("\(I.kind.rawValue) database changed")
        do {
            try store()
        } catch {
            _ = try? settleIntent(I.kind, intent.object, mode: .afterFailure)
            throw error
        }
        try stepBoundary("\(I.kind.rawValue) state stored")
        // Not waited for: the outcome is on disk (store() synced it), and an intent a power loss
        // brings back is settled by the next command as finished, since every settle step takes
        // a stored outcome for the end of its change (the lease exists, the role or connection
        // holds the new password). One fsync fewer per creds and per rotation.
        try intents.delete(I.kind, intent.object, durably: false)
        try stepBoundary("\(I.kind.rawValue) intent removed")
    }

    /// Settles the intent of `kind` on `object`, if there is one; the caller holds the object's
    /// lock. Returns what was done, nil when there was no intent; throws when it cannot be settled
    /// yet (the intent stays, and the error says why).
    @discardableResult
    func settleIntent(_ kind: IntentKind, _ object: String, mode: SettleMode) throws -> DueWorkItem? {
        switch kind {
        case .creds:
            return try intents.read(CredsIntent.self, object).map { try settle($0, mode: mode) }
        case .staticRotation:
            return try intents.read(StaticRotationIntent.self, object).map { try settle($0, mode: mode) }
        case .rootRotation:
            return try intents.read(RootRotationIntent.self, object).map { try settle($0, mode: mode) }
        }
    }

    /// Every intent whose writer is gone, settled; for `tidy`. An intent whose lock is held
    /// belongs to an operation still running and is left to it.
    func settleAbandonedIntents(report: (DueWorkItem) -> Void, shouldStop: () -> Bool) throws {
        for (kind, object) in try intents.list() {
            if shouldStop() { return }
            do {
                let item = try withLockIfFree(kind.lock, object) {
                    try settleIntent(kind, object, mode: .recovery)
                }
                if let item = item ?? nil { report(item) }
            } catch let error as EngineError {
                report(DueWorkItem(.intentUnsettled, intents.path(kind, object), error.message))
            }
        }
    }
}
