import Basics
import DBPlugin
import Engine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Server
import TLS

/// `dbsecrets server`: Vault's HTTP API for the database engine, on the same state folder as the
/// CLI, so that Vault's clients (curl, hvac, the Terraform provider, Vault Agent, `vault` itself
/// with VAULT_ADDR) work against it unchanged.
enum ServerCommands {
    static let address = FlagSpec(
        name: "address", kind: .string, group: "Server Options",
        usage: "Address to listen on, host:port ([::1]:8200 for IPv6). Loopback by default; any other address needs -tls-cert-file and -tls-key-file, or -allow-insecure-remote. Empty: only -unix.",
        defaultValue: "127.0.0.1:8200")
    static let unix = FlagSpec(name: "unix", kind: .string, group: "Server Options",
                               usage: "Also (or, with -address=, only) listen on this Unix-domain socket, mode 0600.")
    static let certificate = FlagSpec(name: "tls-cert-file", kind: .string, group: "Server Options",
                                      usage: "PEM certificate (then any intermediates) to serve HTTPS with, on -address.")
    static let key = FlagSpec(name: "tls-key-file", kind: .string, group: "Server Options",
                              usage: "PEM private key of -tls-cert-file.")
    static let tokenFile = FlagSpec(
        name: "token-file", kind: .string, group: "Server Options",
        usage: "File holding the token clients must send (X-Vault-Token). Else $DBSECRETS_SERVER_TOKEN, else the state folder's server-token, made at the first start.")
    static let insecureRemote = FlagSpec(
        name: "allow-insecure-remote", kind: .bool, group: "Server Options",
        usage: "Allow a non-loopback -address without TLS: the token and every password then cross the network in clear.")
    static let maxRequestSize = FlagSpec(name: "max-request-size", kind: .string, group: "Limits",
                                         usage: "Largest request body, in bytes.", defaultValue: "1048576")
    static let maxConnections = FlagSpec(name: "max-connections", kind: .string, group: "Limits",
                                         usage: "Connections served at once; one more is answered 503.", defaultValue: "64")
    static let headerTimeout = FlagSpec(name: "read-header-timeout", kind: .duration, group: "Limits",
                                        usage: "Time a client has to send a request's headers.", defaultValue: "10s")
    static let readTimeout = FlagSpec(name: "read-timeout", kind: .duration, group: "Limits",
                                      usage: "Time a client has to send a whole request.", defaultValue: "30s")
    static let writeTimeout = FlagSpec(name: "write-timeout", kind: .duration, group: "Limits",
                                       usage: "Time a client has to take an answer.", defaultValue: "30s")
    static let idleTimeout = FlagSpec(name: "idle-timeout", kind: .duration, group: "Limits",
                                      usage: "Time a kept-alive connection may wait for its next request.", defaultValue: "5m")
    static let shutdownTimeout = FlagSpec(
        name: "shutdown-timeout", kind: .duration, group: "Limits",
        usage: "After SIGTERM or SIGINT, time the requests in flight have to finish before waits on databases are cut short (a second signal cuts them at once).",
        defaultValue: "30s")

    static let server = Command(
        path: ["server"], synopsis: "Serve Vault's HTTP API for the engine over the state folder",
        usage: "dbsecrets server [options]",
        description: """
        Serves Vault's HTTP API for the database secrets engine (/v1/database/..., sys/leases, \
        sys/policies/password, sys/health, auth/token/lookup-self) over HTTP/1.1, on the same state \
        folder as every other command, which may run at the same time. Clients of Vault work \
        unchanged: point VAULT_ADDR at the server and VAULT_TOKEN at its token.

        Every request but sys/health and sys/seal-status needs the token in X-Vault-Token (or \
        Authorization: Bearer). The due work of 'dbsecrets agent' runs inside, every -interval. One \
        access-log line per request goes to stderr, without tokens or secrets. With -on-rotate, a \
        program runs after each rotation, as under 'dbsecrets agent'. SIGTERM or SIGINT \
        stops accepting, lets the requests in flight finish, and exits.
        """,
        examples: [
            ("Start it, then read credentials with curl:",
             "dbsecrets server &\ncurl -H \"X-Vault-Token: $(cat ~/.local/state/dbsecrets/server-token)\" http://127.0.0.1:8200/v1/database/creds/readonly"),
            ("HTTPS on every interface:",
             "dbsecrets server -address=0.0.0.0:8200 -tls-cert-file=server.pem -tls-key-file=server-key.pem"),
        ],
        flags: [address, unix, certificate, key, tokenFile, insecureRemote, SchedulerCommands.interval, RotationHook.flag, RotationHook.timeoutFlag,
                maxRequestSize, maxConnections, headerTimeout, readTimeout, writeTimeout, idleTimeout, shutdownTimeout,
                CommonFlags.format, CommonFlags.stateDir],
        run: { try run($0) })

