import Basics
import Foundation
import XCTest
@testable import UsernameTemplate

/// The reference time of Go's layouts, Mon Jan 2 15:04:05 MST 2006, with some nanoseconds.
let referenceTime = GoTime(seconds: 1_136_239_445, nanoseconds: 123_456_789, utcOffsetSeconds: -7 * 3600, zoneAbbreviation: "MST")
let atReferenceTime = TemplateEnvironment(now: { referenceTime }, randomBytes: SecureRandom.bytes)

func render(_ source: String, displayName: String = "displayname", roleName: String = "rolename",
            environment: TemplateEnvironment = atReferenceTime) throws -> String {
    try UsernameTemplate(source).render(displayName: displayName, roleName: roleName, environment: environment)
}

func errorMessage(_ body: () throws -> Any) -> String? {
    do {
        _ = try body()
        return nil
    } catch let error as UsernameTemplate.Error {
        return error.message
    } catch {
        return "unexpected error type: \(error)"
    }
}

func assertMatches(_ value: String, _ pattern: String, file: StaticString = #filePath, line: UInt = #line) {
    let matched = value.range(of: pattern, options: .regularExpression) != nil
    XCTAssertTrue(matched, "\(value.debugDescription) does not match \(pattern)", file: file, line: line)
}

final class UsernameTemplateTextTests: XCTestCase {
    func testTemplateWithoutActionsIsReturnedUnchanged() throws {
        XCTAssertEqual(try render("foo-bar"), "foo-bar")
        XCTAssertEqual(try render("this is a template"), "this is a template")
    }

    func testFieldsPrintTheMetadata() throws {
        XCTAssertEqual(try render("{{.DisplayName}}/{{ .RoleName }}", displayName: "token", roleName: "ro"), "token/ro")
        XCTAssertEqual(try render("{{ . }}", displayName: "a", roleName: "b"), "{a b}")
    }

    func testEmptyTemplateIsRejectedAsVaultDoes() {
        XCTAssertEqual(errorMessage { try UsernameTemplate("") }, "missing template")
    }

    func testTrimMarkersRemoveSurroundingWhitespace() throws {
        XCTAssertEqual(try render("a \n\t {{- .RoleName -}} \n b"), "arolenameb")
        XCTAssertEqual(try render("a {{- .RoleName }} b"), "arolename b")
        XCTAssertEqual(try render("a {{ .RoleName -}} b"), "a rolenameb")
    }

    func testMinusWithoutSpaceIsANegativeNumberNotATrimMarker() throws {
        XCTAssertEqual(try render("a {{-3}} b"), "a -3 b")
    }

    func testCommentsProduceNothing() throws {
        XCTAssertEqual(try render("a{{/* a comment */}}b"), "ab")
        XCTAssertEqual(try render("a {{- /* trimmed */ -}} b"), "ab")
    }

    func testMultilineTemplatesKeepTheirNewlines() throws {
        XCTAssertEqual(try render("{{ .RoleName }}\n{{ .DisplayName }}"), "rolename\ndisplayname")
    }
}

