import XCTest

final class MySQLPlaceholder: XCTestCase {
    func testPlaceholder() {}
}
