import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Reads and writes one kind of record as `FOLDER/NAME.json`. Every file carries
/// `format_version`; a file this version does not understand, or cannot parse, is an error that
/// names the file, never a crash and never silently overwritten.
struct RecordStore<Record: StoredRecord>: Sendable {
    let state: StateDirectory
    let kind: RecordKind
    /// Set for a pass of due work (`SharedPlugins`): what it read, kept while the file is unchanged.
    var cache: RecordCache<Record>? = nil

    func url(_ name: String) -> URL {
        state.folder(kind).appendingPathComponent(name + ".json")
    }

    func read(_ name: String) throws -> Record? {
        guard let folder = try state.openFolder(kind, create: false) else { return nil }
        if let cache {
            // The secrets of a record the cache hands out again were learnt when it was read.
            return try cache.record(name + ".json", in: folder) { data in
                let record = try Self.decode(data, file: { url(name) })
                state.secrets.learn(from: record)
                return record
            }
        }
        guard let data = try folder.read(name + ".json") else { return nil }
        let record = try Self.decode(data, file: { url(name) })
        state.secrets.learn(from: record)
        return record
    }

    /// One parse: the version is checked before the record's own fields are read.
    static func decode(_ data: Data, file: URL) throws -> Record {
        try decode(data, file: { file })
    }

    /// `file` only for the error: building its URL costs more than decoding a small record.
    static func decode(_ data: Data, file: () -> URL) throws -> Record {
        if let record = Record.decodeQuickly(data) { return record }
        do {
            return try StateCoding.decoder.decode(VersionedRecord<Record>.self, from: data).value
        } catch let problem as VersionProblem {
            switch problem {
            case .missing:
                throw EngineError.failed("state file \(file().path) is corrupt: not a JSON object with a format_version")
            case .unknown(let version):
                throw EngineError.failed("state file \(file().path) has format_version \(version), which this version of dbsecrets does not understand")
            }
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            throw EngineError.failed("state file \(file().path) is corrupt: not a JSON object with a format_version")
        } catch {
            throw EngineError.failed("state file \(file().path) is corrupt: \(StateCoding.describe(error))")
        }
    }

    func write(_ name: String, _ record: Record) throws {
        state.secrets.learn(from: record)
        let data = try record.encodeQuickly() ?? StateCoding.encode(record, file: url(name))
        guard let folder = try state.openFolder(kind, create: true) else {
            throw StateError.io("cannot create \(state.folder(kind).path)", ENOENT)
        }
        try folder.replace(name + ".json", with: data, temporaries: try state.temporaries())
    }

    /// Removes the record and whatever killed writers left of it. `batched`: for a caller that
    /// removes many, which makes the removals durable itself (`StateFolder.sync`) and leaves
    /// killed writers' temp files to tidy's sweep of those a minute old (listing `tmp/` once per
    /// record was a tenth of a pass revoking 100 leases).
    /// `durably: false`: the removal may be undone by a power loss, for a record whose return is harmless.
    func delete(_ name: String, batched: Bool = false, durably: Bool = true) throws {
        guard let folder = try state.openFolder(kind, create: false) else { return }
        try stepBoundary("remove \(name).json")
        try folder.remove(name + ".json", durably: durably && !batched)
        if batched { return }
        folder.removeLeftovers(of: name + ".json", in: try state.temporaries())
        // Leases hold no secret, and their folder is too large to list on every revocation.
        if kind != .lease { folder.removeLegacyLeftovers(of: name + ".json") }
    }

    /// Names of the records present, sorted; temp files and strays are skipped.
    func list() throws -> [String] {
        guard let folder = try state.openFolder(kind, create: false) else { return [] }
        return try folder.names().compactMap { entry -> String? in
            guard entry.hasSuffix(".json"), !entry.hasPrefix(".") else { return nil }
            return String(entry.dropLast(5))
        }.sorted()
    }
}

/// The records one pass of due work read, each kept with the file it came from, held open: a pass
/// revoking 100 leases of one role read that role's file and its connection's 100 times, parsing
/// them and learning the connection's secrets each time (a third of the pass's instructions).
///
/// A record is handed out again only while its name still leads to the very file it was read
/// from, unchanged: the same device and inode (held open, the inode cannot be freed and its
/// number given to another file), size, modification and change times, owner and mode; anything
/// else, an error included, reads the file again, exactly as without the cache, with every check
/// of a read (a link, another owner, a mode others may write are refused as ever). That makes a
/// record handed out again the one a read would give:
/// - dbsecrets never changes a state file in place: every write, by any process, is a new file
///   renamed over the name, so it has another inode; a removal leaves no entry;
/// - a change made in place (by hand), a `chmod` or a `chown` moves the change time, which the
///   kernel keeps only to its clock tick (a second or two on some file systems): so only a file
///   whose change time was already `settledAge` old when it was read is kept, and any later
///   change gets a later time.
/// At most `capacity` files are held open; past that the cache starts again.
final class RecordCache<Record>: @unchecked Sendable {
    private let lock = Lock()
    private var entries: [String: (file: OpenFile, record: Record)] = [:]
    private let settledAge: TimeInterval
    private let capacity = 32

