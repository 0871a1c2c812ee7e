import Foundation
import XCTest

/// The exact output of typical commands in every format, pinned in `Tests/CLITests/Golden/`.
/// Random parts (request ids, generated names and passwords, lease ids) are replaced by
/// placeholders before comparing. `DBSECRETS_UPDATE_GOLDEN=1` rewrites the files after a
/// deliberate change; review the diff.
final class GoldenFileTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    private func normalized(_ text: String) -> String {
        var out = text
        let patterns = [
            ("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "REQUEST-ID"),
            ("database/creds/ro/[A-Za-z0-9]{24}", "database/creds/ro/LEASE-ID"),
            ("v-root-ro-[A-Za-z0-9-]{8}", "USERNAME"),
            ("(password[\": ]+)[A-Za-z0-9-]{20}", "$1PASSWORD"),
        ]
        for (pattern, replacement) in patterns {
            out = out.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return out
    }

    private func check(_ name: String, _ result: CLIRunner.Result, file: StaticString = #filePath, line: UInt = #line) throws {
        let actual = "exit \(result.code)\n--- stdout\n\(normalized(result.stdout))--- stderr\n\(normalized(result.stderr))"
        let url = Self.folder.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["DBSECRETS_UPDATE_GOLDEN"] == "1" {
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        XCTAssertEqual(actual, expected, "\(name) differs from its golden file", file: file, line: line)
    }

    func testGoldenOutputs() throws {
        let cli = CLIRunner()
        cli.configure()
        cli.run("write", "database/roles/other", "db_name=db", "credential_config=password_policy=strong")
        try check("role-read.table", cli.run("read", "database/roles/ro"))
        try check("role-read.json", cli.run("read", "--format=json", "database/roles/ro"))
        try check("role-read.yaml", cli.run("read", "-format", "yaml", "database/roles/ro"))
        try check("config-read.table", cli.run("read", "database/config/db"))
        try check("config-read.json", cli.run("read", "-format=json", "database/config/db"))
        try check("roles-list.table", cli.run("list", "database/roles"))
        try check("roles-list.json", cli.run("list", "-format=json", "database/roles"))
        try check("roles-list.yaml", cli.run("list", "-format=yaml", "database/roles"))
        try check("creds.table", cli.run("read", "database/creds/ro"))
        try check("creds.json", cli.run("read", "-format=json", "database/creds/ro"))
        try check("creds.yaml", cli.run("read", "-format=yaml", "database/creds/ro"))
        try check("write.table", cli.run("write", "database/roles/x", "db_name=db"))
        try check("delete.table", cli.run("delete", "database/roles/x"))
        try check("missing.table", cli.run("read", "database/roles/missing"))
        try check("error.table", cli.run("write", "database/roles/bad", "default_ttl=1h"))
    }

    /// `lease list` in every format over leases written by hand: every field shape the reader
    /// meets (escapes, non-ASCII, other key orders, times with offsets, nulls, failures, a corrupt
    /// file), with fixed times so the output is the same at every run.
    func testGoldenLeaseList() throws {
        let cli = CLIRunner()
        cli.configure()
        let leases = cli.stateURL.appendingPathComponent("leases")
        try FileManager.default.createDirectory(at: leases, withIntermediateDirectories: true)
        let files: [(String, String)] = [
            ("ro.AAAAAAAAAAAAAAAAAAAAAAAA", """
            {
              "db_name" : "db",
              "expire_time" : "2999-01-02T03:04:05.678Z",
              "format_version" : 1,
              "id" : "database/creds/ro/AAAAAAAAAAAAAAAAAAAAAAAA",
              "irrevocable" : false,
              "issue_time" : "2026-01-02T03:04:05.006Z",
              "revoke_attempts" : 0,
              "role" : "ro",
              "username" : "v-root-ro-plain"
            }

            """),
            ("ro.BBBBBBBBBBBBBBBBBBBBBBBB", """
            {"username":"v-ro-<&>\\"\\\\\\u00e9\\u2028x\\ud83d\\ude00","role":"ro","id":"database/creds/ro/BBBBBBBBBBBBBBBBBBBBBBBB",
             "issue_time":"2020-02-29T23:59:59+02:00","expire_time":"2021-03-01T00:00:00.1234Z","revoke_attempts":3,
             "irrevocable":true,"db_name":"db","format_version":1,"last_error":"pq: role \\"x\\" <is> in use\\n\\ttab & é",
             "next_revoke_attempt":null,"last_renewal":"2020-03-01T00:00:00Z","revocation_statements":["DROP ROLE \\"{{name}}\\""]}
            """),
            ("ro.CCCCCCCCCCCCCCCCCCCCCCCC", """
            {
              "db_name" : "db",
              "expire_time" : "2020-01-01T00:00:00.000Z",
              "format_version" : 1,
              "id" : "database/creds/ro/CCCCCCCCCCCCCCCCCCCCCCCC",
              "irrevocable" : false,
              "issue_time" : "2019-12-31T23:00:00.000Z",
              "last_error" : "connection refused",
              "next_revoke_attempt" : "2020-01-01T00:05:00.000Z",
              "revoke_attempts" : 1,
              "role" : "ro",
              "username" : "v-root-ro-failed"
            }

            """),
            ("ro.DDDDDDDDDDDDDDDDDDDDDDDD", "{\"format_version\": 1, \"id\": "),
            ("ro.EEEEEEEEEEEEEEEEEEEEEEEE", "{\"format_version\": 7}"),
            // Another lease's content under this name: not this lease, so not listed.
            ("ro.FFFFFFFFFFFFFFFFFFFFFFFF", """
            {"db_name":"db","expire_time":"2999-01-01T00:00:00.000Z","format_version":1,"id":"database/creds/ro/AAAAAAAAAAAAAAAAAAAAAAAA",
             "irrevocable":false,"issue_time":"2026-01-01T00:00:00.000Z","revoke_attempts":0,"role":"ro","username":"u"}
            """),
            ("other.GGGGGGGGGGGGGGGGGGGGGGGG", """
            {"db_name":"db","expire_time":"2999-01-01T00:00:00Z","format_version":1,"id":"database/creds/other/GGGGGGGGGGGGGGGGGGGGGGGG",
             "irrevocable":false,"issue_time":"2025-06-30T12:00:00.5Z","revoke_attempts":0,"role":"other","username":"u2",
             "last_error":null}
            """),
        ]
        for (name, text) in files {
            try Data(text.utf8).write(to: leases.appendingPathComponent(name + ".json"))
        }
        let state = cli.stateURL.path
        func unfolded(_ r: CLIRunner.Result) -> CLIRunner.Result {
            CLIRunner.Result(code: r.code, stdout: r.stdout.replacingOccurrences(of: state, with: "STATE"),
                             stderr: r.stderr.replacingOccurrences(of: state, with: "STATE"))
        }
        try check("lease-list.table", unfolded(cli.run("lease", "list")))
        try check("lease-list.json", unfolded(cli.run("lease", "list", "-format=json")))
        try check("lease-list.yaml", unfolded(cli.run("lease", "list", "-format=yaml")))
        try check("lease-list-prefix.json", unfolded(cli.run("lease", "list", "-format=json", "database/creds/other/")))
        try check("lease-list-none.json", unfolded(cli.run("lease", "list", "-format=json", "database/creds/none/")))
        try check("lease-list-none.yaml", unfolded(cli.run("lease", "list", "-format=yaml", "database/creds/none/")))
        try check("lease-ids.table", unfolded(cli.run("list", "sys/leases/lookup/database/creds/ro")))
        try check("lease-ids.json", unfolded(cli.run("list", "-format=json", "sys/leases/lookup/database/creds/")))
    }
}
