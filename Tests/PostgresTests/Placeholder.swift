import XCTest

final class PostgresPlaceholder: XCTestCase {
    func testPlaceholder() {}
}
