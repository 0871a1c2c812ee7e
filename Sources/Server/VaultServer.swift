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
import TLS

/// Where and how the server listens.
public struct ServerConfiguration: Sendable {
    /// `host:port` to listen on (port 0: the system picks one); nil for none.
    public var address: (host: String, port: Int)?
    /// A Unix-domain socket to listen on as well (or instead); never TLS.
    public var unixPath: String?
    /// HTTPS on `address` with this certificate and key; nil for plain HTTP.
    public var tls: TLSServerContext?
    public var limits = ServerLimits()
    /// How often the agent's pass runs inside the server.
    public var dueWorkInterval: TimeInterval = 5
    /// After a stop signal: how long requests in flight may take to finish before every wait on
    /// a database is cut short (as the agent's stop does at once).
    public var drainTimeout: TimeInterval = 30

    public init() {}
}

/// `dbsecrets server`: Vault's HTTP API for the database engine over the state folder, beside
/// the CLI, agents and other servers (the engine's locks are the only coordination).
///
/// One thread accepts on each listener; each connection is served on a thread of its own, one
/// request after another (keep-alive), at most `maximumConnections` at once; one more thread runs
/// the due work on its interval. Stopping closes the listeners, lets the requests in flight
/// finish (their answers say `Connection: close`), closes idle connections, and ends the due-work
/// pass between two items.
public final class VaultServer: @unchecked Sendable {
    public let engine: Engine
    let api: VaultAPI
    let configuration: ServerConfiguration
    private let log: @Sendable (String) -> Void
    private let dueWork: (@Sendable (Engine, () -> Bool) -> Void)?
    private var listeners: [(socket: ListeningSocket, tls: TLSServerContext?)] = []

    private let lock = Lock()
    private var stopping = false
    private var connections = 0
    private var dueWorkRunning = false

    /// `log` gets one line per request (the access log) and per refused connection; `dueWork`
    /// runs one pass of the engine's due work, stopping between items when its argument says so.
    public init(environment: EngineEnvironment, token: ServerToken, identity: ServerIdentity,
                configuration: ServerConfiguration, log: @escaping @Sendable (String) -> Void,
                dueWork: (@Sendable (Engine, () -> Bool) -> Void)?) {
        var environment = environment
        environment.mounts.append(TokenPaths.mount(token, identity))
        engine = Engine(environment: environment)
        api = VaultAPI(engine: engine, token: token, identity: identity, secrets: environment.state.secrets)
        self.configuration = configuration
        self.log = log
        self.dueWork = dueWork
    }

    /// Binds every listener; the addresses bound (`127.0.0.1:8200`, the socket path).
    public func listen() throws(ListeningSocket.ListenError) -> [String] {
        if let (host, port) = configuration.address {
            listeners.append((try ListeningSocket.listen(host: host, port: port), configuration.tls))
        }
        if let path = configuration.unixPath {
            do throws(ListeningSocket.ListenError) {
                listeners.append((try ListeningSocket.listen(unixPath: path), nil))
            } catch {
                listeners.forEach { $0.socket.close() }
                throw error
            }
        }
        return listeners.map(\.socket.address)
    }

    /// The TCP port bound (for `-address=127.0.0.1:0`).
    public var port: Int? { listeners.compactMap(\.socket.port).first }

    /// Serves until `stopRequested()` says so (it is asked every few tenths of a second), then
    /// drains and returns.
    public func run(until stopRequested: () -> Bool) {
        for listener in listeners {
            let handed = Handoff(listener.socket), tls = listener.tls
            spawn { self.acceptLoop(handed.value, tls: tls) }
        }
        if dueWork != nil {
            lock.withLock { dueWorkRunning = true }
            spawn { self.dueWorkLoop() }
        }
        while !stopRequested() { usleep(100_000) }
        drain()
    }

    private var isStopping: Bool { lock.withLock { stopping } }

    private func drain() {
        lock.withLock { stopping = true }
        let deadline = Date().addingTimeInterval(configuration.drainTimeout)
        while busy && Date() < deadline { usleep(20_000) }
        if busy {
            // What is still running waits on a database: cut it short, as the agent's stop does.
            StopRequest.flag = 1
            let last = Date().addingTimeInterval(3)
            while busy && Date() < last { usleep(20_000) }
        }
        listeners.forEach { $0.socket.close() }
    }

    private var busy: Bool { lock.withLock { connections > 0 || dueWorkRunning } }

