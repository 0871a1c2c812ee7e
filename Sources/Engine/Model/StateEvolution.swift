/// How the records of the state directory change between versions of dbsecrets, so that the
/// files already on users' disks keep reading. The records are `DatabaseConfig`, `DynamicRole`,
/// `StaticRole`, `StoredPasswordPolicy`, `Lease` and the intents (`RootRotationIntent`,
/// `StaticRotationIntent`, `CredsIntent`); every file also carries `format_version`
/// (`StateCoding.formatVersion`, 1 so far).
///
/// - **Adding a field** keeps the format version. The field is an Optional (a file without it
///   decodes as nil, and the code that reads it says what nil means), or it is declared
///   `@DefaultOnDecode<SomeDefault>` so that a file without it decodes with the default. Never a
///   plain non-optional property: Swift's synthesized decoder ignores `= value` initialisers and
///   would call every older file corrupt.
/// - **Changing** what a field means or holds, renaming it or removing it moves `format_version`
///   up by one. The new version still reads the old number and converts as it decodes (the
///   conversion lives beside the record it converts); files are rewritten in the new format only
///   when they are next written, so a rollback to the old binary fails loudly instead of losing
///   data.
/// - **A newer `format_version`** than this build knows is refused with the file's path, and the
///   file is never overwritten (`RecordStore.decode`).
/// - `Tests/EngineTests/StateFixtures/format-N/` holds a state folder written by each format, every
///   record kind in it; `StateFixtureTests` decodes them on every run. They are never regenerated.
enum StateEvolution {}

/// The default a `DefaultOnDecode` field takes in a file written before the field existed.
protocol DecodingDefault {
    associatedtype Value: Codable & Equatable
    static var value: Value { get }
}

/// A record field added after files without it were written: such a file decodes with
/// `Default.value`; encoding writes the value like any other field.
@propertyWrapper
struct DefaultOnDecode<Default: DecodingDefault>: Codable, Equatable {
    var wrappedValue: Default.Value

    init(wrappedValue: Default.Value) {
        self.wrappedValue = wrappedValue
    }

    init(from decoder: Decoder) throws {
        wrappedValue = try decoder.singleValueContainer().decode(Default.Value.self)
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}

extension KeyedDecodingContainer {
    /// What lets the synthesized decoder of a record treat a `DefaultOnDecode` key as optional.
    func decode<Default>(_ type: DefaultOnDecode<Default>.Type, forKey key: Key) throws -> DefaultOnDecode<Default> {
        try decodeIfPresent(type, forKey: key) ?? DefaultOnDecode(wrappedValue: Default.value)
    }
}
