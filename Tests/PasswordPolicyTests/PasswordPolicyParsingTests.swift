import Basics
import XCTest
@testable import PasswordPolicy

func policyError(_ hcl: String) -> String? {
    do {
        _ = try PasswordPolicy(hcl: hcl)
        return nil
    } catch let error as PasswordPolicy.Error {
        return error.message
    } catch {
        return "unexpected error type: \(error)"
    }
}

final class PasswordPolicyParsingTests: XCTestCase {
    func testVaultDocumentationPolicy() throws {
        let policy = try PasswordPolicy(hcl: """
        length = 20
        rule "charset" {
          charset = "abcdefghijklmnopqrstuvwxyz"
          min-chars = 1
        }
        rule "charset" {
          charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
          min-chars = 1
        }
        rule "charset" {
          charset = "0123456789"
          min-chars = 1
        }
        rule "charset" {
          charset = "!@#$%^&*"
          min-chars = 1
        }
        """)
        XCTAssertEqual(policy.length, 20)
        XCTAssertEqual(policy.rules, [
            CharsetRule(charset: "abcdefghijklmnopqrstuvwxyz", minChars: 1),
            CharsetRule(charset: "ABCDEFGHIJKLMNOPQRSTUVWXYZ", minChars: 1),
            CharsetRule(charset: "0123456789", minChars: 1),
            CharsetRule(charset: "!@#$%^&*", minChars: 1),
        ])
        XCTAssertEqual(String(String.UnicodeScalarView(policy.charset)),
                       "!#$%&*@^0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".sortedByCodePoint)
    }

    func testSingleLineBlocksAsInEngineReference() throws {
        let policy = try PasswordPolicy(hcl: """
        length = 20
        rule "charset" { charset = "abcdefghijklmnopqrstuvwxyz" min-chars = 1 }
        rule "charset" { charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" min-chars = 1 }
        rule "charset" { charset = "0123456789"  min-chars = 1 }
        rule "charset" { charset = "-"           min-chars = 1 }
        """)
        XCTAssertEqual(policy, PasswordPolicy.vaultDefault)
    }

    func testCommasCommentsAndNestedRuleForm() throws {
        let policy = try PasswordPolicy(hcl: """
        # the length
        length = 12, // trailing comment
        /* a block
           comment */
        rule "charset" { charset = "abc", min-chars = 2, }
        rule { charset { charset = "xyz" } }
        "length" = 0x10
        """)
        XCTAssertEqual(policy.length, 16)
        XCTAssertEqual(policy.rules, [CharsetRule(charset: "abc", minChars: 2), CharsetRule(charset: "xyz", minChars: 0)])
    }

