import XCTest

final class CLIPlaceholder: XCTestCase {
    func testPlaceholder() {}
}
