import DBPlugin
import Engine
import Foundation

/// A clock tests move by hand.
public final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }
    public var now: Date { lock.withLock { current } }
    public func advance(_ seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }
}

/// An engine on a temporary state directory, backed by a `FakeDatabase`.
public final class EngineFixture {
    public let folder = TemporaryFolder()
    public let database = FakeDatabase()
    public let clock = TestClock()
    public let engine: Engine

    public init() {
        let clock = self.clock
        engine = Engine(environment: EngineEnvironment(
            state: StateDirectory(root: folder.url.appendingPathComponent("state")),
            plugins: database.catalog(), now: { clock.now }))
    }

    deinit { folder.remove() }

    public var stateURL: URL { folder.url.appendingPathComponent("state") }

    @discardableResult
    public func write(_ path: String, _ data: [String: JSONValue] = [:]) throws -> EngineResponse? {
        try engine.handle(EngineRequest(.write, path, data: data))
    }

    public func read(_ path: String) throws -> EngineResponse? {
        try engine.handle(EngineRequest(.read, path))
    }

    public func list(_ path: String) throws -> [String] {
        try engine.handle(EngineRequest(.list, path))?.data?["keys"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    public func delete(_ path: String) throws {
        _ = try engine.handle(EngineRequest(.delete, path))
    }

    /// A connection `db` to the fake database allowing every role, and a role `ro`.
    public func configureConnectionAndRole(role: [String: JSONValue] = [:]) throws {
        try write("database/config/db", [
            "plugin_name": "fake-database-plugin", "connection_url": "fake://{{username}}:{{password}}@db",
            "username": "admin", "password": "root-secret", "allowed_roles": "*",
        ])
        var data: [String: JSONValue] = ["db_name": "db", "creation_statements": "CREATE", "default_ttl": "1h", "max_ttl": "2h"]
        data.merge(role) { _, new in new }
        try write("database/roles/ro", data)
    }
}

/// The `EngineError` a call threw, for assertions on kind and message.
public func engineError(_ body: () throws -> Any?) -> EngineError? {
    do {
        _ = try body()
        return nil
    } catch let error as EngineError {
        return error
    } catch {
        return EngineError(.operationFailed, "unexpected \(error)")
    }
}
