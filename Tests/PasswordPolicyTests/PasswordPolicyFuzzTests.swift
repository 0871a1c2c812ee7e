import Foundation
import TestSupport
import XCTest
@testable import PasswordPolicy

/// Random and mutated policies must only ever parse or fail with `PasswordPolicy.Error`; a policy
/// that parses must generate a password honouring its rules or time out. Bounded to about a second
/// (`DBSECRETS_FUZZ_SECONDS`).
final class PasswordPolicyFuzzTests: XCTestCase {
    private let seeds = [
        PasswordPolicy.vaultDefault.hcl,
        "length = 12 # c\nrule \"charset\" { charset = \"ab\\\"c\" min-chars = 2, }\n/* x */ rule { charset { charset = \"xyz\" } }",
        #"{"length": 20, "rule": [{"charset": [{"charset": "abcde", "min-chars": 2}]}]}"#,
        "length = 8\nrule \"charset\" {\n  charset = \"!@#$%^&*()\"\n  min-chars = 1\n}\nrule \"charset\" { charset = \"é😀\" }",
    ]
    private let fragments = [
        "length", "=", ":", "rule", "\"charset\"", "charset", "min-chars", "{", "}", "[", "]", ",", "\"", "\\", "\\u00", "\\x4",
        "#", "//", "/*", "*/", "\n", " ", "-", "0x", "1e3", "-5", "99999999999999999999", "0x7fffffffffffffff", "20", "1.5",
        "true", "null", "<<EOF", "é", "😀", "\u{7}", "\t",
    ]

    func testRandomAndMutatedPoliciesNeverCrashOrHang() {
        let run = FuzzRun("password policies")
        var parsed = 0
        run.loop(minimumInputs: 100) { run in
            let text = run.generator.chance(2) ? run.generator.mutated(seeds, fragments: fragments) : run.generator.asciiText(fragments)
            run.input(text.debugDescription)
            do {
                let policy = try PasswordPolicy(hcl: text)
                parsed += 1
                let password = Array(try policy.generate(timeout: .milliseconds(5)).unicodeScalars)
                if password.count != policy.length { run.fail("wrong length \(password.count)") }
                for rule in policy.rules where !rule.isSatisfied(by: password, members: Set(rule.charset.unicodeScalars)) {
                    run.fail("rule not honoured")
                }
            } catch is PasswordPolicy.Error {
                // Rejections and timeouts are fine; only traps, hangs and foreign error types are not.
            }
        }
        XCTAssertGreaterThan(parsed, 10, run.replay)
    }
}