final class UsernameTemplateExpressionTests: XCTestCase {
    func testPipedValueIsTheLastArgument() throws {
        XCTAssertEqual(try render(#"{{ .DisplayName | replace "a" "4" }}"#, displayName: "banana"), "b4n4n4")
        XCTAssertEqual(try render("{{ .DisplayName | truncate 3 | uppercase }}", displayName: "banana"), "BAN")
    }

    func testParenthesisedSubExpressionsNest() throws {
        let source = #"{{ printf "%s/%s" (printf "%s-%s" (.RoleName | uppercase) (lowercase "ABC")) (.DisplayName | truncate 2) }}"#
        XCTAssertEqual(try render(source, displayName: "token", roleName: "ro"), "RO-abc/to")
    }

    func testFunctionNamesAsArgumentsAreCalledWithoutArguments() throws {
        XCTAssertEqual(try render(#"{{ printf "%s-%s" unix_time .RoleName }}"#, roleName: "r"), "1136239445-r")
    }

    func testStringLiterals() throws {
        XCTAssertEqual(try render(#"{{ "a\tb\u00e9\x41\101" }}"#), "a\tbéAA")
        XCTAssertEqual(try render("{{ `raw \\n` }}"), "raw \\n")
    }

    func testIntegerLiterals() throws {
        XCTAssertEqual(try render(#"{{ printf "%d %d %d %d %d %d" 42 -7 0x1F 0o17 017 1_000 }}"#), "42 -7 31 15 15 1000")
        XCTAssertEqual(try render("{{ 'a' }}"), "97")
        XCTAssertEqual(try render("{{ true }} {{ print false }}"), "true false")
    }

    func testPrintAndPrintln() throws {
        XCTAssertEqual(try render(#"{{ print "a" "b" 1 2 "c" }}"#), "ab1 2c")
        XCTAssertEqual(try render(#"{{ println "a" 1 }}"#), "a 1\n")
    }
}

final class UsernameTemplatePrintfTests: XCTestCase {
    func testVerbs() throws {
        XCTAssertEqual(try render(#"{{ printf "%s|%v|%d|%v|%%|%q" "a" "b" 5 6 "q\"" }}"#), #"a|b|5|6|%|"q\"""#)
        XCTAssertEqual(try render(#"{{ printf "%x|%X|%o|%b|%c|%U" 255 255 8 5 65 65 }}"#), "ff|FF|10|101|A|U+0041")
        XCTAssertEqual(try render(#"{{ printf "%x" "hi" }}"#), "6869")
    }

    func testWidthPrecisionAndFlags() throws {
        XCTAssertEqual(try render(#"{{ printf "[%5s][%-5s][%05d][%.2s][%+d][%6.3d]" "a" "b" 42 "xyz" 3 7 }}"#),
                       "[    a][b    ][00042][xy][+3][   007]")
    }

    func testMissingArgumentsAreMarkedAsGoDoes() throws {
        XCTAssertEqual(try render(#"{{ printf "%s-%s-%s" "a" "b" }}"#), "a-b-%!s(MISSING)")
        XCTAssertEqual(try render(#"{{ printf "%d" }}"#), "%!d(MISSING)")
    }

    func testExtraArgumentsAreListed() throws {
        XCTAssertEqual(try render(#"{{ printf "%s" "a" "b" 3 }}"#), "a%!(EXTRA string=b, int=3)")
    }

    func testWrongVerbForTheTypeIsMarked() throws {
        XCTAssertEqual(try render(#"{{ printf "%d|%s|%t" "x" 5 5 }}"#), "%!d(string=x)|%!s(int=5)|%!t(int=5)")
        XCTAssertEqual(try render(#"{{ printf "%z" "x" }}"#), "%!z(string=x)")
        XCTAssertEqual(try render(#"{{ printf "abc%" }}"#), "abc%!(NOVERB)")
    }

    func testMetadataStructFormatting() throws {
        XCTAssertEqual(try render(#"{{ printf "%v|%+v" . . }}"#, displayName: "d", roleName: "r"),
                       "{d r}|{DisplayName:d RoleName:r}")
    }
}

final class UsernameTemplateFunctionTests: XCTestCase {
    /// Vault's "template with builtin functions" case from sdk/helper/template/template_test.go.
    func testVaultBuiltinFunctionsExample() throws {
        let source = """
        {{.DisplayName | truncate 10}}
        {{.DisplayName | uppercase}}
        {{.DisplayName | lowercase}}
        {{.DisplayName | replace " " "."}}
        {{.DisplayName | sha256}}
        {{.DisplayName | base64}}
        {{.DisplayName | truncate_sha256 20}}
        """
        let expected = """
        Some strin
        SOME STRING WITH MULTIPLE CAPITALS LETTERS
        some string with multiple capitals letters
        Some.string.with.Multiple.Capitals.LETTERS
        da9872dd96609c72897defa11fe81017a62c3f44339d9d3b43fe37540ede3601
        U29tZSBzdHJpbmcgd2l0aCBNdWx0aXBsZSBDYXBpdGFscyBMRVRURVJT
        Some string 6841cf80
        """
        XCTAssertEqual(try render(source, displayName: "Some string with Multiple Capitals LETTERS"), expected)
    }

    func testTruncate() throws {
        let cases: [(Int, String)] = [(1, "f"), (5, "fooba"), (8, "foobarba"), (9, "foobarbaz"), (10, "foobarbaz"), (100, "foobarbaz")]
        for (length, expected) in cases {
            XCTAssertEqual(try render("{{ .DisplayName | truncate \(length) }}", displayName: "foobarbaz"), expected, "truncate \(length)")
        }
    }

    func testTruncateRejectsNonPositiveLengths() {
        XCTAssertEqual(errorMessage { try render("{{ .DisplayName | truncate 0 }}") },
                       #"unable to apply template: template: template:1:18: executing "template" at <truncate 0>: error calling truncate: max length must be > 0 but was 0"#)
        XCTAssertEqual(errorMessage { try render("{{ truncate -1 .DisplayName }}") },
                       #"unable to apply template: template: template:1:3: executing "template" at <truncate -1 .Display...>: error calling truncate: max length must be > 0 but was -1"#)
    }

    func testTruncateCountsBytesButNeverSplitsACharacter() throws {
        XCTAssertEqual(try render("{{ .DisplayName | truncate 3 }}", displayName: "aéb"), "aé")
        XCTAssertEqual(try render("{{ .DisplayName | truncate 2 }}", displayName: "aéb"), "a")
    }

    func testTruncateSHA256VaultVectors() throws {
        let cases: [(Int, String)] = [
            (9, "t4bb25641"), (12, "this704cd12b"), (22, "thisisareallyl7f978be6"),
            (23, "thisisareallylongstring"), (24, "thisisareallylongstring"), (100, "thisisareallylongstring"),
        ]
        for (length, expected) in cases {
            XCTAssertEqual(try render("{{ .DisplayName | truncate_sha256 \(length) }}", displayName: "thisisareallylongstring"),
                           expected, "truncate_sha256 \(length)")
        }
    }

    func testTruncateSHA256RejectsLengthsUpToEight() {
        for length in [-1, 0, 8] {
            XCTAssertEqual(errorMessage { try render("{{ .DisplayName | truncate_sha256 \(length) }}") },
                           #"unable to apply template: template: template:1:18: executing "template" at <truncate_sha256 \#(length)>: error calling truncate_sha256: max length must be > 8 but was \#(length)"#)
        }
    }

    func testSHA256() throws {
        let cases = [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("foobar", "c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2"),
            ("mystring", "bd3ff47540b31e62d4ca6b07794e5a886b0f655fc322730f26ecd65cc7dd5c90"),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(try render("{{ .DisplayName | sha256 }}", displayName: input), expected)
        }
    }

    func testCaseMapping() throws {
        for (input, upper, lower) in [("", "", ""), ("foobar", "FOOBAR", "foobar"), ("FOOBAR", "FOOBAR", "foobar"),
                                      ("fOoBaR", "FOOBAR", "foobar"), ("straße", "STRAßE", "straße")] {
            XCTAssertEqual(try render("{{ .DisplayName | uppercase }}", displayName: input), upper)
            XCTAssertEqual(try render("{{ .DisplayName | lowercase }}", displayName: input), lower)
        }
    }

    func testReplaceVaultCases() throws {
        let cases = [
            ("", "", "", ""), ("foobar", ".", "_", "foobar"), ("foo.bar", ".", "_", "foo_bar"),
            ("foo.bar.baz", ".", "_", "foo_bar_baz"), ("foo.bar", ".", "", "foobar"), ("foobarbaz", "bar", "_", "foo_baz"),
            ("abc", "", "-", "-a-b-c-"),
        ]
        for (input, find, replacement, expected) in cases {
            let source = "{{ .DisplayName | replace \(GoStringLiteral.quote(find)) \(GoStringLiteral.quote(replacement)) }}"
            XCTAssertEqual(try render(source, displayName: input), expected, "replace \(find) in \(input)")
        }
    }

    func testBase64() throws {
        XCTAssertEqual(try render("{{ .DisplayName | base64 }}", displayName: "foobar"), "Zm9vYmFy")
        XCTAssertEqual(try render("{{ .DisplayName | base64 }}", displayName: "f"), "Zg==")
    }

    func testRandomHasTheRequestedLengthOfBase62() throws {
        for length in 1..<100 {
            assertMatches(try render("{{ random \(length) }}", environment: .system), "^[a-zA-Z0-9]{\(length)}$")
        }
        XCTAssertEqual(try render("{{ random 0 }}"), "")
    }

    func testRandomUsesEveryBase62Character() throws {
        let sample = try render("{{ random 20000 }}", environment: .system)
        XCTAssertEqual(Set(sample).count, 62)
        // Each character should appear about 20000/62 ≈ 323 times; rejection sampling keeps it unbiased.
        let counts = Dictionary(grouping: sample, by: { $0 }).mapValues(\.count)
        XCTAssertGreaterThan(counts.values.min() ?? 0, 200)
        XCTAssertLessThan(counts.values.max() ?? .max, 460)
    }

    func testRandomRejectsNegativeLengths() {
        XCTAssertNotNil(errorMessage { try render("{{ random -1 }}") }?.range(of: "error calling random: length must not be negative"))
    }

    func testRandomBytesAtOrAbove248AreDiscarded() throws {
        // 247 % 62 = 61 ('z'); 248...255 would bias toward the first characters and must be skipped.
        let bytes: [UInt8] = [248, 255, 250, 247, 0, 61, 62]
        let environment = TemplateEnvironment(now: { referenceTime }, randomBytes: { count in Array(bytes.prefix(count)) })
        XCTAssertEqual(TemplateFunctions.base62(4, environment), "z0z0")
    }

    func testUnixTime() throws {
        XCTAssertEqual(try render("{{ unix_time }}"), "1136239445")
        XCTAssertEqual(try render("{{ unix_time_millis }}"), "1136239445123")
        let before = Int(Date().timeIntervalSince1970)
        let now = try XCTUnwrap(Int(try render("{{ unix_time }}", environment: .system)))
        XCTAssertGreaterThanOrEqual(now, before)
        XCTAssertLessThan(now, before + 5)
        assertMatches(try render("{{ unix_time_millis }}", environment: .system), "^[0-9]{13}$")
    }

    func testTimestampWithGoLayouts() throws {
        let cases = [
            ("2006-01-02T15:04:05.000Z", "2006-01-02T15:04:05.123Z"),
            ("2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05-07:00"),
            ("Mon Jan _2 15:04:05 MST 2006", "Mon Jan  2 15:04:05 MST 2006"),
            ("02 Jan 06 15:04 -0700", "02 Jan 06 15:04 -0700"),
            ("Monday, 02-Jan-06 15:04:05 MST", "Monday, 02-Jan-06 15:04:05 MST"),
            ("3:04PM", "3:04PM"),
            ("03:04:05pm .999999999 .9 ,00", "03:04:05pm .123456789 .1 ,12"),
            ("January 1 2 002 __2 -07 Z0700", "January 1 2 002   2 -07 -0700"),
            ("20060102150405", "20060102150405"),
            ("literal text", "literal text"),
        ]
        for (layout, expected) in cases {
            XCTAssertEqual(try render("{{ timestamp \(GoStringLiteral.quote(layout)) }}"), expected, layout)
        }
    }

    func testTimestampInUTCUsesZ() throws {
        let utc = GoTime(seconds: 1_700_000_000, nanoseconds: 0, utcOffsetSeconds: 0, zoneAbbreviation: "UTC")
        let environment = TemplateEnvironment(now: { utc }, randomBytes: SecureRandom.bytes)
        XCTAssertEqual(try render(#"{{ timestamp "2006-01-02T15:04:05.999Z07:00 Mon" }}"#, environment: environment),
                       "2023-11-14T22:13:20Z Tue")
    }

    func testTimestampFromTheSystemClock() throws {
        assertMatches(try render(#"{{timestamp "2006-01-02T15:04:05.000Z"}}"#, environment: .system),
                      #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#)
    }

    func testUUID() throws {
        for _ in 0..<100 {
            assertMatches(try render("{{ uuid }}", environment: .system),
                          "^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$")
        }
    }
}

/// Vault's defaults for plugins dbsecrets does not ship, kept as real-world inputs of the language.
private enum OtherVaultDefaults {
    static let redshift = #"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 8) (.RoleName | truncate 8) (random 20) (unix_time) | truncate 63 | lowercase }}"#
    static let mssql = #"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 20) (.RoleName | truncate 20) (random 20) (unix_time) | truncate 128 }}"#
    static let mongodb = #"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 15) (.RoleName | truncate 15) (random 20) (unix_time) | replace "." "-" | truncate 100 }}"#
    static let cassandra = #"{{ printf "v_%s_%s_%s_%s" (.DisplayName | truncate 15) (.RoleName | truncate 15) (random 20) (unix_time) | truncate 100 | replace "-" "_" | lowercase }}"#
    static let influxdb = #"{{ printf "v_%s_%s_%s_%s" (.DisplayName | truncate 15) (.RoleName | truncate 15) (random 20) (unix_time) | truncate 100 | replace "-" "_" | lowercase }}"#
    static let hana = #"{{ printf "v_%s_%s_%s_%s" (.DisplayName | truncate 32) (.RoleName | truncate 20) (random 20) (unix_time) | truncate 127 | replace "-" "_" | uppercase }}"#
    static let elasticsearch = #"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 15) (.RoleName | truncate 15) (random 20) (unix_time) | truncate 100 }}"#
    static let all = [redshift, mssql, mongodb, cassandra, influxdb, hana, elasticsearch]
}

final class DefaultUsernameTemplateTests: XCTestCase {
    private func generate(_ template: String, _ displayName: String, _ roleName: String) throws -> String {
        try UsernameTemplate(template).render(displayName: displayName, roleName: roleName)
    }

    func testPostgres() throws {
        assertMatches(try generate(DefaultUsernameTemplates.postgres, "displayname", "longrolename"),
                      "^v-displayn-longrole-[a-zA-Z0-9]{20}-[0-9]{10}$")
        assertMatches(try generate(DefaultUsernameTemplates.postgres, "root", "my-role"),
                      "^v-root-my-role-[a-zA-Z0-9]{20}-[0-9]{10}$")
    }

    func testRedshiftIsLowercasePostgres() throws {
        assertMatches(try generate(OtherVaultDefaults.redshift, "DisplayName", "LongRoleName"),
                      "^v-displayn-longrole-[a-z0-9]{20}-[0-9]{10}$")
    }

    func testMySQLIsTruncatedTo32() throws {
        assertMatches(try generate(DefaultUsernameTemplates.mysql, "displayname", "longrolename"),
                      "^v-displaynam-longrolena-[a-zA-Z0-9]{8}$")
        assertMatches(try generate(DefaultUsernameTemplates.mysql, "root", "ro"),
                      "^v-root-ro-[a-zA-Z0-9]{20}-[0-9]$")
    }

    func testMySQLLegacyCutsOffTheMissingMarker() throws {
        assertMatches(try generate(DefaultUsernameTemplates.mysqlLegacy, "displayname", "longrolename"), "^v-long-[a-zA-Z0-9]{9}$")
        assertMatches(try generate(DefaultUsernameTemplates.mysqlLegacy, "displayname", "ro"), "^v-ro-[a-zA-Z0-9]{11}$")
    }

    func testOtherPlugins() throws {
        assertMatches(try generate(OtherVaultDefaults.mssql, "displayname", "longrolename"),
                      "^v-displayname-longrolename-[a-zA-Z0-9]{20}-[0-9]{10}$")
        assertMatches(try generate(OtherVaultDefaults.mongodb, "user.name", "role.name"),
                      "^v-user-name-role-name-[a-zA-Z0-9]{20}-[0-9]{10}$")
        assertMatches(try generate(OtherVaultDefaults.cassandra, "Display-Name", "role"),
                      "^v_display_name_role_[a-z0-9]{20}_[0-9]{10}$")
        assertMatches(try generate(OtherVaultDefaults.influxdb, "token", "role"),
                      "^v_token_role_[a-z0-9]{20}_[0-9]{10}$")
        assertMatches(try generate(OtherVaultDefaults.hana, "display-name", "role"),
                      "^V_DISPLAY_NAME_ROLE_[A-Z0-9]{20}_[0-9]{10}$")
        assertMatches(try generate(OtherVaultDefaults.elasticsearch, "token", "role"),
                      "^v-token-role-[a-zA-Z0-9]{20}-[0-9]{10}$")
    }

    func testEveryDefaultRendersWithEmptyMetadataAsPluginsValidateIt() throws {
        let all = [DefaultUsernameTemplates.postgres, DefaultUsernameTemplates.mysql, DefaultUsernameTemplates.mysqlLegacy]
            + OtherVaultDefaults.all
        for template in all {
            XCTAssertFalse(try generate(template, "", "").isEmpty, template)
        }
        assertMatches(try generate(DefaultUsernameTemplates.postgres, "", ""), "^v---[a-zA-Z0-9]{20}-[0-9]{10}$")
    }
}

final class UsernameTemplateErrorTests: XCTestCase {
    private func parseError(_ source: String) -> String? {
        errorMessage { try UsernameTemplate(source) }
    }

    func testUnknownFunctionIsAParseErrorWithItsPosition() {
        XCTAssertEqual(parseError("{{ foo }}"), #"unable to parse template: template: template:1:3: function "foo" not defined"#)
        XCTAssertEqual(parseError("abc\nxy {{ .RoleName | nope 3 }}"),
                       #"unable to parse template: template: template:2:18: function "nope" not defined"#)
    }

    func testSyntaxErrors() {
        XCTAssertEqual(parseError("{{.String"), "unable to parse template: template: template:1:0: unclosed action")
        XCTAssertEqual(parseError("x\n{{ printf \"%s\" (random 3 }}"),
                       "unable to parse template: template: template:2:25: unclosed left paren")
        XCTAssertEqual(parseError("{{ random 3) }}"), "unable to parse template: template: template:1:11: unexpected right paren")
        XCTAssertEqual(parseError("{{ }}"), "unable to parse template: template: template:1:3: missing value for command")
        XCTAssertEqual(parseError("{{ .RoleName | }}"), "unable to parse template: template: template:1:15: missing value for command")
        XCTAssertEqual(parseError(#"{{ "abc }}"#), "unable to parse template: template: template:1:3: unterminated quoted string")
        XCTAssertEqual(parseError("{{ `abc }}"), "unable to parse template: template: template:1:3: unterminated raw quoted string")
        XCTAssertEqual(parseError(#"{{ random"x" }}"#),
                       #"unable to parse template: template: template:1:9: bad character U+0022 '"' after random"#)
        XCTAssertEqual(parseError("{{ .RoleName | \"x\" }}"),
                       "unable to parse template: template: template:1:15: non executable command in pipeline stage 2")
        XCTAssertEqual(parseError("{{ 1.5 }}"), "unable to parse template: template: template:1:3: floating-point constant 1.5 is not supported")
        XCTAssertEqual(parseError("{{ # }}"), "unable to parse template: template: template:1:3: unrecognized character in action: U+0023 '#'")
        XCTAssertEqual(parseError("{{ nil }}"), "unable to parse template: template: template:1:3: nil is not a command")
        XCTAssertEqual(parseError("{{/* open"), "unable to parse template: template: template:1:0: unclosed comment")
        XCTAssertEqual(parseError(#"{{ printf "%s"(random 3) }}"#),
                       #"unable to parse template: template: template:1:14: unexpected "(" in operand"#)
    }

    func testControlActionsAndVariablesAreNotSupported() {
        XCTAssertEqual(parseError("{{ if .RoleName }}x{{ end }}"),
                       "unable to parse template: template: template:1:3: {{if}} actions are not supported: use pipelines of functions, fields and literals")
        XCTAssertEqual(parseError("{{ end }}"), "unable to parse template: template: template:1:3: unexpected {{end}}")
        XCTAssertEqual(parseError("{{ $x := 3 }}"), "unable to parse template: template: template:1:3: variables are not supported")
    }

    func testDeepNestingFailsQuicklyInsteadOfOverflowing() {
        let started = Date()
        let message = parseError("{{" + String(repeating: "(", count: 1_000_000))
        XCTAssertEqual(message, "unable to parse template: template: template:1:102: max expression depth exceeded")
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
    }

    func testExecutionErrorsNameTheNodeAndPosition() {
        XCTAssertEqual(errorMessage { try render("{{ .Foo }}") },
                       #"unable to apply template: template: template:1:3: executing "template" at <.Foo>: can't evaluate field Foo in type dbplugin.UsernameMetadata"#)
        XCTAssertEqual(errorMessage { try render("{{ .RoleName.Length }}") },
                       #"unable to apply template: template: template:1:3: executing "template" at <.RoleName.Length>: can't evaluate field Length in type string"#)
        XCTAssertEqual(errorMessage { try render("x\n{{ truncate 5 }}") },
                       #"unable to apply template: template: template:2:3: executing "template" at <truncate>: wrong number of args for truncate: want 2 got 1"#)
        XCTAssertEqual(errorMessage { try render("{{ printf }}") },
                       #"unable to apply template: template: template:1:3: executing "template" at <printf>: wrong number of args for printf: want at least 1 got 0"#)
        XCTAssertEqual(errorMessage { try render(#"{{ .RoleName | truncate "x" }}"#) },
                       #"unable to apply template: template: template:1:24: executing "template" at <"x">: expected integer; found "x""#)
        XCTAssertEqual(errorMessage { try render(#"{{ random 3 | random }}"#) },
                       #"unable to apply template: template: template:1:14: executing "template" at <random>: wrong type for value; expected int; got string"#)
        XCTAssertEqual(errorMessage { try render(#"{{ uppercase 3 }}"#) },
                       #"unable to apply template: template: template:1:13: executing "template" at <3>: expected string; found 3"#)
        XCTAssertEqual(errorMessage { try render(#"{{ "x" 3 }}"#) },
                       #"unable to apply template: template: template:1:3: executing "template" at <"x" 3>: can't give argument to non-function "x""#)
    }

    func testLongNodesAreShortenedInMessagesAsGoDoes() {
        XCTAssertEqual(errorMessage { try render(#"{{ truncate 0 "a very long argument here" }}"#) },
                       #"unable to apply template: template: template:1:3: executing "template" at <truncate 0 "a very l...>: error calling truncate: max length must be > 0 but was 0"#)
    }
}
