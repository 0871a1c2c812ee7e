import Foundation
import TestSupport
import XCTest

/// `Tests/servers/mysql8-double` on 127.0.0.1, started and restarted by pid. Its state folder
/// (accounts, RSA key pair, events.log) outlives a restart; its cache, as MySQL's, does not.
final class MySQL8Double {
    struct Account {
        var user: String
        var plugin: String
        var password: String
    }

    let state = TemporaryFolder("dbsecrets-mysql8")
    private var server: HostileServer?
    private let options: [String]
    private(set) var port = 0
    /// What earlier runs received in clear, kept across restarts.
    private var earlierReceived = Data()
    private var eventsRead = 0

    init(_ accounts: [Account], defaultPlugin: String = "caching_sha2_password", tls: Bool = true) throws {
        // The run's shared key pair: making one per double would cost up to a second each.
        var options = ["--state", state.url.appendingPathComponent("server").path, "--default-plugin", defaultPlugin,
                       "--rsa-key", try RSATestKey.shared().privateKeyFile]
        for account in accounts { options += ["--account", "\(account.user):\(account.plugin):\(account.password)"] }
        if tls {
            let env = ProcessInfo.processInfo.environment
            guard let cert = env["DBSECRETS_TEST_TLS_SERVER_CERT"], let key = env["DBSECRETS_TEST_TLS_SERVER_KEY"] else {
                _ = try TLSTestMaterial.fromEnvironment()  // fails or skips with the reason
                throw XCTSkip("no TLS material")
            }
            options += ["--cert", cert, "--key", key]
        }
        self.options = options
        try start(port: nil)
    }

    deinit { stop() }

    private func start(port fixed: Int?) throws {
        let server = try HostileServer(script: "mysql8-double", before: [],
                                       after: options + (fixed.map { ["--port", String($0)] } ?? []))
        self.server = server
        port = server.port
    }

    /// Stops the server and starts it again on the same port: the accounts and the key stay, the
    /// cache is empty, as after a MySQL restart.
    func restart() throws {
        let port = self.port
        stop()
        try start(port: port)
    }

    func stop() {
        if let server {
            earlierReceived += server.received
            server.stop()
        }
        server = nil
    }

    /// Whether `secret` crossed the network in clear text, in any run so far.
    func received(_ secret: String) -> Bool {
        (earlierReceived + (server?.received ?? Data())).range(of: Data(secret.utf8)) != nil
    }

    var publicKeyFile: String { state.url.appendingPathComponent("server/public_key.pem").path }
    var publicKey: String { (try? String(contentsOfFile: publicKeyFile, encoding: .utf8)) ?? "" }

    /// The login events ("USER PLUGIN PATH ok|denied", "USER key-request") since the last call.
    func newEvents() -> [String] {
        let text = (try? String(contentsOfFile: state.url.appendingPathComponent("server/events.log").path, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n").map(String.init)
        defer { eventsRead = lines.count }
        return Array(lines.dropFirst(eventsRead))
    }

    /// PyMySQL's logins and statements (Tests/servers/mysql-witness), one process for them all.
    struct Attempt: Encodable {
        var user: String
        var password: String
        var ca: String?
        var server_public_key: String?
        var sql: [String] = []
    }

    struct Outcome: Decodable {
        var ok: Bool
        var error: String
        var rows: [[[String?]]]
    }

    func pyMySQL(_ attempts: [Attempt]) throws -> [Outcome] {
        struct Request: Encodable { var port: Int; var attempts: [Attempt] }
        let input = String(decoding: try JSONEncoder().encode(Request(port: port, attempts: attempts)), as: UTF8.self)
        let result = try ProcessRunner.run("/usr/bin/env", ["python3", PackageRoot.url.path + "/Tests/servers/mysql-witness"],
                                           stdin: input, timeout: 60)
        guard result.status == 0 else {
            throw NSError(domain: "MySQL8Double", code: 1, userInfo: [NSLocalizedDescriptionKey: "mysql-witness failed: \(result.stderr)"])
        }
        return try JSONDecoder().decode([Outcome].self, from: Data(result.stdout.utf8))
    }
}
