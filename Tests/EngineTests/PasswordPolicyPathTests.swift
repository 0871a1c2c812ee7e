import DBPlugin
import Engine
import TestSupport
import XCTest

final class PasswordPolicyPathTests: XCTestCase {
    let digitsOnly = """
    length = 24
    rule "charset" {
      charset = "0123456789"
      min-chars = 24
    }
    """

    func testWriteReadListGenerateDelete() throws {
        let f = EngineFixture()
        try f.write("sys/policies/password/digits", ["policy": .string(digitsOnly)])
        XCTAssertEqual(try f.read("sys/policies/password/digits")?.data?["policy"], .string(digitsOnly))
        XCTAssertEqual(try f.list("sys/policies/password"), ["digits"])
        let generated = try XCTUnwrap(f.read("sys/policies/password/digits/generate")?.data?["password"]?.stringValue)
        XCTAssertNotNil(generated.range(of: "^[0-9]{24}$", options: .regularExpression))
        try f.delete("sys/policies/password/digits")
        XCTAssertNil(try f.read("sys/policies/password/digits"))
        XCTAssertEqual(engineError { try f.read("sys/policies/password/digits/generate") }?.message, "policy does not exist")
    }

    func testInvalidPoliciesAreRefusedWithVaultsMessages() {
        let f = EngineFixture()
        XCTAssertEqual(engineError { try f.write("sys/policies/password/p", ["policy": "length = 0\nrule \"charset\" { charset = \"a\" }"]) }?.message,
                       "invalid password policy: length must be > 0")
        XCTAssertEqual(engineError { try f.write("sys/policies/password/p", ["policy": "length = 2\nrule \"charset\" { charset = \"a\" }"]) }?.message,
                       "passwords must be between 4 and 100 characters")
        XCTAssertEqual(engineError { try f.write("sys/policies/password/p", [:]) }?.message, "missing policy")
    }

    func testRolesAndConnectionsUseTheirPoliciesWithTheRolesFirst() throws {
        let f = EngineFixture()
        try f.write("sys/policies/password/digits", ["policy": .string(digitsOnly)])
        try f.write("sys/policies/password/letters", ["policy": "length = 30\nrule \"charset\" {\n charset = \"abc\"\n min-chars = 30\n}"])
        try f.configureConnectionAndRole()
        try f.write("database/config/db", ["password_policy": "digits"])
        let connectionPolicy = try XCTUnwrap(f.read("database/creds/ro")?.data?["password"]?.stringValue)
        XCTAssertNotNil(connectionPolicy.range(of: "^[0-9]{24}$", options: .regularExpression), connectionPolicy)
        try f.write("database/roles/ro", ["credential_config": ["password_policy": "letters"]])
        let rolePolicy = try XCTUnwrap(f.read("database/creds/ro")?.data?["password"]?.stringValue)
        XCTAssertNotNil(rolePolicy.range(of: "^[abc]{30}$", options: .regularExpression), rolePolicy)
        // Root rotation uses only the connection's policy.
        try f.write("database/rotate-root/db")
        XCTAssertNotNil(f.database.password(of: "admin")?.range(of: "^[0-9]{24}$", options: .regularExpression))
    }
}
