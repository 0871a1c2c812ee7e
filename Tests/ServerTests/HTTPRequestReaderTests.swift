import DBPlugin
@testable import Server
import XCTest

final class HTTPRequestReaderTests: XCTestCase {
    func testPlaceholder() {}
}
