import DBPlugin
import Foundation
import TestSupport
import XCTest
@testable import CLI

/// Generated command lines: the flag parser, the `k=v` builder and the whole tool must accept or
/// refuse every input with a usage error or an engine error, never trap, hang or leak the root
/// password, and always with one of the documented exit codes.
final class FuzzArgumentTests: XCTestCase {
    static let flagFragments = [
        "-", "--", "---", "-=", "--=", "-f", "-force", "--force", "-force=maybe", "-force=true", "-force=0",
        "-format", "-format=json", "--format=yaml", "-format=raw", "-format=", "-format=tabl", "-field", "-field=password",
        "-field=", "-detailed", "-prefix", "-sync", "-increment", "-increment=1h", "-increment=-5", "-interval=0",
        "-h", "-help", "--help", "-v", "-version", "-x", "-=x", "-a=b=c",
    ]
    static let wordFragments = [
        "=", "@", "\\@", "-", "{", "}", "\"", "'", ",", "/", "..", "\0", " ", "\n", "*", "{{name}}", "%", "é",
    ]

    private func randomArgument(_ g: inout FuzzGenerator) -> String {
        switch g.int(0...3) {
        case 0: return g.pick(Self.flagFragments)
        case 1: return g.pick(Self.flagFragments) + g.text(Self.wordFragments, maxLength: 4)
        default: return g.text(Self.wordFragments, maxLength: 8)
        }
    }

    func testFlagParserAcceptsOrRefusesEveryArgumentList() {
        let commands = CommandLineTool.commands
        let run = FuzzRun("FlagParser.parse")
        run.loop(minimumInputs: 200) { run in
            let command = run.generator.pick(commands)
            let args = (0..<run.generator.int(0...6)).map { _ in randomArgument(&run.generator) }
            run.input("\(command.name) \(args.debugDescription)")
            do {
                let parsed = try FlagParser.parse(args, specs: command.flags)
                // Parsing stops at the first argument that is not a flag (or just after `--`): what
                // is left never starts with a flag.
                let consumed = args.prefix(args.count - parsed.positionals.count)
                if let first = parsed.positionals.first, consumed.last != "--", first.hasPrefix("-"), first != "-" {
                    run.fail("stopped at the flag \(first)")
                }
                for flag in command.flags where flag.kind == .bool {
                    if let value = parsed.values[flag.name], value != "true" && value != "false" {
                        run.fail("-\(flag.name) parsed as \(value)")
                    }
                }
            } catch let failure as CommandFailure where failure.kind == .usage {
                // A refusal with a message is the documented outcome.
            }
        }
    }