    static let all = [server]

    static func run(_ inv: Invocation) throws -> Int32 {
        try inv.expectArguments(0)
        var configuration = ServerConfiguration()
        let addressText = inv.arguments.string("address") ?? address.defaultValue
        let unixPath = inv.arguments.string("unix").flatMap { $0.isEmpty ? nil : $0 }
        if !addressText.isEmpty { configuration.address = try hostAndPort(addressText) }
        configuration.unixPath = unixPath
        guard configuration.address != nil || unixPath != nil else {
            throw CommandFailure.usage("Nothing to listen on: give -address or -unix")
        }
        configuration.limits = try limits(inv)
        configuration.dueWorkInterval = try seconds(inv, SchedulerCommands.interval)
        configuration.drainTimeout = try seconds(inv, shutdownTimeout, allowZero: true)

        let certificatePath = inv.arguments.string("tls-cert-file") ?? "", keyPath = inv.arguments.string("tls-key-file") ?? ""
        if certificatePath.isEmpty != keyPath.isEmpty {
            throw CommandFailure.usage("-tls-cert-file and -tls-key-file go together")
        }
        if let (host, _) = configuration.address, !isLoopback(host), certificatePath.isEmpty, !inv.arguments.bool("allow-insecure-remote") {
            throw CommandFailure.usage("\(host) is not a loopback address: serve it with -tls-cert-file and -tls-key-file, or accept that the token and passwords cross the network in clear with -allow-insecure-remote")
        }
        if !certificatePath.isEmpty {
            configuration.tls = try serverTLS(certificate: certificatePath, key: keyPath)
        }

        let engine = inv.makeEngine()
        let state = engine.environment.state
        let token = try serverToken(inv, state: state)
        let identity = ServerIdentity(dbsecretsVersion: CommandLineTool.version)
        let terminal = inv.terminal
        let logLock = Lock()
        let log: @Sendable (String) -> Void = { line in logLock.withLock { terminal.err(line + "\n") } }
        let passing = Passing(inv, hook: try RotationHook.from(inv))
        let server = VaultServer(
            environment: engine.environment, token: token, identity: identity, configuration: configuration, log: log,
            dueWork: { engine, shouldStop in
                let inv = passing.invocation
                do {
                    // Printed under the log's lock; a rotation hook runs outside it, so the
                    // access log never waits on a hook.
                    try engine.runDueWork(shouldStop: shouldStop) { item in
                        _ = SchedulerCommands.report(item, inv, engine: engine, hook: passing.hook, stop: shouldStop,
                                                     print: { item in logLock.withLock { SchedulerCommands.printItem(item, inv) } })
                    }
                } catch let error as EngineError {
                    log(inv.secrets.clean(CommandFailure.engine("Error running due work: ", error).message))
                } catch {
                    log(inv.secrets.clean("Error running due work: " + ErrorText.of(error)))
                }
            })
        let bound: [String]
        do {
            bound = try server.listen()
        } catch {
            throw CommandFailure(kind: .engine, message: "Error starting the server: \(error)")
        }
        ServerStop.install()
        let scheme = configuration.tls == nil ? "http" : "https"
        let urls = bound.map { $0.hasPrefix("/") ? "unix:" + $0 : "\(scheme)://\($0)" }
        log("dbsecrets server v\(CommandLineTool.version): Vault's API on \(urls.joined(separator: " and ")), state folder \(state.root.path)")
        log("Token: \(token.source). Due work every \(formatSeconds(configuration.dueWorkInterval)).")
        server.run(until: { ServerStop.requested })
        log("dbsecrets server stopped")
        return 0
    }

