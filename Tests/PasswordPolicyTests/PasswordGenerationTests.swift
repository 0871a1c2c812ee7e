import Basics
import Foundation
import XCTest
@testable import PasswordPolicy

final class PasswordGenerationTests: XCTestCase {
    func testVaultDefaultShapeAndClasses() throws {
        var seen = Set<Character>()
        for _ in 0..<2000 {
            let password = try PasswordPolicy.vaultDefault.generate()
            XCTAssertNotNil(password.range(of: "^[a-zA-Z0-9-]{20}$", options: .regularExpression), password)
            XCTAssertTrue(password.contains(where: { $0.isLowercase }), password)
            XCTAssertTrue(password.contains(where: { $0.isUppercase }), password)
            XCTAssertTrue(password.contains(where: { $0.isNumber }), password)
            XCTAssertTrue(password.contains("-"), password)
            seen.formUnion(password)
        }
        XCTAssertEqual(seen.count, 63)
    }

    func testCustomPolicyHonoursEveryRuleAndUsesEveryCharacter() throws {
        let policy = try PasswordPolicy(hcl: """
        length = 12
        rule "charset" { charset = "abcdefghij" min-chars = 2 }
        rule "charset" { charset = "0123" min-chars = 3 }
        rule "charset" { charset = "!@#" min-chars = 1 }
        rule "charset" { charset = "XYZ" }
        """)
        var seen = Set<Unicode.Scalar>()
        for _ in 0..<2000 {
            let password = Array(try policy.generate().unicodeScalars)
            XCTAssertEqual(password.count, 12)
            XCTAssertGreaterThanOrEqual(password.filter { "abcdefghij".unicodeScalars.contains($0) }.count, 2)
            XCTAssertGreaterThanOrEqual(password.filter { "0123".unicodeScalars.contains($0) }.count, 3)
            XCTAssertGreaterThanOrEqual(password.filter { "!@#".unicodeScalars.contains($0) }.count, 1)
            seen.formUnion(password)
        }
        XCTAssertEqual(seen, Set(policy.charset))
        XCTAssertEqual(seen.count, 20)
    }

    func testNonASCIICharsetsAreDrawnByCodePoint() throws {
        let policy = try PasswordPolicy(hcl: #"length = 30 rule "charset" { charset = "äöü€😀" min-chars = 5 }"#)
        let password = try policy.generate()
        XCTAssertEqual(password.unicodeScalars.count, 30)
        XCTAssertTrue(password.unicodeScalars.allSatisfy { "äöü€😀".unicodeScalars.contains($0) })
    }

    func testCharactersAreUniformWithoutRules() throws {
        let alphabet = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        let policy = try PasswordPolicy(length: 20, rules: [CharsetRule(charset: alphabet)])
        var counts: [Character: Int] = [:]
        for _ in 0..<2000 {
            for character in try policy.generate() { counts[character, default: 0] += 1 }
        }
        // 40000 draws over 63 characters: about 635 each, standard deviation about 25; the bounds are 5.5 deviations out.
        // Modulo bias would give "-0123" about 790 each.
        XCTAssertEqual(counts.count, 63)
        XCTAssertGreaterThan(counts.values.min() ?? 0, 495)
        XCTAssertLessThan(counts.values.max() ?? .max, 775)
    }

    func testBytesAboveTheLargestMultipleAreDiscarded() throws {
        // 63 characters: 4 × 63 = 252, so bytes 252...255 must be skipped, 251 % 63 = 62 ('z').
        let policy = try PasswordPolicy(length: 4, rules: [CharsetRule(charset: "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")])
        var stream: [UInt8] = [252, 253, 254, 255, 251, 0, 63, 126]
        let password = try policy.generate(randomBytes: { count in
            defer { stream.removeFirst(min(count, stream.count)) }
            return Array(stream.prefix(count))
        }, timeout: .seconds(1))
        XCTAssertEqual(password, "z---")
    }

    func testCandidatesFailingARuleAreRedrawnWhole() throws {
        // First candidate "aa" lacks a "b"; the whole candidate is redrawn rather than patched.
        let policy = try PasswordPolicy(length: 2, rules: [CharsetRule(charset: "a"), CharsetRule(charset: "b", minChars: 1)])
        var rounds: [[UInt8]] = [[0, 0, 0, 0], [1, 0, 0, 0]]
        let password = try policy.generate(randomBytes: { _ in rounds.removeFirst() }, timeout: .seconds(1))
        XCTAssertEqual(password, "ba")
        XCTAssertTrue(rounds.isEmpty)
    }

    func testImpossibleRulesTimeOut() throws {
        // A negative minimum lets impossible rules pass validation, as in Vault.
        let policy = try PasswordPolicy(hcl: """
        length = 2
        rule "charset" { charset = "a" min-chars = 5 }
        rule "charset" { charset = "b" min-chars = -3 }
        """)
        let started = ContinuousClock.now
        XCTAssertThrowsError(try policy.generate(randomBytes: SecureRandom.bytes, timeout: .milliseconds(200))) {
            XCTAssertEqual(($0 as? PasswordPolicy.Error)?.message, "timed out generating string")
        }
        let elapsed = ContinuousClock.now - started
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(200))
        XCTAssertLessThan(elapsed, .seconds(1))
    }

    func testDefaultTimeoutIsOneSecond() throws {
        let policy = try PasswordPolicy(hcl: #"length = 1 rule "charset" { charset = "a" min-chars = 2 } rule "charset" { charset = "b" min-chars = -1 }"#)
        let started = ContinuousClock.now
        XCTAssertThrowsError(try policy.generate())
        let elapsed = ContinuousClock.now - started
        XCTAssertGreaterThanOrEqual(elapsed, .seconds(1))
        XCTAssertLessThan(elapsed, .seconds(2))
    }

    func testMutatedPoliciesAreValidatedBeforeGenerating() throws {
        var policy = PasswordPolicy.vaultDefault
        policy.length = 3
        XCTAssertThrowsError(try policy.generate()) {
            XCTAssertEqual(($0 as? PasswordPolicy.Error)?.message, "specified rules require at least 4 characters but 3 is specified")
        }
    }
}
