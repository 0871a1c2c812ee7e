import XCTest

final class PasswordPolicyPlaceholder: XCTestCase {
    func testPlaceholder() {}
}
