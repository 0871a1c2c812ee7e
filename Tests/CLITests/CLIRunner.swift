import CLI
import DBPlugin
import Foundation
import TestSupport

/// Runs the command line in-process with captured streams, on a private state directory and a
/// fake database, and keeps what it printed.
final class CLIRunner {
    let folder = TemporaryFolder("dbsecrets-cli")
    let database = FakeDatabase()
    var environment: [String: String]
    var stdoutIsTerminal = false
    /// The plugins the product ships instead of the fake database, for real servers.
    var useBuiltinPlugins = false

    init() {
        environment = ["DBSECRETS_STATE_DIR": folder.url.appendingPathComponent("state").path, "HOME": folder.path]
    }

    deinit { folder.remove() }

    var stateURL: URL { folder.url.appendingPathComponent("state") }

    struct Result {
        var code: Int32
        var stdout: String
        var stderr: String
    }

    @discardableResult
    func run(_ arguments: String..., stdin: String = "") -> Result { run(arguments, stdin: stdin) }

    @discardableResult
    func run(_ arguments: [String], stdin: String = "") -> Result {
        final class Buffer: @unchecked Sendable { var out = "", err = "" }
        let buffer = Buffer()
        let terminal = Terminal(environment: environment, stdoutIsTerminal: stdoutIsTerminal,
                                out: { buffer.out += $0 }, err: { buffer.err += $0 }, stdin: { Data(stdin.utf8) })
        let code = CommandLineTool.run(arguments, terminal: terminal, plugins: useBuiltinPlugins ? BuiltinPlugins.catalog : database.catalog())
        return Result(code: code, stdout: buffer.out, stderr: buffer.err)
    }

    /// A connection `db` on the fake database, allowing every role, and a role `ro`.
    func configure() {
        run("write", "database/config/db", "plugin_name=fake-database-plugin", "connection_url=fake://{{username}}:{{password}}@db",
            "username=admin", "password=root-secret", "allowed_roles=*")
        run("write", "database/roles/ro", "db_name=db", "creation_statements=CREATE", "default_ttl=1h", "max_ttl=24h")
    }
}
