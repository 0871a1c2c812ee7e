import Basics
import DBPlugin
import Foundation
@testable import PostgresPlugin
import TestSupport
import XCTest

/// SCRAM's salted password is remembered between logins (`DerivedKeys`), against a real
/// PostgreSQL: derived once, reused while the password and the server's salt stay, never kept
/// unless the server proved it right, and forgotten when the server refuses it.
final class DerivedKeyTests: XCTestCase {
    private final class CountingStore: DerivedKeyStore, @unchecked Sendable {
        private let lock = Lock()
        private var keys: [[UInt8]: [UInt8]] = [:]
        private(set) var hits = 0, remembered = 0, forgotten = 0
        var count: Int { lock.withLock { keys.count } }
        func key(for digest: [UInt8]) -> [UInt8]? {
            lock.withLock { if let key = keys[digest] { hits += 1; return key }; return nil }
        }
        func remember(_ key: [UInt8], for digest: [UInt8]) { lock.withLock { keys[digest] = key; remembered += 1 } }
        func forget(_ digest: [UInt8]) { lock.withLock { keys[digest] = nil; forgotten += 1 } }
        func damageEveryKey() { lock.withLock { for digest in keys.keys { keys[digest] = [UInt8](repeating: 7, count: 32) } } }
    }

    private var server: PostgresTestServer!
    private var store: CountingStore!
    private var previous: (any DerivedKeyStore)?

    override func setUpWithError() throws {
        server = try PostgresTestServer.fromEnvironment()
        previous = DerivedKeys.store
        store = CountingStore()
        DerivedKeys.store = store
    }

    override func tearDown() {
        DerivedKeys.store = previous
    }

    private func logIn(password: String? = nil) throws {
        let connection = try PostgresConnection.connect(PostgresConnection.Configuration(
            host: server.host, port: server.port, user: server.user, password: password ?? server.password, database: server.database))
        connection.close()
    }

    func testTheSaltedPasswordIsDerivedOnceAndReused() throws {
        try logIn()
        XCTAssertEqual(store.remembered, 1)
        XCTAssertEqual(store.hits, 0)
        try logIn()
        try logIn()
        XCTAssertEqual(store.hits, 2, "later logins take the remembered key")
        XCTAssertEqual(store.remembered, 1)
    }

    func testAWrongPasswordIsNeverRemembered() throws {
        XCTAssertThrowsError(try logIn(password: "not-the-password"))
        XCTAssertEqual(store.count, 0)
    }

    func testADamagedKeyCostsOneFailedLoginThenIsDerivedAgain() throws {
        try logIn()
        store.damageEveryKey()
        XCTAssertThrowsError(try logIn()) { XCTAssertEqual(($0 as? PostgresClientError)?.kind, .authentication) }
        XCTAssertEqual(store.forgotten, 1)
        try logIn()
        XCTAssertEqual(store.remembered, 2)
    }

    func testTheDigestCoversSaltCountAndPassword() {
        let base = SCRAMAuthenticator.saltedPasswordDigest(password: "pw", salt: [1, 2], iterations: 4096)
        XCTAssertNotEqual(base, SCRAMAuthenticator.saltedPasswordDigest(password: "pw2", salt: [1, 2], iterations: 4096))
        XCTAssertNotEqual(base, SCRAMAuthenticator.saltedPasswordDigest(password: "pw", salt: [1, 3], iterations: 4096))
        XCTAssertNotEqual(base, SCRAMAuthenticator.saltedPasswordDigest(password: "pw", salt: [1, 2], iterations: 4097))
        // The salt's length is part of it: a byte moved from the salt to the password is another key.
        XCTAssertNotEqual(SCRAMAuthenticator.saltedPasswordDigest(password: "\u{1}b", salt: [7], iterations: 1),
                          SCRAMAuthenticator.saltedPasswordDigest(password: "b", salt: [7, 1], iterations: 1))
    }
}
