import Foundation
import TestSupport
import XCTest

/// Secrets through the real binary against the real servers: a password reaches stdout only
/// where it was asked for (`creds`, `static-creds`), never in reads, listings, tidy output or
/// errors; and every kind of file the engine writes is private under a permissive umask.
final class SecuritySecretTests: XCTestCase {
    var tool: FaultBinary!

    override func setUpWithError() throws { tool = try FaultBinary("dbsecrets-security") }
    override func tearDown() { tool?.remove() }

    /// A connection `pg` to the shared PostgreSQL as its superuser, a dynamic role `dyn`, a static
    /// role `st` on a fresh user, and a password policy `pol`; returns the static user's name.
    @discardableResult
    private func configurePostgres(_ server: PostgresTestServer, umask: String? = nil) throws -> String {
        let user = "sec_app_\(UUID().uuidString.prefix(8).lowercased())"
        XCTAssertEqual(try server.psql(user: server.user, password: server.password,
                                       "CREATE ROLE \(user) WITH LOGIN PASSWORD 'initial-pw'").status, 0)
        let steps: [([String], String?)] = [
            (["write", "database/config/pg", "plugin_name=postgresql-database-plugin", "connection_url=\(server.templatedURL)",
              "username=\(server.user)", "password=-", "allowed_roles=*"], server.password),
            (["write", "database/roles/dyn", "db_name=pg", "default_ttl=1h",
              #"creation_statements=CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'"#], nil),
            (["write", "database/static-roles/st", "db_name=pg", "username=\(user)", "rotation_period=1h"], nil),
            (["write", "sys/policies/password/pol", "policy=length = 24\nrule \"charset\" { charset = \"abcdef0123456789\" }"], nil),
        ]
        for (args, stdin) in steps {
            let r = try tool.run(args, stdin: stdin, umask: umask)
            XCTAssertEqual(r.status, 0, "\(args[1]): \(r.stderr)")
        }
        return user
    }

    func testEveryKindOfStateFileIsPrivateUnderUmaskZero() throws {
        let server = try PostgresTestServer.fromEnvironment()
        try configurePostgres(server, umask: "000")
        var r = try tool.run(["read", "database/creds/dyn"], umask: "000")
        XCTAssertEqual(r.status, 0, r.stderr)
        // A rotation that fails once the connection points nowhere leaves its intent record behind.
        let port = try freePort()
        r = try tool.run(["write", "database/config/pg", "connection_url=postgresql://{{username}}:{{password}}@127.0.0.1:\(port)/x?sslmode=disable",
                          "verify_connection=false"], umask: "000")
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try tool.run(["write", "-f", "database/rotate-role/st"], umask: "000")
        XCTAssertEqual(r.status, 2, r.stderr)

        var kinds = Set<String>()
        var checked = 0
        let walker = try XCTUnwrap(FileManager.default.enumerator(atPath: tool.state.path))
        XCTAssertEqual(try mode(tool.state.path), 0o700, "the state directory")
        while let relative = walker.nextObject() as? String {
            let path = tool.state.path + "/" + relative
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            XCTAssertEqual(try mode(path), isDirectory.boolValue ? 0o700 : 0o600, relative)
            kinds.insert(String(relative.prefix { $0 != "/" }))
            checked += 1
        }
        XCTAssertEqual(kinds, ["config", "roles", "static-roles", "static-role-due", "password-policies", "leases", "lease-expiry", "intents", "locks", "tmp", "sys"],
                       "every kind of file was written and checked (sys/: the derived SCRAM keys)")
        XCTAssertGreaterThan(checked, 15)
    }

    private func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    func testPasswordsReachStdoutOnlyWhereAskedFor() throws {
        let server = try PostgresTestServer.fromEnvironment()
        try configurePostgres(server)
        let creds = try tool.run("read", "-format=json", "database/creds/dyn")
        XCTAssertEqual(creds.status, 0, creds.stderr)
        let issued = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(creds.stdout.utf8)) as? [String: Any])
        let leaseID = try XCTUnwrap(issued["lease_id"] as? String)
        let userPassword = try XCTUnwrap((issued["data"] as? [String: Any])?["password"] as? String)
        let staticCreds = try tool.run("read", "-field=password", "database/static-creds/st")
        XCTAssertEqual(staticCreds.status, 0, staticCreds.stderr)
        let staticPassword = staticCreds.stdout
        XCTAssertFalse(staticPassword.isEmpty)
        let generated = try tool.run("read", "-field=password", "sys/policies/password/pol/generate").stdout
        XCTAssertEqual(generated.count, 24, "a policy's generate is asked for")

        let secrets = [server.password, userPassword, staticPassword]
        var outputs: [String: String] = [:]
        for format in ["table", "json", "yaml"] {
            for args in [["read", "database/config/pg"], ["read", "database/static-roles/st"], ["read", "database/roles/dyn"],
                         ["list", "database/config"], ["list", "database/static-roles"], ["lease", "list"],
                         ["lease", "lookup", leaseID], ["read", "sys/policies/password/pol"], ["tidy"]] {
                let r = try tool.run(args + ["-format=\(format)"])
                XCTAssertEqual(r.status, 0, "\(args): \(r.stderr)")
                outputs["\(args) \(format)"] = r.stdout + r.stderr
            }
        }
        for (command, output) in outputs {
            for secret in secrets { XCTAssertFalse(output.contains(secret), "\(command) printed a password: \(output)") }
        }
        XCTAssertTrue(outputs["[\"read\", \"database/config/pg\"] json"]?.contains("\"connection_url\"") ?? false)
    }

