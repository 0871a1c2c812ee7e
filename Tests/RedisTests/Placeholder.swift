import XCTest

final class RedisPlaceholder: XCTestCase {
    func testPlaceholder() {}
}
