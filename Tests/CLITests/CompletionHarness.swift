import Foundation
import TestSupport
import XCTest

/// What the completion, man page and install tests share: the built `dbsecrets` binary, a
/// bounded process runner, and a state directory with one object of every kind.
enum CompletionHarness {
    static let packageRoot = PackageRoot.url

    /// The binary built beside the test bundle (whatever the scratch path), else `.build/debug`.
    static func binary() throws -> URL {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("dbsecrets"),
            packageRoot.appendingPathComponent(".build/debug/dbsecrets"),
        ]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw TestRequirement.missing("dbsecrets is not built: run 'swift build' first (looked at \(candidates.map(\.path)))")
        }
        return found
    }

    /// A program the tests need: skipped locally when missing, a failure in CI, where
    /// scripts/install-deps must have installed it.
    static func require(_ path: String, _ package: String) throws {
        if FileManager.default.fileExists(atPath: path) { return }
        throw TestRequirement.missing("\(path) is missing: install \(package) (scripts/install-deps does)")
    }

    struct Result {
        var status: Int32
        var out: String
        var err: String
    }

    /// `ProcessRunner.run` (output in files, killed after `timeout`), with the shell tests' names.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String],
                    in folder: URL? = nil, stdin: String? = nil, timeout: TimeInterval = 20) throws -> Result {
        let result = try ProcessRunner.run(executable, arguments, environment: environment, in: folder,
                                           stdin: stdin, timeout: timeout)
        return Result(status: result.status, out: result.stdout, err: result.stderr)
    }

    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("dbsecrets-shell-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A clean environment: the built binary first on PATH, no user startup files.
    static func environment(stateDir: URL, home: URL) throws -> [String: String] {
        [
            "PATH": try binary().deletingLastPathComponent().path + ":/usr/local/bin:/usr/bin:/bin",
            "HOME": home.path,
            "DBSECRETS_STATE_DIR": stateDir.path,
            "LANG": "C.UTF-8",
            "TERM": "xterm",
        ]
    }

    static let leaseIDs = ["database/creds/readonly/Kq3VhZ8wXb2NcT", "database/creds/readonly/Pm7RtY4uLs9AdE",
                           "database/creds/readwrite/Zx1CvB6nMq0WeR"]

    /// Roles and a password policy written by the binary; a connection, a static role and
    /// leases (which need a database) written as the engine writes them, then read back by the
    /// binary so a format drift fails here and not as missing candidates.
    static func populatedStateDirectory(_ root: URL) throws -> URL {
        let state = root.appendingPathComponent("state")
        let env = ["DBSECRETS_STATE_DIR": state.path, "PATH": "/usr/bin:/bin", "HOME": root.path]
        let bin = try binary().path
        for command in [["write", "database/roles/readonly", "db_name=pg"],
                        ["write", "database/roles/readwrite", "db_name=pg"],
                        ["write", "sys/policies/password/strong", "policy=length = 24\nrule \"charset\" {\n  charset = \"abcdefghijklmnopqrstuvwxyz0123456789\"\n}\n"]] {
            let result = try run(bin, command, environment: env)
            XCTAssertEqual(result.status, 0, "\(command): \(result.err)")
        }
        try write(state, "config/pg.json", """
        {
          "allowed_roles" : ["*"],
          "connection_details" : {
            "connection_url" : "postgresql://{{username}}:{{password}}@127.0.0.1:5432/postgres",
            "password" : "not-a-real-password",
            "username" : "vault"
          },
          "format_version" : 1,
          "password_policy" : "",
          "plugin_name" : "postgresql-database-plugin",
          "plugin_version" : "",
          "root_credentials_rotate_statements" : [],
          "verify_connection" : true
        }
        """)
        try write(state, "static-roles/app.json", """
        {
          "credential_config" : {},
          "credential_type" : "password",
          "db_name" : "pg",
          "failed_attempts" : 0,
          "format_version" : 1,
          "last_vault_rotation" : "2026-11-23T16:00:00.000Z",
          "next_vault_rotation" : "2099-01-01T00:00:00.000Z",
          "password" : "not-a-real-password",
          "rotation_period" : 86400,
          "rotation_schedule" : "",
          "rotation_statements" : [],
          "rotation_window" : 0,
          "username" : "app"
        }
        """)
        for id in leaseIDs {
            let parts = id.split(separator: "/")
            try write(state, "leases/\(parts[2]).\(parts[3]).json", """
            {
              "db_name" : "pg",
              "expire_time" : "2099-01-01T00:00:00.000Z",
              "format_version" : 1,
              "id" : "\(id)",
              "irrevocable" : false,
              "issue_time" : "2026-11-23T16:00:00.000Z",
              "revoke_attempts" : 0,
              "role" : "\(parts[2])",
              "username" : "v-root-\(parts[2])-\(parts[3].prefix(6))"
            }
            """)
        }
        let leases = try run(bin, ["lease", "list", "-format=json"], environment: env)
        XCTAssertEqual(leases.status, 0, leases.err)
        for id in leaseIDs { XCTAssertTrue(leases.out.contains(id), "the engine does not read the lease file of \(id)") }
        let staticRole = try run(bin, ["read", "-field=username", "database/static-roles/app"], environment: env)
        XCTAssertEqual(staticRole.out, "app", "the engine does not read the static role file: \(staticRole.err)")
        let connections = try run(bin, ["list", "-format=json", "database/config"], environment: env)
        XCTAssertTrue(connections.out.contains("\"pg\""), connections.err)
        return state
    }

    private static func write(_ state: URL, _ relative: String, _ text: String) throws {
        let file = state.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data((text + "\n").utf8).write(to: file)
    }

    /// Lines of output, without empty ones.
    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }
}
