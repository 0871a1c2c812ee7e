@testable import Engine
import XCTest

/// A lease id's file name is cut from its bytes when the id is ASCII (every creds asks for it a
/// few times): the same names as the split by Character, for ids built from the pieces that
/// matter (`/`, `.`, `creds`, word characters, `-`, empty components).
final class LeaseFileNameTests: XCTestCase {
    func testTheByteSplitNamesWhatTheCharacterSplitNames() {
        let pieces = ["/", "/", "creds", "database", "r", "a.b", ".", "-", "_x", "x-", "AbC123", "", "team/pg", "creds/"]
        var generator = SystemRandomNumberGenerator()
        var named = 0
        for _ in 0..<20_000 {
            let id = (0..<Int.random(in: 1...8, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let expected = Lease.fileName(splittingCharactersOf: id)
            XCTAssertEqual(Lease.fileName(forASCIIID: id), expected, id)
            if expected != nil { named += 1 }
        }
        XCTAssertGreaterThan(named, 20, "the ids should include valid ones")
        XCTAssertEqual(Lease.fileName(forID: "database/creds/r/ABC"), "r.ABC")
        XCTAssertEqual(Lease.fileName(forID: "team/pg/creds/r/ABC"), "r.ABC")
        XCTAssertNil(Lease.fileName(forID: "database/creds/r/A.B"))
        XCTAssertNil(Lease.fileName(forID: "d\u{e9}/creds/r\u{e9}/ABC"))
    }
}
