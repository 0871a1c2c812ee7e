import DBPlugin
import Engine
import TestSupport
import XCTest

final class RolePathTests: XCTestCase {
    func testCreateReadsBackWithDefaultsAndSecondsForTTLs() throws {
        let f = EngineFixture()
        try f.write("database/roles/r", ["db_name": "db", "default_ttl": "5m", "max_ttl": "10m",
                                         "creation_statements": "  CREATE ROLE x;  "])
        XCTAssertEqual(try f.read("database/roles/r")?.data, [
            "db_name": "db", "creation_statements": ["CREATE ROLE x;"], "revocation_statements": [],
            "rollback_statements": [], "renew_statements": [], "default_ttl": 300, "max_ttl": 600,
            "credential_type": "password",
        ])
    }

    func testUpdateChangesOnlyWhatIsGiven() throws {
        let f = EngineFixture()
        try f.write("database/roles/r", ["db_name": "db", "default_ttl": "5m", "max_ttl": "10m", "creation_statements": "C"])
        try f.write("database/roles/r", ["max_ttl": "7m"])
        let data = try XCTUnwrap(f.read("database/roles/r")?.data)
        XCTAssertEqual(data["max_ttl"], 420)
        XCTAssertEqual(data["default_ttl"], 300)
        XCTAssertEqual(data["creation_statements"], ["C"])
        try f.write("database/roles/r", ["creation_statements": ["A", "B"], "revocation_statements": "R"])
        XCTAssertEqual(try f.read("database/roles/r")?.data?["creation_statements"], ["A", "B"])
        XCTAssertEqual(try f.read("database/roles/r")?.data?["revocation_statements"], ["R"])
    }

    func testDurationForms() throws {
        let f = EngineFixture()
        for (input, seconds) in [("90s", 90), ("1h30m", 5400), ("3600", 3600), ("2d", 172_800), ("1.5h", 5400)] {
            try f.write("database/roles/r", ["db_name": "db", "default_ttl": .string(input)])
            XCTAssertEqual(try f.read("database/roles/r")?.data?["default_ttl"], .int(seconds), input)
        }
        try f.write("database/roles/r", ["default_ttl": 60])
        XCTAssertEqual(try f.read("database/roles/r")?.data?["default_ttl"], 60)
        XCTAssertEqual(engineError { try f.write("database/roles/r", ["default_ttl": "-1"]) }?.message,
                       "Field validation failed: error converting input -1 for field \"default_ttl\": cannot provide negative value '-1'")
        XCTAssertEqual(engineError { try f.write("database/roles/r", ["max_ttl": "1x"]) }?.message,
                       "Field validation failed: error converting input 1x for field \"max_ttl\": time: unknown unit \"x\" in duration \"1x\"")
    }

    func testValidationErrors() throws {
        let f = EngineFixture()
        XCTAssertEqual(engineError { try f.write("database/roles/r", ["default_ttl": "1h"]) }?.message, "database name is required")
        XCTAssertEqual(engineError { try f.write("database/roles/r", ["db_name": "db", "credential_type": "magic"]) }?.message,
                       "invalid credential_type \"magic\"")
        XCTAssertEqual(engineError { try f.write("database/roles/r", ["db_name": "db", "credential_type": "rsa_private_key",
                                                                      "credential_config": ["key_bits": "256"]]) }?.message,
                       "credential_config validation failed: invalid key_bits: 256")
        XCTAssertEqual(try f.list("database/roles"), [])
    }

    func testCredentialConfig() throws {
        let f = EngineFixture()
        try f.write("database/roles/p", ["db_name": "db", "credential_config": ["password_policy": "strong"]])
        XCTAssertEqual(try f.read("database/roles/p")?.data?["credential_config"], ["password_policy": "strong"])
        try f.write("database/roles/k", ["db_name": "db", "credential_type": "rsa_private_key"])
        XCTAssertEqual(try f.read("database/roles/k")?.data?["credential_config"], ["format": "pkcs8", "key_bits": 2048])
        try f.write("database/roles/n", ["db_name": "db"])
        XCTAssertNil(try f.read("database/roles/n")?.data?["credential_config"])
    }

    func testDynamicAndStaticRoleNamesAreUniqueAcrossBothKinds() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        f.database.addUser("app", password: "initial")
        XCTAssertEqual(engineError { try f.write("database/static-roles/ro", ["db_name": "db", "username": "app", "rotation_period": "1h"]) }?.message,
                       "Role and Static Role names must be unique")
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h"])
        XCTAssertEqual(engineError { try f.write("database/roles/app", ["db_name": "db"]) }?.message,
                       "Role and Static Role names must be unique")
    }

    func testDeleteIsSilentAndListIsSorted() throws {
        let f = EngineFixture()
        for name in ["b", "a", "c"] { try f.write("database/roles/\(name)", ["db_name": "db"]) }
        XCTAssertEqual(try f.list("database/roles"), ["a", "b", "c"])
        try f.delete("database/roles/b")
        try f.delete("database/roles/b")
        XCTAssertEqual(try f.list("database/roles"), ["a", "c"])
    }
}

final class ClientCertificateRoleTests: XCTestCase {
    func testTheCAPrivateKeyIsNeverReadBack() throws {
        let f = EngineFixture()
        try f.write("database/roles/c", ["db_name": "db", "credential_type": "client_certificate",
                                         "credential_config": ["key_type": "ec", "common_name_template": "{{.RoleName}}",
                                                               "ca_cert": "CERT", "ca_private_key": "KEY-SECRET"]])
        let config = try XCTUnwrap(f.read("database/roles/c")?.data?["credential_config"]?.objectValue)
        XCTAssertNil(config["ca_private_key"])
        XCTAssertEqual(config["key_bits"], 256)
        XCTAssertEqual(engineError { try f.write("database/roles/d", ["db_name": "db", "credential_type": "client_certificate",
                                                                      "credential_config": ["key_type": "ec"]]) }?.message,
                       "credential_config validation failed: missing required common_name_template")
    }
}

final class UnrecognizedFieldTests: XCTestCase {
    func testATypoInARoleWriteIsWarnedAboutAndChangesNothingElse() throws {
        let f = EngineFixture()
        XCTAssertNil(try f.write("database/roles/r", ["db_name": "db", "default_ttl": "1h"]))
        let response = try f.write("database/roles/r", ["default_tll": "2h", "zzz": "1"])
        XCTAssertEqual(response?.warnings, ["Endpoint ignored these unrecognized parameters: [default_tll zzz]"])
        XCTAssertEqual(try f.read("database/roles/r")?.data?["default_ttl"], 3600)
    }
}