    func testALiteralPasswordInAConnectionURLIsNeverShown() throws {
        let port = try freePort()
        let literal = "literal-url-secret-9"
        let forms: [(plugin: String, url: String, shown: String)] = [
            ("postgresql-database-plugin", "postgresql://vault:\(literal)@127.0.0.1:\(port)/x?sslmode=disable", "vault:xxxxx@127.0.0.1"),
            ("postgresql-database-plugin", "postgresql://vault@127.0.0.1:\(port)/x?sslmode=disable&password=\(literal)", "sslmode=disable\\u0026password=xxxxx"),
            ("postgresql-database-plugin", "postgres://127.0.0.1:\(port)/x?password=\(literal)&user=vault&sslmode=disable", "?password=xxxxx\\u0026user"),
            ("postgresql-database-plugin", "host=127.0.0.1 port=\(port) user=vault password=\(literal) dbname=x sslmode=disable", " password=xxxxx dbname"),
            ("postgresql-database-plugin", "host=127.0.0.1 port=\(port) user=vault password = '\(literal) x\\'y' sslmode=disable", "password = xxxxx sslmode"),
            ("mysql-database-plugin", "vault:\(literal)@tcp(127.0.0.1:\(port))/", "vault:xxxxx@tcp("),
            ("mysql-database-plugin", "vault:a@b:\(literal)@tcp(127.0.0.1:\(port))/db?timeout=1s", "vault:xxxxx@tcp("),
        ]
        for (index, form) in forms.enumerated() {
            let name = "lit\(index)"
            var r = try tool.run("write", "database/config/\(name)", "plugin_name=\(form.plugin)", "connection_url=\(form.url)",
                                 "verify_connection=false")
            XCTAssertEqual(r.status, 0, "\(form.url): \(r.stderr)")
            let unwrapped = (r.stdout + r.stderr).split(whereSeparator: \.isWhitespace).joined(separator: " ")
            XCTAssertTrue(unwrapped.contains("Password found in connection_url, use a templated url to enable root rotation and prevent read access to password information."),
                          "\(form.url): \(r.stdout)\(r.stderr)")
            XCTAssertFalse((r.stdout + r.stderr).contains(literal))
            for format in ["table", "json", "yaml"] {
                r = try tool.run("read", "-format=\(format)", "database/config/\(name)")
                XCTAssertEqual(r.status, 0, r.stderr)
                XCTAssertFalse(r.stdout.contains(literal), r.stdout)
                XCTAssertFalse(r.stdout.contains("secret-9"), "no piece of it either: \(r.stdout)")
                let shown = format == "json" ? form.shown : form.shown.replacingOccurrences(of: "\\u0026", with: "&")
                XCTAssertTrue(r.stdout.contains(shown), "\(form.url) read back as \(r.stdout)")
            }
            r = try tool.run("write", "-f", "database/reset/\(name)")
            XCTAssertEqual(r.status, 2)
            XCTAssertTrue(r.stderr.contains("127.0.0.1:\(port)"), r.stderr)
            XCTAssertFalse(r.stderr.contains(literal), r.stderr)
        }
        // A templated URL carries no password to warn about.
        let r = try tool.run("write", "database/config/templated", "plugin_name=postgresql-database-plugin",
                             "connection_url=host=127.0.0.1 port=\(port) user={{username}} password={{password}}", "username=u",
                             "password=\(literal)", "verify_connection=false")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stderr.contains("Password found"), r.stderr)
    }

    /// A connection parameter nested just under the decoder's limit: the record cannot be stored,
    /// and the failure names the file, never the record with its root password.
    func testADeeplyNestedPayloadFailsWithoutPrintingTheRecord() throws {
        let secret = "Root-Secret-Deep-510"
        var nested = "\"bottom\""
        for _ in 0..<510 { nested = "[" + nested + "]" }
        let port = try freePort()
        let payload = #"{"plugin_name": "postgresql-database-plugin", "connection_url": "postgresql://{{username}}:{{password}}@127.0.0.1:"#
            + "\(port)" + #"/x?sslmode=disable", "username": "vault", "password": ""# + secret
            + #"", "verify_connection": false, "nested": "# + nested + "}"
        let file = tool.folder.url.appendingPathComponent("deep.json")
        try Data(payload.utf8).write(to: file)
        for args in [["write", "database/config/deep", "@" + file.path], ["write", "database/config/deep", "-"]] {
            let r = try tool.run(args, stdin: args.last == "-" ? payload : nil)
            XCTAssertNotEqual(r.status, 0, r.stdout)
            XCTAssertEqual(r.lines.count, 1, r.stderr)
            XCTAssertFalse((r.stdout + r.stderr).contains(secret), "the root password in \(r.stdout)\(r.stderr)")
            XCTAssertFalse((r.stdout + r.stderr).contains("bottom"), "the record described: \(r.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: tool.state.path + "/config/deep.json"))
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: tool.state.path + "/tmp")) ?? [], [], "no temp file left")
    }

    /// Malformed connection URLs that carry a password: the refusal explains the URL without it.
    func testMalformedURLsWithAPasswordNeverEchoIt() throws {
        let secret = "url-secret-Zq81"
        let cases: [[String]] = [
            ["plugin_name=postgresql-database-plugin", "connection_url=postgresql://u:\(secret)@127.0.0.1:5432/x?sslmode=bogus"],
            ["plugin_name=postgresql-database-plugin", "connection_url=postgresql://u:\(secret)@[::1/x"],
            ["plugin_name=postgresql-database-plugin", "connection_url=postgresql://u:\(secret)@127.0.0.1:notaport/x"],
            ["plugin_name=postgresql-database-plugin", "connection_url=postgresql://u:\(secret)%zz@127.0.0.1/x"],
            ["plugin_name=postgresql-database-plugin", "connection_url=host=127.0.0.1 password='\(secret) user=u"],
            ["plugin_name=mysql-database-plugin", "connection_url=u:\(secret)@tcp(127.0.0.1:notaport)/"],
            ["plugin_name=mysql-database-plugin", "connection_url=u:\(secret)@tcp(127.0.0.1:3306)/?tls=true"],
            ["plugin_name=mysql-database-plugin", "connection_url=u:\(secret)@bogus(127.0.0.1)/"],
            ["plugin_name=mysql-database-plugin", "connection_url=u:\(secret)@tcp(127.0.0.1:3306)/?timeout=forever"],
            ["plugin_name=redis-database-plugin", "host=127.0.0.1", "port=99999", "username=u", "password=\(secret)"],
            ["plugin_name=redis-database-plugin", "host=127.0.0.1", "port=6379", "username=u", "password=\(secret)", "tls=true"],
        ]
        for args in cases {
            let r = try tool.run(["write", "database/config/bad"] + args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertEqual(r.lines.count, 1, r.stderr)
            XCTAssertFalse(r.stderr.contains(secret), "the password in \(r.stderr)")
            XCTAssertEqual(r.stdout, "")
        }
        XCTAssertEqual(tool.stateFiles().filter { !$0.hasPrefix("locks/") }, [], "nothing stored")
    }

    func testAWrongRootPasswordIsNeverEchoedByPostgres() throws {
        let server = try PostgresTestServer.fromEnvironment()
        try assertWrongPasswordIsHidden(["plugin_name=postgresql-database-plugin", "connection_url=\(server.templatedURL)",
                                         "username=\(server.user)"], address: "\(server.host):\(server.port)")
    }

    func testAWrongRootPasswordIsNeverEchoedByMySQL() throws {
        let server = try MariaDBTestServer.fromEnvironment()
        try assertWrongPasswordIsHidden(["plugin_name=mysql-database-plugin", "connection_url=\(server.connectionURL)",
                                         "username=\(server.adminUser)"], address: "\(server.host):\(server.port)")
    }

    func testAWrongRootPasswordIsNeverEchoedByRedis() throws {
        let server = try RedisTestServer.fromEnvironment()
        try assertWrongPasswordIsHidden(["plugin_name=redis-database-plugin", "host=\(server.host)", "port=\(server.port)",
                                         "username=\(server.adminUsername)"], address: "\(server.host):\(server.port)")
    }

    private func assertWrongPasswordIsHidden(_ config: [String], address: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let wrong = "Wrong-Root-Pw-\(UUID().uuidString.prefix(6))"
        for (args, stdin) in [(["password=-"], wrong), (["password=\(wrong)"], nil)] as [([String], String?)] {
            let r = try tool.run(["write", "database/config/db"] + config + args, stdin: stdin)
            XCTAssertEqual(r.status, 2, r.stderr, file: file, line: line)
            XCTAssertEqual(r.lines.count, 1, r.stderr, file: file, line: line)
            XCTAssertFalse(r.stderr.contains(wrong), "the password in \(r.stderr)", file: file, line: line)
            XCTAssertFalse(r.stderr.contains(String(wrong.dropFirst(2))), "part of the password in \(r.stderr)", file: file, line: line)
            XCTAssertTrue(r.stderr.contains(address) || r.stderr.lowercased().contains("auth") || r.stderr.contains("denied")
                          || r.stderr.lowercased().contains("password"), r.stderr, file: file, line: line)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: tool.state.path + "/config/db.json"), "nothing stored", file: file, line: line)
    }

    /// A long-running process (an agent, the plugin waiting on its stdin) for /proc to look at.
    private func startInBackground(_ executable: String, _ arguments: [String], state: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ["DBSECRETS_STATE_DIR": state, "PATH": "/usr/bin:/bin"]
        process.standardInput = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Polls `/proc/PID/FILE` until `holds` is true of it or 10 s pass.
    private func waitForProc(_ pid: pid_t, _ file: String, _ holds: (String) -> Bool) -> String {
        var text = ""
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            text = (try? String(contentsOfFile: "/proc/\(pid)/\(file)", encoding: .utf8)) ?? ""
            if holds(text) { break }
            usleep(20_000)
        }
        return text
    }

    private func coreLimit(_ limits: String) -> String {
        limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") }.map {
            $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).prefix(2).joined(separator: " ")
        } ?? "?"
    }

    /// A process started under `ulimit -c unlimited` turns core dumps off itself, before anything
    /// else: passwords never reach a core file. Shown on a long-running agent and the plugin.
    func testCoreDumpsAreOffInsideEveryProcess() throws {
        let plugin = PackageRoot.binary.deletingLastPathComponent().appendingPathComponent("dbsecrets-elasticache-plugin").path
        for command in [[PackageRoot.binary.path, "agent", "-interval=1h"], [plugin]] {
            let process = try startInBackground("/bin/sh", ["-c", "ulimit -c unlimited; exec \"$@\"", "sh"] + command, state: tool.state.path)
            defer {
                process.terminate()
                process.waitUntilExit()
            }
            let pid = process.processIdentifier
            let limits = waitForProc(pid, "limits") { coreLimit($0) == "0 0" }
            XCTAssertEqual(coreLimit(limits), "0 0", "\(command[0]): soft and hard core limit")
        }
    }

    /// Not dumpable either: /proc/PID of an unprivileged dbsecrets belongs to root, so other
    /// processes of the same user cannot read its memory or attach to it.
    func testAnUnprivilegedProcessIsNotDumpable() throws {
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            throw XCTSkip("needs root and setpriv to start a process as another user")
        }
        let home = tool.folder.url.appendingPathComponent("nobody").path
        XCTAssertEqual(mkdir(home, 0o700), 0)
        XCTAssertEqual(chown(home, 65534, 65534), 0)
        let process = try startInBackground("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--",
                                                                 PackageRoot.binary.path, "agent", "-interval=1h"], state: home + "/state")
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        let pid = process.processIdentifier
        _ = waitForProc(pid, "status") { $0.contains("Uid:\t65534") }
        var owner: uid_t = 65534
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            var status = stat()
            if stat("/proc/\(pid)/environ", &status) == 0 { owner = status.st_uid }
            if owner == 0 { break }
            usleep(20_000)
        }
        XCTAssertTrue(waitForProc(pid, "status") { _ in true }.contains("Uid:\t65534"), "runs as nobody")
        XCTAssertEqual(owner, 0, "/proc/\(pid) belongs to root: the process is not dumpable")
    }
}
