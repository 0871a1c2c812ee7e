import XCTest

final class UsernameTemplatePlaceholder: XCTestCase {
    func testPlaceholder() {}
}
