import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A plugin that runs as its own executable, spoken to over a pipe, as Vault runs external
/// plugins. dbsecrets uses it for the ElastiCache plugin, whose XML parser (FoundationXML, hence
/// libxml2) would otherwise be loaded by every command: out of process, it costs start-up time
/// and memory only when an ElastiCache connection is used.
///
/// The executable is looked for in `DBSECRETS_PLUGIN_DIR`, beside the running binary, then in
/// `../libexec/dbsecrets` from it (where `make install` puts it).
public final class ExternalPlugin: DatabasePlugin {
    public let type: String
    private let executableName: String
    private var process: ChildProcess?
    /// Our ends of the plugin's standard input and output.
    private var input: Int32?
    private var output: Int32?
    private var buffered = Data()

    public init(executableName: String, type: String) {
        self.executableName = executableName
        self.type = type
    }

    /// The registration of a plugin served by `executableName`, one process per instance.
    public static func registration(names: [String], executableName: String, type: String) -> PluginRegistration {
        PluginRegistration(names: names) { _ in ExternalPlugin(executableName: executableName, type: type) }
    }

    public static func searchFolders(environment: [String: String] = processEnvironment()) -> [URL] {
        var folders: [URL] = []
        if let dir = environment["DBSECRETS_PLUGIN_DIR"], !dir.isEmpty { folders.append(URL(fileURLWithPath: dir)) }
        let own = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                      ?? CommandLine.arguments[0]).deletingLastPathComponent()
        folders.append(own)
        folders.append(own.deletingLastPathComponent().appendingPathComponent("libexec/dbsecrets"))
        return folders
    }

    func executable() throws -> URL {
        let folders = Self.searchFolders()
        for folder in folders {
            let candidate = folder.appendingPathComponent(executableName)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw PluginError(.connection, "the plugin executable \(executableName) was not found (looked in \(folders.map(\.path).joined(separator: ", ")); set DBSECRETS_PLUGIN_DIR)")
    }

    private func call(_ request: PluginWireProtocol.Request) throws -> PluginWireProtocol.Response {
        if process == nil { try start() }
        guard let input, let output else { throw PluginError(.connection, "the \(executableName) plugin is not running") }
        guard FileDescriptorIO.write(try PluginWireProtocol.encodeLine(request), to: input) else {
            throw PluginError(.connection, "the \(executableName) plugin stopped unexpectedly")
        }
        while true {
            if let newline = buffered.firstIndex(of: 0x0a) {
                let line = buffered[buffered.startIndex..<newline]
                buffered = Data(buffered[buffered.index(after: newline)...])
                guard let response = try? JSONDecoder().decode(PluginWireProtocol.Response.self, from: line) else {
                    throw PluginError(.connection, "the \(executableName) plugin answered something unreadable")
                }
                return response
            }
            try waitForOutput(output)
            let chunk = FileDescriptorIO.readAvailable(from: output)
            if chunk.isEmpty { throw PluginError(.connection, "the \(executableName) plugin stopped unexpectedly") }
            buffered.append(contentsOf: chunk)
        }
    }

    /// Returns once the plugin has written something (or closed its end). Meanwhile, a stop asked
    /// of dbsecrets (`StopRequest`: the agent's SIGTERM) is passed on to the plugin once, so a call
    /// that may wait long (ElastiCache waiting for a user to be active) ends within a second too.
    private func waitForOutput(_ output: Int32) throws {
        var forwarded = false
        while true {
            var entry = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, 200)
            // The stop's own signal interrupts poll (EINTR): look again, and pass the stop on.
            if ready > 0 || (ready < 0 && errno != EINTR) { return }
            if StopRequest.isRequested, !forwarded, let process, process.poll() == nil {
                process.send(SIGTERM)
                forwarded = true
            }
        }
    }

    private func start() throws {
        // A plugin that dies must be an error here, not a SIGPIPE that kills dbsecrets.
        signal(SIGPIPE, SIG_IGN)
        let path = try executable().path
        // Close-on-exec, so the plugin keeps only the ends it is given as its stdin and stdout.
        var toPlugin: [Int32] = [-1, -1], fromPlugin: [Int32] = [-1, -1]
        guard Self.closeOnExecPipe(&toPlugin) else { throw startFailure(String(cString: strerror(errno))) }
        guard Self.closeOnExecPipe(&fromPlugin) else {
            let reason = String(cString: strerror(errno))
            toPlugin.forEach { Glibc.close($0) }
            throw startFailure(reason)
        }
        // The plugin's own diagnostics go where ours go: it inherits stderr.
        let process: ChildProcess
        do {
            process = try ChildProcess.spawn([path], environment: processEnvironment(),
                                             standardInput: toPlugin[0], standardOutput: fromPlugin[1])
        } catch {
            (toPlugin + fromPlugin).forEach { Glibc.close($0) }
            throw startFailure((error as? ChildProcess.SpawnError)?.message ?? "\(error)")
        }
        Glibc.close(toPlugin[0])
        Glibc.close(fromPlugin[1])
        self.process = process
        input = toPlugin[1]
        output = fromPlugin[0]
    }

    /// pipe2(O_CLOEXEC), which Glibc's module does not export: no other thread of ours spawns a
    /// process between the two calls.
    private static func closeOnExecPipe(_ ends: inout [Int32]) -> Bool {
        guard pipe(&ends) == 0 else { return false }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return true
    }

    private func startFailure(_ reason: String) -> PluginError {
        PluginError(.connection, "could not start the \(executableName) plugin: \(reason)")
    }

    private func perform(_ request: PluginWireProtocol.Request) throws -> PluginWireProtocol.Response {
        let response = try call(request)
        guard response.ok else { throw response.error }
        return response
    }

    public func initialize(_ request: InitializeRequest) throws -> InitializeResponse {
        var wire = PluginWireProtocol.Request(op: "initialize")
        wire.config = request.config
        wire.verifyConnection = request.verifyConnection
        let response = try perform(wire)
        return InitializeResponse(config: response.config ?? request.config, warnings: response.warnings ?? [])
    }

    public func generateUsername(_ metadata: UsernameMetadata) throws -> String {
        var wire = PluginWireProtocol.Request(op: "generate_username")
        wire.displayName = metadata.displayName
        wire.roleName = metadata.roleName
        return try perform(wire).username ?? ""
    }

    public func newUser(_ request: NewUserRequest) throws -> NewUserResponse {
        var wire = PluginWireProtocol.Request(op: "new_user")
        wire.username = request.username
        wire.displayName = request.usernameConfig.displayName
        wire.roleName = request.usernameConfig.roleName
        wire.statements = request.statements
        wire.rollbackStatements = request.rollbackStatements
        wire.password = request.password
        wire.expiration = request.expiration.timeIntervalSince1970
        return NewUserResponse(username: try perform(wire).username ?? "")
    }

    public func updateUser(_ request: UpdateUserRequest) throws -> UpdateUserResponse {
        var wire = PluginWireProtocol.Request(op: "update_user")
        wire.username = request.username
        wire.newPassword = request.password?.newPassword
        wire.passwordStatements = request.password?.statements
        wire.newExpiration = request.expiration?.newExpiration.timeIntervalSince1970
        wire.expirationStatements = request.expiration?.statements
        wire.isRootRotation = request.isRootRotation
        wire.retainedPassword = request.password?.retainedPassword
        wire.discardedPassword = request.password?.discardedPassword
        wire.selfManagedPassword = request.selfManagedPassword
        wire.discardCurrentPassword = request.discardPreviousPassword?.currentPassword
        wire.discardPreviousPassword = request.discardPreviousPassword?.previousPassword
        _ = try perform(wire)
        return UpdateUserResponse()
    }

    public func supports(_ feature: PluginFeature) throws -> Bool {
        var wire = PluginWireProtocol.Request(op: "supports")
        wire.feature = feature.rawValue
        return try perform(wire).supported ?? false
    }

    public func deleteUser(_ request: DeleteUserRequest) throws -> DeleteUserResponse {
        var wire = PluginWireProtocol.Request(op: "delete_user")
        wire.username = request.username
        wire.statements = request.statements
        _ = try perform(wire)
        return DeleteUserResponse()
    }

    public func close() {
        guard let process else { return }
        _ = try? call(PluginWireProtocol.Request(op: "close"))
        if let input { Glibc.close(input) }
        process.waitUntilExit()
        if let output { Glibc.close(output) }
        self.process = nil
        input = nil
        output = nil
    }

    deinit { close() }
}
