import Foundation
import XCTest
@testable import PasswordPolicy

/// SplitMix64: a seeded generator so that a failing input can be reproduced from the printed seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random and mutated policies must only ever parse or fail with `PasswordPolicy.Error`; a policy
/// that parses must generate a password honouring its rules or time out. Bounded to about a second.
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
        var generator = SeededGenerator(state: UInt64.random(in: 0...UInt64.max))
        let seed = generator.state
        // DBSECRETS_FUZZ_SECONDS lengthens the run for a deliberate fuzzing session.
        let seconds = ProcessInfo.processInfo.environment["DBSECRETS_FUZZ_SECONDS"].flatMap(Double.init) ?? 1
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
        var inputs = 0
        var parsed = 0
        while ContinuousClock.now < deadline {
            let text = Bool.random(using: &generator) ? mutated(&generator) : randomText(&generator)
            inputs += 1
            let started = ContinuousClock.now
            do {
                let policy = try PasswordPolicy(hcl: text)
                parsed += 1
                let password = Array(try policy.generate(timeout: .milliseconds(5)).unicodeScalars)
                XCTAssertEqual(password.count, policy.length, "\(text.debugDescription) (seed \(seed))")
                for rule in policy.rules {
                    XCTAssertTrue(rule.isSatisfied(by: password, members: Set(rule.charset.unicodeScalars)),
                                  "\(text.debugDescription) (seed \(seed))")
                }
            } catch is PasswordPolicy.Error {
                // Rejections and timeouts are fine; only traps, hangs and foreign error types are not.
            } catch {
                XCTFail("unexpected error type \(error) for \(text.debugDescription) (seed \(seed))")
            }
            XCTAssertLessThan(ContinuousClock.now - started, .milliseconds(500), "slow input \(text.debugDescription) (seed \(seed))")
        }
        print("fuzzed \(inputs) inputs, \(parsed) parsed, seed \(seed)")
        XCTAssertGreaterThan(inputs, 100, "seed \(seed)")
        XCTAssertGreaterThan(parsed, 10, "seed \(seed)")
    }

    private func randomText(_ generator: inout SeededGenerator) -> String {
        var text = ""
        for _ in 0..<Int.random(in: 0...40, using: &generator) {
            if Int.random(in: 0..<3, using: &generator) == 0 {
                text += fragments.randomElement(using: &generator)!
            } else {
                text.unicodeScalars.append(Unicode.Scalar(UInt8.random(in: 0...127, using: &generator)))
            }
        }
        return text
    }

    private func mutated(_ generator: inout SeededGenerator) -> String {
        var characters = Array(seeds.randomElement(using: &generator)!)
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            let at = Int.random(in: 0...characters.count, using: &generator)
            switch Int.random(in: 0..<4, using: &generator) {
            case 0 where !characters.isEmpty:
                let end = min(characters.count, at + Int.random(in: 1...6, using: &generator))
                characters.removeSubrange(min(at, characters.count - 1)..<end)
            case 1:
                characters.insert(contentsOf: fragments.randomElement(using: &generator)!, at: at)
            case 2 where !characters.isEmpty:
                let start = Int.random(in: 0..<characters.count, using: &generator)
                let slice = characters[start..<min(characters.count, start + Int.random(in: 1...12, using: &generator))]
                characters.insert(contentsOf: slice, at: at)
            default:
                if at < characters.count { characters[at] = Character(Unicode.Scalar(UInt8.random(in: 32...126, using: &generator))) }
            }
        }
        return String(characters)
    }
}
