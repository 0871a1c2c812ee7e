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
}
