import DBPlugin
import Foundation
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
    private var process: Process?
    private var input: FileHandle?
    private var output: FileHandle?
    private var buffered = Data()

    public init(executableName: String, type: String) {
        self.executableName = executableName
        self.type = type
    }

    /// The registration of a plugin served by `executableName`, one process per instance.
    public static func registration(names: [String], executableName: String, type: String) -> PluginRegistration {
        PluginRegistration(names: names) { _ in ExternalPlugin(executableName: executableName, type: type) }
    }

    public static func searchFolders(environment: [String: String] = ProcessInfo.processInfo.environment) -> [URL] {
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
        do {
            try input.write(contentsOf: PluginWireProtocol.encodeLine(request))
        } catch {
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
            let chunk = output.availableData
            if chunk.isEmpty { throw PluginError(.connection, "the \(executableName) plugin stopped unexpectedly") }
            buffered.append(chunk)
        }
    }

    /// Returns once the plugin has written something (or closed its end). Meanwhile, a stop asked
    /// of dbsecrets (`StopRequest`: the agent's SIGTERM) is passed on to the plugin once, so a call
    /// that may wait long (ElastiCache waiting for a user to be active) ends within a second too.
    private func waitForOutput(_ output: FileHandle) throws {
        var forwarded = false
        while true {
            var entry = pollfd(fd: output.fileDescriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, 200)
            // The stop's own signal interrupts poll (EINTR): look again, and pass the stop on.
            if ready > 0 || (ready < 0 && errno != EINTR) { return }
            if StopRequest.isRequested, !forwarded, let process, process.isRunning {
                kill(process.processIdentifier, SIGTERM)
                forwarded = true
            }
        }
    }

    private func start() throws {
        // A plugin that dies must be an error here, not a SIGPIPE that kills dbsecrets.
        signal(SIGPIPE, SIG_IGN)
        let process = Process()
        process.executableURL = try executable()
        let toPlugin = Pipe(), fromPlugin = Pipe()
        process.standardInput = toPlugin
        process.standardOutput = fromPlugin
        // The plugin's own diagnostics go where ours go.
        process.standardError = FileHandle.standardError
        do {
            try process.run()
        } catch {
            throw PluginError(.connection, "could not start the \(executableName) plugin: \(error.localizedDescription)")
        }
        self.process = process
        input = toPlugin.fileHandleForWriting
        output = fromPlugin.fileHandleForReading
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
        try? input?.close()
        process.waitUntilExit()
        self.process = nil
        input = nil
        output = nil
    }

    deinit { close() }
}