    func testUnknownAttributesAreIgnoredAsVaultDoes() throws {
        let policy = try PasswordPolicy(hcl: #"length = 8  extra = "x"  rule "charset" { charset = "ab" other = [1, 2] }"#)
        XCTAssertEqual(policy.rules, [CharsetRule(charset: "ab", minChars: 0)])
    }

    func testStringEscapes() throws {
        let policy = try PasswordPolicy(hcl: #"length = 4 rule "charset" { charset = "a\"\\\u00e9\x41\102" }"#)
        XCTAssertEqual(policy.rules[0].charset, "a\"\\éAB")
    }

    func testFloatLengthIsTruncatedLikeMapstructure() throws {
        XCTAssertEqual(try PasswordPolicy(hcl: #"length = 12.9 rule "charset" { charset = "a" }"#).length, 12)
    }

    func testSourceIsKeptAndCanonicalHCLRoundTrips() throws {
        let source = "length=10\nrule \"charset\" { charset = \"a\\\"b c\" min-chars = 2 }"
        let policy = try PasswordPolicy(hcl: source)
        XCTAssertEqual(policy.hclSource, source)
        XCTAssertEqual(policy.hcl, "length = 10\nrule \"charset\" {\n  charset = \"a\\\"b c\"\n  min-chars = 2\n}\n")
        XCTAssertEqual(try PasswordPolicy(hcl: policy.hcl), policy)
        XCTAssertEqual(try PasswordPolicy(hcl: PasswordPolicy.vaultDefault.hcl), PasswordPolicy.vaultDefault)
    }

    /// A policy built in code renders its source only when asked, still from the values it was
    /// built with, not from later changes.
    func testTheSourceOfAPolicyBuiltInCodeIsItsFirstRendering() throws {
        var policy = try PasswordPolicy(length: 8, rules: [CharsetRule(charset: "ab", minChars: 1)])
        let first = policy.hcl
        XCTAssertEqual(policy.hclSource, first)
        policy.length = 12
        policy.rules.append(CharsetRule(charset: "c"))
        XCTAssertEqual(policy.hclSource, first)
        XCTAssertNotEqual(policy.hcl, first)
        XCTAssertEqual(PasswordPolicy.vaultDefault.hclSource, PasswordPolicy.vaultDefault.hcl)
    }

    func testSyntaxErrorsCarryLineAndColumn() {
        XCTAssertEqual(policyError("asdf"), "unable to decode: At 1:5: key 'asdf' expected start of object ('{') or assignment ('='), got EOF")
        XCTAssertEqual(policyError("length = 20\nrule \"charset\" {\n  charset = \"abc\n}"),
                       "unable to decode: At 3:13: literal not terminated")
        XCTAssertEqual(policyError("length = 20\nrule \"charset\" {\n  charset = \"abc\"\n"),
                       "unable to decode: At 4:1: object expected closing RBRACE got: EOF")
        XCTAssertEqual(policyError("length = 20\n  @"), "unable to decode: At 2:3: illegal char U+0040 '@'")
        XCTAssertEqual(policyError("length = \n"), "unable to decode: At 2:1: expected a value (string, number, bool, list or object) got: EOF")
        XCTAssertEqual(policyError("length = 20 /* open"), "unable to decode: At 1:13: comment not terminated")
        XCTAssertEqual(policyError("rule \"charset\" = {}"), "unable to decode: At 1:16: nested object expected: LBRACE got: ASSIGN")
        XCTAssertEqual(policyError(#"length = 3 rule "charset" { charset = "\q" }"#), "unable to decode: At 1:40: illegal char escape")
        XCTAssertEqual(policyError("= 3"), "unable to decode: At 1:1: expected: IDENT | STRING got: ASSIGN")
        XCTAssertEqual(policyError("x = <<EOF\nabc\nEOF"), "unable to decode: At 1:5: heredoc strings are not supported in password policies")
        XCTAssertEqual(policyError("x = [1, 2"), "unable to decode: At 1:10: list expected closing RBRACK got: EOF")
        XCTAssertEqual(policyError("}"), "unable to decode: At 1:1: expected: IDENT | STRING got: RBRACE")
    }

    func testColumnsCountCharactersNotBytes() {
        XCTAssertEqual(policyError("# é\nlength = 20 rule \"charset\" { charset = \"é\" } ☃"),
                       "unable to decode: At 2:46: illegal char U+2603 '☃'")
    }

    func testDeepNestingIsRejectedWithoutOverflow() {
        XCTAssertEqual(policyError("x = " + String(repeating: "[", count: 100_000)), "unable to decode: At 1:69: nesting is deeper than 64 levels")
    }

    func testTypeErrors() {
        XCTAssertEqual(policyError(#"length = "20""#),
                       "failed to decode configuration: At 1:10: 'length' expected type 'int', got unconvertible type 'string', value: '20'")
        XCTAssertEqual(policyError(#"length = 5 rule "charset" { charset = 5 }"#),
                       "unable to parse rules: unable to parse rule charset: failed to parse charset restriction: At 1:39: 'charset' expected a string, got unconvertible type 'int'")
        XCTAssertEqual(policyError(#"length = 5 rule "charset" { charset = "a" min-chars = true }"#),
                       "unable to parse rules: unable to parse rule charset: failed to parse charset restriction: At 1:55: 'min-chars' expected type 'int', got unconvertible type 'bool', value: 'true'")
    }

    func testUnknownRuleTypeIsRejectedAsVaultDoes() {
        XCTAssertEqual(policyError("length = 20\nrule \"testrule\" {\n string = \"teststring\"\n int = 123\n}"),
                       "unable to parse rules: unable to parse rule testrule: unrecognized rule type testrule")
        XCTAssertEqual(policyError(#"length = 20 rule "Charset" { charset = "abc" }"#),
                       "unable to parse rules: unable to parse rule Charset: unrecognized rule type Charset")
    }

    func testRuleWithoutTypeLabel() {
        XCTAssertEqual(policyError(#"length = 20 rule { charset = "abc" }"#),
                       #"unable to parse rules: unable to get rule info: At 1:30: rules are written rule "charset" { charset = "…" min-chars = N }"#)
    }
}

final class PasswordPolicyValidationTests: XCTestCase {
    func testEmptyPolicyFailsBothChecks() {
        XCTAssertEqual(policyError(""), "length must be > 0; no charset specified")
    }

    func testOnlyLengthHasNoCharset() {
        XCTAssertEqual(policyError("length = 20"), "no charset specified")
    }

    func testLengthMustBePositive() {
        XCTAssertEqual(policyError(#"length = 0 rule "charset" { charset = "abcde" }"#), "length must be > 0")
        XCTAssertEqual(policyError(#"length = -2 rule "charset" { charset = "abcde" }"#), "length must be > 0")
    }

    func testRulesNeedingMoreThanTheLength() {
        let hcl = """
        length = 3
        rule "charset" { charset = "abc" min-chars = 2 }
        rule "charset" { charset = "123" min-chars = 2 }
        """
        XCTAssertEqual(policyError(hcl), "specified rules require at least 4 characters but 3 is specified")
    }

    func testNonPrintableCharacters() {
        XCTAssertEqual(policyError(#"length = 3 rule "charset" { charset = "ab\tc" }"#), "non-printable character in charset")
        XCTAssertEqual(policyError(#"length = 3 rule "charset" { charset = "ab\u200bc" }"#), "non-printable character in charset")
        // Go's unicode.IsPrint accepts the ASCII space.
        XCTAssertNil(policyError(#"length = 3 rule "charset" { charset = "a b" }"#))
    }

    func testCharsetSizeLimit() throws {
        let scalars = (0x100..<0x201).compactMap(Unicode.Scalar.init).filter { $0.properties.isGoPrintable }
        let tooMany = String(String.UnicodeScalarView(scalars.prefix(257)))
        XCTAssertEqual(scalars.prefix(257).count, 257)
        XCTAssertEqual(policyError("length = 3 rule \"charset\" { charset = \"\(tooMany)\" }"),
                       "charset is too long: limited to 255 characters")
        let exactly256 = String(String.UnicodeScalarView(scalars.prefix(256)))
        let policy = try PasswordPolicy(hcl: "length = 300 rule \"charset\" { charset = \"\(exactly256)\" }")
        XCTAssertEqual(try policy.generate().unicodeScalars.count, 300)
    }

    func testDuplicateCharactersCountOnceInTheAlphabet() throws {
        let policy = try PasswordPolicy(length: 5, rules: [CharsetRule(charset: "cba", minChars: 1), CharsetRule(charset: "abz")])
        XCTAssertEqual(policy.charset, ["a", "b", "c", "z"])
    }

    func testCodeBuiltPoliciesAreValidatedToo() {
        XCTAssertThrowsError(try PasswordPolicy(length: 0, rules: [CharsetRule(charset: "a")]))
        XCTAssertThrowsError(try PasswordPolicy(length: 3, rules: []))
    }

    func testTooLongPasswordsAreRefused() {
        XCTAssertEqual(policyError(#"length = 100000 rule "charset" { charset = "a" }"#),
                       "length must be at most 65536 but 100000 is specified")
    }
}

extension String {
    var sortedByCodePoint: String {
        String(String.UnicodeScalarView(unicodeScalars.sorted { $0.value < $1.value }))
    }
}

final class PasswordPolicyJSONTests: XCTestCase {
    /// Vault's "manually JSONified HCL" parser test, with the default rule registry.
    func testJSONFormAsVaultAcceptsIt() throws {
        let policy = try PasswordPolicy(hcl: """
        {
            "charset": "abcde",
            "length": 20,
            "rule": [
                {
                    "charset": [
                        {
                            "charset": "abcde",
                            "min-chars": 2
                        }
                    ]
                }
            ]
        }
        """)
        XCTAssertEqual(policy.length, 20)
        XCTAssertEqual(policy.rules, [CharsetRule(charset: "abcde", minChars: 2)])
    }

    func testJSONWithObjectsInsteadOfLists() throws {
        let policy = try PasswordPolicy(hcl: #"{"length": 8, "rule": {"charset": {"charset": "xy", "min-chars": 1}}}"#)
        XCTAssertEqual(policy, try PasswordPolicy(length: 8, rules: [CharsetRule(charset: "xy", minChars: 1)]))
    }

    func testJSONUnrecognizedRule() {
        XCTAssertEqual(policyError(#"{"length": 20, "rule": [{"testrule": [{"string": "teststring", "int": 123}]}]}"#),
                       "unable to parse rules: unable to parse rule testrule: unrecognized rule type testrule")
    }

    func testJSONTrailingGarbage() {
        XCTAssertEqual(policyError(#"{"length": 20} x"#), "unable to decode: At 1:16: expected EOF after the JSON object got: IDENT")
    }

    func testHugeNumbersDoNotTrap() {
        XCTAssertEqual(policyError("length = 0x7fffffffffffffff"),
                       "failed to decode configuration: At 1:10: 'length' expected type 'int', got unconvertible type 'int', value: '9.223372036854776e+18'")
        XCTAssertEqual(policyError("""
        length = 5
        rule "charset" { charset = "a" min-chars = 8000000000000000000 }
        rule "charset" { charset = "b" min-chars = 8000000000000000000 }
        """), "specified rules require at least 9223372036854775807 characters but 5 is specified")
    }
}

final class PasswordPolicyStorageCheckTests: XCTestCase {
    func testLengthBoundsOfVaultsPolicyEndpoint() throws {
        for length in [3, 101] {
            let policy = try PasswordPolicy(length: length, rules: [CharsetRule(charset: "ab")])
            XCTAssertThrowsError(try policy.checkBeforeStoring()) {
                XCTAssertEqual(($0 as? PasswordPolicy.Error)?.message, "passwords must be between 4 and 100 characters")
            }
        }
        XCTAssertNoThrow(try PasswordPolicy(length: 4, rules: [CharsetRule(charset: "ab")]).checkBeforeStoring())
        XCTAssertNoThrow(try PasswordPolicy.vaultDefault.checkBeforeStoring())
    }

    func testImpossibleRulesAreRefusedWithVaultsMessage() throws {
        let policy = try PasswordPolicy(hcl: """
        length = 4
        rule "charset" { charset = "a" min-chars = 5 }
        rule "charset" { charset = "b" min-chars = -1 }
        """)
        XCTAssertThrowsError(try policy.checkBeforeStoring()) {
            XCTAssertEqual(($0 as? PasswordPolicy.Error)?.message,
                           "unable to generate password from provided policy in 1s: are the rules impossible?")
        }
    }

    func testASpentDeadlineFailsWithoutDrawing() throws {
        var draws = 0
        XCTAssertThrowsError(try PasswordPolicy.vaultDefault.generate(
            randomBytes: { draws += 1; return SecureRandom.bytes($0) }, deadline: .now))
        XCTAssertEqual(draws, 0)
    }
}
