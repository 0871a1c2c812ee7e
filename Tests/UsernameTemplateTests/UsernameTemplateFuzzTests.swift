import Foundation
import TestSupport
import XCTest
@testable import UsernameTemplate

/// Random and mutated templates must only ever parse, render or fail with `UsernameTemplate.Error`:
/// no trap, no other error type, no hang. Bounded to about a second (`DBSECRETS_FUZZ_SECONDS`).
final class UsernameTemplateFuzzTests: XCTestCase {
    private let seeds = [
        DefaultUsernameTemplates.postgres, DefaultUsernameTemplates.mysqlLegacy,
        #"{{ printf "v_%s_%s_%s_%s" (.DisplayName | truncate 32) (.RoleName | truncate 20) (random 20) (unix_time) | truncate 127 | replace "-" "_" | uppercase }}"#,
        #"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 15) (.RoleName | truncate 15) (random 20) (unix_time) | replace "." "-" | truncate 100 }}"#,
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
    private let names = ["", "token", "root", "a.b-c", "ÄÖÜ straße", "😀😀😀😀😀", String(repeating: "x", count: 200)]

    func testRandomAndMutatedTemplatesNeverCrashOrHang() {
        let run = FuzzRun("username templates")
        var parsed = 0
        run.loop(minimumInputs: 100) { run in
            let source = run.generator.chance(2) ? run.generator.mutated(seeds, fragments: fragments) : run.generator.asciiText(fragments)
            run.input(source.debugDescription)
            do {
                let template = try UsernameTemplate(source)
                parsed += 1
                _ = try template.render(displayName: run.generator.pick(names), roleName: run.generator.pick(names))
            } catch is UsernameTemplate.Error {
                // Rejections are fine; only traps, hangs and foreign error types are not.
            }
        }
        XCTAssertGreaterThan(parsed, 10, run.replay)
    }
}
