import Foundation
import XCTest
@testable import UsernameTemplate

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

/// Random and mutated templates must only ever parse, render or fail with `UsernameTemplate.Error`:
/// no trap, no other error type, no hang. Bounded to about a second.
final class UsernameTemplateFuzzTests: XCTestCase {
    private let seeds = [
        DefaultUsernameTemplates.postgres, DefaultUsernameTemplates.mysqlLegacy, DefaultUsernameTemplates.hana,
        DefaultUsernameTemplates.mongodb,
        #"{{ printf "%-5s|%05d|%q|%x|%!" .DisplayName 42 "q" 255 }}"#,
        #"a {{- /* c */ -}} b {{ .RoleName | truncate_sha256 12 | base64 | sha256 }}"#,
        #"{{ timestamp "2006-01-02T15:04:05.999Z07:00 Mon Jan _2 __2 002 PM" }}-{{ uuid }}-{{ unix_time_millis }}"#,
        #"{{ (printf "%s" ((lowercase "X"))) | replace "" "-" | uppercase }}{{ 'x' }}{{ `raw` }}{{ print 1 2 true nil }}"#,
    ]
    private let fragments = [
        "{{", "}}", "{{- ", " -}}", "(", ")", "|", "\"", "`", "'", "-", " ", "\n", ".", "$", ":=", ",",
        "/*", "*/", "%", "%s", "%d", "%!", "%*d", "%.*s", "%999999999d", "0x", "1e5", "1.5", "-1", "0", "9999999999999999999999",
        "truncate", "truncate_sha256", "random", "random 65536", "random -3", "printf", "print", "println", "uppercase",
        "replace", "sha256", "base64", "timestamp", "uuid", "unix_time", ".DisplayName", ".RoleName", ".Foo", "nil", "true",
        "if", "end", "é", "😀", "\\", "\\x", "\\u12",
    ]

    func testRandomAndMutatedTemplatesNeverCrashOrHang() {
        var generator = SeededGenerator(state: UInt64.random(in: 0...UInt64.max))
        let seed = generator.state
        // DBSECRETS_FUZZ_SECONDS lengthens the run for a deliberate fuzzing session.
        let seconds = ProcessInfo.processInfo.environment["DBSECRETS_FUZZ_SECONDS"].flatMap(Double.init) ?? 1
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
        var inputs = 0
        var parsed = 0
        while ContinuousClock.now < deadline {
            let source = Bool.random(using: &generator) ? mutated(&generator) : randomText(&generator)
            inputs += 1
            let started = ContinuousClock.now
            do {
                let template = try UsernameTemplate(source)
                parsed += 1
                _ = try template.render(displayName: randomName(&generator), roleName: randomName(&generator))
            } catch is UsernameTemplate.Error {
                // Rejections are fine; only traps, hangs and foreign error types are not.
            } catch {
                XCTFail("unexpected error type \(error) for \(source.debugDescription) (seed \(seed))")
            }
            XCTAssertLessThan(ContinuousClock.now - started, .milliseconds(500), "slow input \(source.debugDescription) (seed \(seed))")
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

    private func randomName(_ generator: inout SeededGenerator) -> String {
        ["", "token", "root", "a.b-c", "ÄÖÜ straße", "😀😀😀😀😀", String(repeating: "x", count: 200)].randomElement(using: &generator)!
    }
}