    /// `host:port`, `[v6]:port`, or `:port` (every interface, as Go reads it).
    static func hostAndPort(_ text: String) throws -> (host: String, port: Int) {
        let bad = CommandFailure.usage("invalid value \"\(text)\" for flag -address: expected host:port, e.g. 127.0.0.1:8200")
        guard let colon = text.lastIndex(of: ":") else { throw bad }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { throw bad }
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            throw bad
        }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    /// 127.0.0.0/8, ::1 and localhost: what only this machine can reach.
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        var v4 = in_addr()
        guard inet_pton(AF_INET, host, &v4) == 1 else { return false }
        return UInt32(bigEndian: v4.s_addr) >> 24 == 127
    }

    static func limits(_ inv: Invocation) throws -> ServerLimits {
        var limits = ServerLimits()
        limits.maximumRequestBytes = try count(inv, maxRequestSize)
        limits.maximumConnections = try count(inv, maxConnections)
        limits.headerTimeout = try seconds(inv, headerTimeout)
        limits.readTimeout = try seconds(inv, readTimeout)
        limits.writeTimeout = try seconds(inv, writeTimeout)
        limits.idleTimeout = try seconds(inv, idleTimeout)
        return limits
    }

    static func count(_ inv: Invocation, _ flag: FlagSpec) throws -> Int {
        let text = inv.arguments.string(flag.name) ?? flag.defaultValue
        guard let value = Int(text), value > 0 else {
            throw CommandFailure.usage("invalid value \"\(text)\" for flag -\(flag.name): must be a positive whole number")
        }
        return value
    }

    static func seconds(_ inv: Invocation, _ flag: FlagSpec, allowZero: Bool = false) throws -> TimeInterval {
        let text = inv.arguments.string(flag.name) ?? flag.defaultValue
        guard let value = try? DurationField.seconds(.string(text), field: flag.name), value > 0 || (allowZero && value == 0) else {
            throw CommandFailure.usage("invalid value \"\(text)\" for flag -\(flag.name): must be a positive duration")
        }
        return TimeInterval(value)
    }

    static func serverTLS(certificate: String, key: String) throws -> TLSServerContext {
        func read(_ path: String, _ flag: String) throws -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CommandFailure.usage("cannot read -\(flag) \(path)")
            }
            return Array(data)
        }
        let certificatePEM = try read(certificate, "tls-cert-file"), keyPEM = try read(key, "tls-key-file")
        do {
            return try TLSServerContext(certificatePEM: certificatePEM, keyPEM: keyPEM)
        } catch {
            throw CommandFailure(kind: .engine, message: "Error loading \(certificate) and \(key): \(error.message)")
        }
    }

    /// -token-file, else DBSECRETS_SERVER_TOKEN, else the state folder's token (made at the first start).
    static func serverToken(_ inv: Invocation, state: StateDirectory) throws -> ServerToken {
        do {
            if let path = inv.arguments.string("token-file"), !path.isEmpty {
                guard let data = FileManager.default.contents(atPath: path), data.count <= 4096 else {
                    throw CommandFailure.usage("cannot read -token-file \(path), or it is larger than 4 KiB")
                }
                let token = String(decoding: data, as: UTF8.self)
                state.secrets.add(token.trimmingWhitespaceAndNewlines())
                return try ServerToken(token, source: "the one in \(path)")
            }
            if let token = inv.terminal.environment["DBSECRETS_SERVER_TOKEN"], !token.isEmpty {
                state.secrets.add(token.trimmingWhitespaceAndNewlines())
                return try ServerToken(token, source: "the value of DBSECRETS_SERVER_TOKEN")
            }
            let token = try state.serverToken(creatingWith: ServerToken.generate)
            return try ServerToken(token, source: "in \(state.serverTokenPath) (export VAULT_TOKEN=\"$(cat \(state.serverTokenPath))\")")
        } catch let error as ServerToken.Invalid {
            throw CommandFailure.usage(error.description)
        } catch let error as EngineError {
            throw CommandFailure.engine("Error reading the server token: ", error)
        }
    }
}

/// The invocation, read (never changed) by the due-work thread.
private struct Passing: @unchecked Sendable {
    let invocation: Invocation
    let hook: RotationHook?
    init(_ invocation: Invocation, hook: RotationHook?) {
        self.invocation = invocation
        self.hook = hook
    }
}

/// SIGTERM and SIGINT: the first stops the server (drain, then exit); a second cuts every wait on
/// a database short (`StopRequest`), as the agent's first does. SIGPIPE is ignored: a client or
/// a plugin process that went away is an error on its write, never the end of the server.
enum ServerStop {
    nonisolated(unsafe) static var flag: sig_atomic_t = 0

    static var requested: Bool { flag != 0 }

    static func install() {
        signal(SIGPIPE, SIG_IGN)
        let handler: @convention(c) (Int32) -> Void = { _ in
            if ServerStop.flag != 0 { StopRequest.flag = 1 }
            ServerStop.flag = 1
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }
}
