import XCTest

final class CryptoPrimitivesPlaceholder: XCTestCase {
    func testPlaceholder() {}
}
