import XCTest

final class ElastiCachePlaceholder: XCTestCase {
    func testPlaceholder() {}
}