    func testKeyValueDataAcceptsOrRefusesEveryPair() throws {
        let folder = TemporaryFolder("dbsecrets-fuzz-kv")
        defer { folder.remove() }
        let files = try (0..<4).map { i -> String in
            let path = folder.url.appendingPathComponent("f\(i)").path
            try Data(["{\"a\": 1, \"b\": [1, \"x\"]}", "[1, 2]", "", "{\"password\": \"-\"}"][i].utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        let jsonFragments = ["{", "}", "[", "]", "\"k\"", ":", ",", "1e999", "-0", "null", "true", "\"\\u0000\"", "\"\\ud800\"", " "]
        var plainChecks = 0
        let run = FuzzRun("KeyValueData.parse")
        run.loop(minimumInputs: 200) { run in
            var g = run.generator
            let stdin = g.chance(3) ? Data(g.bytes(g.int(0...16))) : Data(g.text(jsonFragments, maxLength: 12).utf8)
            let args = (0..<g.int(0...5)).map { _ -> String in
                switch g.int(0...7) {
                case 7: return "k\(g.int(0...2))=plain"
                case 0: return "-"
                case 1: return "@" + g.pick(files + ["/nonexistent/\(g.int(0...9))", folder.path])
                case 2: return g.text(["k", "="], maxLength: 3) + "=@" + g.pick(files + ["/nonexistent"])
                case 3: return "k\(g.int(0...2))=-"
                case 4: return "k\(g.int(0...2))=\\@" + g.text(maxLength: 4)
                default: return g.text(Self.wordFragments + ["k", "="], maxLength: 8)
                }
            }
            run.generator = g
            run.input("\(args.debugDescription) stdin \(stdin.count) bytes")
            let terminal = Terminal(environment: [:], stdoutIsTerminal: false, out: { _ in }, err: { _ in }, stdin: { stdin })
            do {
                let data = try KeyValueData(terminal: terminal).parse(args)
                // A plain `k=v` lands as the string v, or inside k's list when k is repeated,
                // unless a later `-` or `@file` merges a JSON object with its own k over it.
                for (i, arg) in args.enumerated() {
                    guard let eq = arg.firstIndex(of: "="), arg[arg.index(after: eq)...] == "plain" else { continue }
                    plainChecks += 1
                    if args[(i + 1)...].contains(where: { $0 == "-" || ($0.hasPrefix("@") && !$0.contains("=")) }) { continue }
                    let key = String(arg[..<eq])
                    let landed = data[key] == .string("plain") || data[key]?.arrayValue?.contains(.string("plain")) == true
                    if !landed { run.fail("\(arg) was dropped: \(String(describing: data[key]))") }
                }
            } catch let error as CommandFailure where error.kind == .usage {
                if !error.message.hasPrefix("Failed to parse K=V data: ") { run.fail("unexpected usage message \(error.message)") }
            }
        }
        // Regression: the check above once looked for a value the generator never made.
        XCTAssertGreaterThan(plainChecks, 20, run.replay)
    }

    /// Commands, paths and data drawn from the tool's own vocabulary, run in-process against a
    /// fake database on a private state directory.
    func testWholeCommandLineNeverCrashesAndKeepsItsExitCodes() {
        let cli = CLIRunner()
        cli.configure()
        let dataFile = cli.folder.url.appendingPathComponent("data.json")
        try? Data(#"{"db_name": "db", "default_ttl": 5, "creation_statements": ["a", "b"]}"#.utf8).write(to: dataFile)
        // Left out: the commands that run until something outside stops them (the agent and the
        // server loop until a signal; exec waits on a program of its command line).
        let commandWords = CommandLineTool.commands.map(\.path).filter { ![["agent"], ["server"], ["exec"]].contains($0) }
        let names = ["db", "ro", "st", "pol", "x", "a.b", "A_1", "..", ".", "a/b", "-a", "é", "a b", "'q'", "a\0b",
                     String(repeating: "n", count: 256), ""]
        let paths = ["database/config/", "database/roles/", "database/static-roles/", "database/creds/", "database/static-creds/",
                     "database/rotate-role/", "database/rotate-root/", "database/reset/", "sys/policies/password/",
                     "sys/leases/lookup/", "sys/leases/renew/", "sys/leases/revoke/", "sys/leases/revoke-prefix/",
                     "sys/leases/revoke-force/", "database/", "sys/", "/database//roles/"]
        let durations = ["0", "1", "5", "1h", "90s", "1.5h", "3d", "-1", "1e3", "9223372036854775807", "99999999999999999999",
                         "9999999999h", "1ns", "1µs", "1h-1m", "h", "", " 5 ", "0x10", "1d1h"]
        let keys = ["db_name", "default_ttl", "max_ttl", "creation_statements", "revocation_statements", "username",
                    "rotation_period", "rotation_schedule", "rotation_window", "allowed_roles", "plugin_name",
                    "connection_url", "verify_connection", "password_policy", "credential_type", "credential_config",
                    "policy", "lease_id", "increment", "password", "root_rotation_statements", "name"]
        let values = ["db", "ro", "*", "fake-database-plugin", "fake://{{username}}:{{password}}@db", "true", "maybe",
                      "* * * * *", "0 0 30 2 *", "*/0 * * * *", "61 * * * *", "length = 20 rule \"charset\" { charset = \"ab\" }",
                      "rsa_private_key", "{\"length\": 99999}", "-", "@" + dataFile.path, "CREATE", "admin", "[1,2]"]

        let cronSpecs = ["* * * * *", "0 0 30 2 *", "*/0 * * * *", "61 * * * *", "0-59/7 */5 1,15 jan-dec mon-sun",
                         "5-1 * * * *", "* * * * 7", "@daily", "* * * *", "9999999999999999999 * * * *", "*/9999999999 * * * *"]
        cli.database.addUser("app", password: "app-initial")
        var codes: [Int32: Int] = [:]
        let run = FuzzRun("CommandLineTool.run", seconds: 2)
        run.loop(perInput: .seconds(2), minimumInputs: 30) { run in
            var g = run.generator
            var args: [String] = g.chance(10) ? [] : g.pick(commandWords)
            if g.chance(2) { args.append(g.pick(paths) + g.pick(names)) }
            if g.chance(2) {
                // Mostly well-formed commands, so that the engine and the printers get exercised too.
                let name = g.chance(4) ? g.pick(names) : g.pick(["ro", "st", "x"])
                let duration = g.pick(durations)
                args = g.pick([
                    ["write", "database/roles/\(name)", "db_name=db", "creation_statements=CREATE", "default_ttl=\(duration)", "max_ttl=\(g.pick(durations))"],
                    ["write", "database/static-roles/\(name)", "db_name=db", "username=app", "rotation_period=\(duration)"],
                    ["write", "database/static-roles/\(name)", "db_name=db", "username=app", "rotation_schedule=\(g.pick(cronSpecs))",
                     "rotation_window=\(duration)"],
                    ["read", "-format=\(g.pick(["json", "yaml", "table", "raw"]))", "database/creds/\(name)"],
                    ["read", "database/static-creds/\(name)"], ["read", "database/static-roles/\(name)"],
                    ["read", "database/roles/\(name)"], ["write", "-f", "database/rotate-role/\(name)"],
                    ["lease", "renew", "-increment=\(duration)", "database/creds/ro/\(g.pick(names))"],
                    ["lease", "revoke", "-prefix", "database/creds/\(name)"], ["lease", "list", "-format=yaml"], ["tidy"],
                    ["write", "sys/leases/renew", "lease_id=database/creds/ro/x", "increment=\(duration)"],
                ])
            }
            for _ in 0..<g.int(0...5) {
                switch g.int(0...9) {
                case 0: args.append(g.pick(Self.flagFragments))
                case 1: args.append(g.pick(names))
                case 2: args.append(g.text(Self.wordFragments, maxLength: 6))
                case 3: args.append("@" + dataFile.path)
                case 4, 5: args.append(g.pick(["default_ttl", "max_ttl", "rotation_period", "rotation_window", "increment"]) + "=" + g.pick(durations))
                default: args.append(g.pick(keys) + "=" + g.pick(values))
                }
            }
            // Never anything that would leave the temp folder or run forever.
            args = args.filter { !$0.contains("state-dir") }
            let stdin = g.pick(["", "stdin-value", "{\"db_name\": \"db\"}", "[", g.text(maxLength: 10)])
            run.generator = g
            run.input("\(args.debugDescription) stdin \(stdin.debugDescription)")
            let result = cli.run(args, stdin: stdin)
            codes[result.code, default: 0] += 1
            if ![0, 1, 2, 127].contains(result.code) { run.fail("exit code \(result.code)") }
            // A failure says something: on stderr, or as the JSON/YAML on stdout (`{}`, tidy's items).
            if result.code != 0 && result.stderr.isEmpty && result.stdout.isEmpty { run.fail("exit \(result.code) without a word") }
            if (result.stdout + result.stderr).contains("root-secret") { run.fail("the root password was printed") }
        }
        print("fuzz CommandLineTool.run: exit codes \(codes.sorted { $0.key < $1.key })")
        // Whatever the fuzzing did, the state directory still reads.
        XCTAssertNotEqual(cli.run("list", "database/roles").code, 1)
        XCTAssertEqual(cli.run("lease", "list", "-format=json").code, 0)
    }
}