    init(settledAge: TimeInterval = 2) {
        self.settledAge = settledAge
    }

    /// The record of `file` in `folder` (nil when absent): the one kept, if the file is unchanged,
    /// else read and made by `decode`.
    func record(_ file: String, in folder: StateFolder, decode: (Data) throws -> Record) throws -> Record? {
        if let kept = lock.withLock({ entries[file] }), let now = try? folder.entryStatus(file), Self.same(kept.file.status, now) {
            return kept.record
        }
        guard let (data, opened) = try folder.readKeepingOpen(file) else {
            lock.withLock { entries[file] = nil }
            return nil
        }
        let record = try decode(data)
        let keep = isSettled(opened.status)
        lock.withLock {
            if keep && entries[file] == nil && entries.count >= capacity { entries.removeAll() }
            entries[file] = keep ? (opened, record) : nil
        }
        return record
    }

    private func isSettled(_ status: stat) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let changed = Double(status.st_ctim.tv_sec) + Double(status.st_ctim.tv_nsec) / 1e9
        return changed + settledAge < Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    private static func same(_ a: stat, _ b: stat) -> Bool {
        a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size && a.st_mode == b.st_mode
            && a.st_uid == b.st_uid && a.st_nlink == b.st_nlink
            && a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec
            && a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec
    }
}

/// What a `RecordStore` keeps. Requirements with defaults, not casts: a cast to a protocol
/// (`record as? SecretBearing`) scans every conformance in the binary at its first use, a
/// tenth of a short command's start-up.
protocol StoredRecord: Codable {
    /// The secrets the record holds: the sanitizer learns them whenever it is read or written.
    var secretValues: [String] { get }
    /// The record read without `JSONDecoder` (QuickRecord.swift), for the records a short command
    /// reads; nil leaves the file to `JSONDecoder`.
    static func decodeQuickly(_ data: Data) -> Self?
    /// The file's bytes written without `JSONEncoder` (QuickRecordWriter.swift), exactly as
    /// `StateCoding.encode` writes them, for the records every `creds` writes; nil leaves the
    /// record to `JSONEncoder`.
    func encodeQuickly() -> Data?
}

extension StoredRecord {
    var secretValues: [String] { [] }
    static func decodeQuickly(_ data: Data) -> Self? { nil }
    func encodeQuickly() -> Data? { nil }
}

extension DatabaseConfig: StoredRecord {}
extension DynamicRole: StoredRecord {}
extension StaticRole: StoredRecord {}
extension Lease: StoredRecord {}
extension StoredPasswordPolicy: StoredRecord {}
extension MountTable: StoredRecord {}

private enum VersionProblem: Error {
    case missing
    case unknown(Int)
}

private struct VersionedRecord<Record: Decodable>: Decodable {
    let value: Record

    init(from decoder: Decoder) throws {
        guard let container = try? decoder.container(keyedBy: AnyKey.self),
              let version = try? container.decode(Int.self, forKey: AnyKey(stringValue: "format_version")) else {
            throw VersionProblem.missing
        }
        guard version == StateCoding.formatVersion else { throw VersionProblem.unknown(version) }
        value = try Record(from: decoder)
    }
}

/// The JSON conventions of state files: pretty, sorted keys, RFC 3339 times with fractions.
enum StateCoding {
    /// The `format_version` of every state file this dbsecrets writes and reads.
    static let formatVersion = 1

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad time \(text)"))
            }
            return date
        }
        return d
    }()

    /// The file's bytes. An encoding failure names the file only: Foundation's error describes
    /// the value, which may be a whole record with its passwords.
    static func encode<T: Encodable>(_ value: T, file: @autoclosure () -> URL) throws -> Data {
        do {
            return try encode(value)
        } catch {
            throw EngineError.failed("cannot write state file \(file().path): the record cannot be stored as JSON (nested too deeply, or a number JSON cannot hold)")
        }
    }

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(Timestamp.format(date))
        }
        var data = try encoder.encode(Versioned(value: value))
        data.append(0x0a)
        return data
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing \(key.stringValue)"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c), DecodingError.dataCorrupted(let c):
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? c.debugDescription : "bad value at \(path)"
        default: return "unreadable"
        }
    }
}

/// Writes the record's own keys plus `format_version` in one flat object.
private struct Versioned<T: Encodable>: Encodable {
    let value: T
    func encode(to encoder: Encoder) throws {
        try value.encode(to: encoder)
        var c = encoder.container(keyedBy: AnyKey.self)
        try c.encode(StateCoding.formatVersion, forKey: AnyKey(stringValue: "format_version"))
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
