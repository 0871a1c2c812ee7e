import Foundation
import TestSupport
import XCTest
@testable import MySQLPlugin

final class MySQLPacketTests: XCTestCase {
    func testLengthEncodedIntegersRoundTrip() throws {
        for value: UInt64 in [0, 250, 251, 65535, 65536, 16_777_215, 16_777_216, UInt64.max] {
            var writer = MySQLPacketWriter()
            writer.lengthEncoded(value)
            var reader = MySQLPacketReader(writer.bytes)
            XCTAssertEqual(try reader.lengthEncoded(), value)
            XCTAssertTrue(reader.isAtEnd)
        }
    }

    func testNullMarkerReadsAsNil() throws {
        var reader = MySQLPacketReader([0xfb])
        XCTAssertNil(try reader.lengthEncodedString())
    }

    func testTruncatedPacketIsAProtocolErrorNotACrash() {
        var reader = MySQLPacketReader([0xfc, 0x01])
        XCTAssertThrowsError(try reader.lengthEncoded()) { error in
            XCTAssertEqual((error as? MySQLError)?.kind, .protocolViolation)
        }
    }

    func testErrorPacketWithoutSQLState() {
        let error = MySQLResponse.error(from: [0xff, 0x48, 0x04] + Array("Unknown".utf8))
        XCTAssertEqual(error.code, 1096)
        XCTAssertNil(error.sqlState)
        XCTAssertEqual(error.description, "Error 1096: Unknown")
    }

    func testEOFIsShortAndLongFEIsNot() {
        XCTAssertTrue(MySQLResponse.isEOF([0xfe, 0, 0, 2, 0]))
        XCTAssertFalse(MySQLResponse.isEOF([0xfe] + Array(repeating: 0, count: 8)))
    }

    func testOKPacketCounters() throws {
        let ok = try MySQLOK.decode([0x00, 0x03, 0x00, 0x02, 0x00, 0x01, 0x00])
        XCTAssertEqual(ok.affectedRows, 3)
        XCTAssertEqual(ok.statusFlags, 2)
        XCTAssertEqual(ok.warnings, 1)
    }

    func testHandshakeResponseLayout() {
        let response = MySQLHandshakeResponse(capabilities: [.protocol41, .secureConnection, .pluginAuth,
                                                             .pluginAuthLengthEncodedData],
                                              username: "bob", authResponse: [1, 2, 3], database: nil,
                                              authPluginName: "mysql_native_password")
        let encoded = response.encode()
        XCTAssertEqual(encoded.count, 4 + 4 + 1 + 23 + 4 + 4 + 22)
        XCTAssertEqual(Array(encoded[32..<36]), Array("bob".utf8) + [0])
        XCTAssertEqual(Array(encoded[36..<40]), [3, 1, 2, 3])
    }

    func testStatementsSplitLikeVault() throws {
        func sql(_ statements: [String], _ values: [String: String]) throws -> [String] {
            try MySQLStatements.queries(statements, values).map(\.sql)
        }
        XCTAssertEqual(try sql(["CREATE USER '{{name}}'@'%';  GRANT SELECT ON *.* TO '{{name}}'@'%';"], ["name": "v-x"]),
                       ["CREATE USER 'v-x'@'%'", "GRANT SELECT ON *.* TO 'v-x'@'%'"])
        XCTAssertEqual(try sql([#"["SELECT 1; SELECT 2", "SELECT 3"]"#], [:]), ["SELECT 1; SELECT 2", "SELECT 3"])
        let base64 = Data("SELECT 1;SELECT 2".utf8).base64EncodedString()
        XCTAssertEqual(try sql([base64], [:]), ["SELECT 1", "SELECT 2"])
        XCTAssertEqual(try sql(["  ", ";;"], [:]), [])
        let withPassword = try MySQLStatements.queries(["CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT ALL ON *.* TO '{{name}}'"],
                                                       ["name": "n", "password": "p'w"])
        XCTAssertEqual(withPassword.map(\.holdsPassword), [true, false])
        XCTAssertEqual(withPassword.first?.sql, "CREATE USER 'n'@'%' IDENTIFIED BY 'p''w'")
    }

    func testSQLModeFlags() {
        let mode = MySQLStatements.SQLMode(reported: "REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ONLY_FULL_GROUP_BY,ANSI,NO_BACKSLASH_ESCAPES")
        XCTAssertTrue(mode.ansiQuotes)
        XCTAssertTrue(mode.noBackslashEscapes)
        XCTAssertFalse(MySQLStatements.SQLMode(reported: "STRICT_TRANS_TABLES").ansiQuotes)
        XCTAssertTrue(MySQLStatements.SQLMode.matters(["'{{password}}'"], ["password": "a\\b"]))
        XCTAssertFalse(MySQLStatements.SQLMode.matters(["'{{password}}'"], ["password": "a'b"]))
    }
}