    /// A detached thread (pthreads: Foundation's Thread is not in FoundationEssentials).
    private func spawn(_ body: @escaping @Sendable () -> Void) {
        final class Body {
            let run: @Sendable () -> Void
            init(_ run: @escaping @Sendable () -> Void) { self.run = run }
        }
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        // The engine's work is shallow; JSON bodies nest at most RequestJSON.maximumDepth.
        pthread_attr_setstacksize(&attributes, 4 << 20)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let started = pthread_create(&thread, &attributes, { context in
            Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        precondition(started == 0, "could not start a thread: \(String(cString: strerror(started)))")
    }

    // MARK: Connections

    private func acceptLoop(_ listener: ListeningSocket, tls: TLSServerContext?) {
        while !isStopping {
            guard let (connection, peer) = listener.accept(timeout: 0.2) else { continue }
            let admitted = lock.withLock { () -> Bool in
                guard !stopping, connections < configuration.limits.maximumConnections else { return false }
                connections += 1
                return true
            }
            guard admitted else {
                refuseBusy(connection, peer: peer)
                continue
            }
            let handed = Handoff(connection)
            spawn {
                self.serve(handed.value, peer: peer, tls: tls)
                self.lock.withLock { self.connections -= 1 }
            }
        }
        listener.close()
    }

    /// One connection too many: told so at once (a short write, bounded), then closed.
    private func refuseBusy(_ connection: BlockingSocket, peer: String) {
        let body = VaultAPI.errorBody(["too many connections: the server serves at most \(configuration.limits.maximumConnections) at once"])
        let bytes = HTTPResponse.json(503, body).serialized(keepAlive: false)
        try? connection.write(bytes, deadline: Date().addingTimeInterval(0.5))
        connection.close()
        log("\(Timestamp.format(Date())) \(peer) - - 503 connection refused: \(configuration.limits.maximumConnections) connections open")
    }

    private func serve(_ socket: BlockingSocket, peer: String, tls: TLSServerContext?) {
        let limits = configuration.limits
        let stream: ByteStream
        if let tls {
            do throws(TLSError) {
                stream = try TLSStream.accept(over: socket, tls, deadline: Date().addingTimeInterval(limits.headerTimeout))
            } catch {
                log("\(Timestamp.format(Date())) \(peer) - - - TLS handshake failed: \(error.message)")
                return
            }
        } else {
            stream = socket
        }
        defer { stream.close() }
        let reader = HTTPRequestReader(stream: stream, limits: limits)
        var idleUntil = Date().addingTimeInterval(limits.idleTimeout)
        while true {
            let request: HTTPRequest
            let started: Date
            do throws(HTTPRequestReader.Failure) {
                request = try reader.next(idleUntil: idleUntil, stopping: { self.isStopping }, sendContinue: { () throws(SocketError) in
                    try stream.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8), deadline: Date().addingTimeInterval(limits.writeTimeout))
                })
                started = Date()
            } catch {
                switch error {
                case .noRequest:
                    break
                case .broken(let why):
                    log("\(Timestamp.format(Date())) \(peer) - - - connection closed: \(why)")
                case .refused(let response, let why):
                    send(response, on: stream, keepAlive: false, forHead: false)
                    log("\(Timestamp.format(Date())) \(peer) - - \(response.status) refused: \(why)")
                }
                return
            }
            let (response, logged) = api.answer(request)
            let keepAlive = request.wantsKeepAlive && !isStopping
            let sent = send(response, on: stream, keepAlive: keepAlive, forHead: request.method == "HEAD")
            let milliseconds = Date().timeIntervalSince(started) * 1000
            log("\(Timestamp.format(Date())) \(peer) \(VaultAPI.visible(request.method)) \(logged) \(response.status) "
                + cFormat("%.1fms", milliseconds) + (sent ? "" : " (the client did not take the answer)"))
            guard keepAlive && sent else { return }
            idleUntil = Date().addingTimeInterval(limits.idleTimeout)
        }
    }

    @discardableResult
    private func send(_ response: HTTPResponse, on stream: ByteStream, keepAlive: Bool, forHead: Bool) -> Bool {
        do throws(SocketError) {
            try stream.write(response.serialized(keepAlive: keepAlive, forHead: forHead),
                             deadline: Date().addingTimeInterval(configuration.limits.writeTimeout))
            return true
        } catch {
            return false
        }
    }

    // MARK: Due work

    private func dueWorkLoop() {
        defer { lock.withLock { dueWorkRunning = false } }
        guard let dueWork else { return }
        while !isStopping {
            dueWork(engine, { self.isStopping })
            let next = Date().addingTimeInterval(configuration.dueWorkInterval)
            while Date() < next && !isStopping { usleep(100_000) }
        }
    }
}

/// A socket passed to the one thread that uses it from then on.
private struct Handoff<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
