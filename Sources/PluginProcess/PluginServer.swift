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

/// The plugin side: serves one plugin instance over stdin/stdout until `close` or end of input.
public enum PluginServer {
    public static func serve(_ plugin: DatabasePlugin) -> Int32 {
        var pending = Data()
        while true {
            let chunk = FileDescriptorIO.readAvailable(from: STDIN_FILENO)
            if chunk.isEmpty { break }
            pending.append(contentsOf: chunk)
            while let newline = pending.firstIndex(of: 0x0a) {
                let line = pending[pending.startIndex..<newline]
                pending = Data(pending[pending.index(after: newline)...])
                let (response, done) = answer(line, plugin)
                if let data = try? PluginWireProtocol.encodeLine(response) {
                    FileDescriptorIO.write(data, to: STDOUT_FILENO)
                }
                if done {
                    plugin.close()
                    return 0
                }
            }
        }
        plugin.close()
        return 0
    }

    static func answer(_ line: Data, _ plugin: DatabasePlugin) -> (PluginWireProtocol.Response, done: Bool) {
        typealias Response = PluginWireProtocol.Response
        guard let request = try? JSONDecoder().decode(PluginWireProtocol.Request.self, from: line) else {
            return (Response.failure(PluginError(.database, "the plugin received a request it cannot read")), false)
        }
        do {
            switch request.op {
            case "initialize":
                let response = try plugin.initialize(InitializeRequest(config: request.config ?? [:],
                                                                       verifyConnection: request.verifyConnection ?? true))
                return (Response(ok: true, config: response.config, warnings: response.warnings), false)
            case "generate_username":
                let username = try plugin.generateUsername(
                    UsernameMetadata(displayName: request.displayName ?? "", roleName: request.roleName ?? ""))
                return (Response(ok: true, username: username), false)
            case "new_user":
                let response = try plugin.newUser(NewUserRequest(
                    usernameConfig: UsernameMetadata(displayName: request.displayName ?? "", roleName: request.roleName ?? ""),
                    username: request.username,
                    statements: request.statements ?? [], rollbackStatements: request.rollbackStatements ?? [],
                    password: request.password ?? "",
                    expiration: Date(timeIntervalSince1970: request.expiration ?? 0)))
                return (Response(ok: true, username: response.username), false)
            case "update_user":
                _ = try plugin.updateUser(UpdateUserRequest(
                    username: request.username ?? "",
                    password: request.newPassword.map {
                        PasswordChange(newPassword: $0, statements: request.passwordStatements ?? [],
                                       retainedPassword: request.retainedPassword, discardedPassword: request.discardedPassword)
                    },
                    expiration: request.newExpiration.map {
                        ExpirationChange(newExpiration: Date(timeIntervalSince1970: $0), statements: request.expirationStatements ?? [])
                    },
                    isRootRotation: request.isRootRotation ?? false,
                    selfManagedPassword: request.selfManagedPassword,
                    discardPreviousPassword: request.discardCurrentPassword.flatMap { current in
                        request.discardPreviousPassword.map { PreviousPasswordDiscard(currentPassword: current, previousPassword: $0) }
                    }))
                return (Response(ok: true), false)
            case "supports":
                let supported = try PluginFeature(rawValue: request.feature ?? "").map(plugin.supports) ?? false
                return (Response(ok: true, supported: supported), false)
            case "delete_user":
                _ = try plugin.deleteUser(DeleteUserRequest(username: request.username ?? "", statements: request.statements ?? []))
                return (Response(ok: true), false)
            case "close":
                return (Response(ok: true), true)
            default:
                return (Response.failure(PluginError(.unsupported, "unknown plugin operation \"\(request.op)\"")), false)
            }
        } catch {
            return (Response.failure(error), false)
        }
    }
}
