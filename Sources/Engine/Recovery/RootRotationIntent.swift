import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Written before the connection's own password changes in the database, removed after the new
/// one is stored.
struct RootRotationIntent: Intent {
    static let kind = IntentKind.rootRotation

    var connection: String
    var username: String
    var oldPassword: String
    var newPassword: String
    var createdAt: Date
    /// Passwords of earlier attempts whose outcome is unknown (newest first).
    var earlierPasswords: [String]?

    var object: String { connection }

    enum CodingKeys: String, CodingKey {
        case connection, username
        case oldPassword = "old_password"
        case newPassword = "new_password"
        case createdAt = "created_at"
        case earlierPasswords = "earlier_passwords"
    }
}

extension Engine {
    /// A root rotation stopped between its intent and its end. The stored password is tried
    /// first: it is the old one (the database never changed) or one an operator wrote since, and
    /// either way a working stored password is kept as it is. Then the new one (the database
    /// changed: it is stored, finishing the rotation), then earlier attempts' and the old one.
    /// Rolling forward needs no second change to the database, so it cannot itself be interrupted
    /// half-way. Nothing working is ever overwritten.
    func settle(_ intent: RootRotationIntent, mode: SettleMode) throws -> DueWorkItem {
        let name = intent.connection
        guard var config = try connections.read(name) else {
            // The connection was deleted since: forgetting its passwords is what that asked for.
            try intents.delete(.rootRotation, name)
            return DueWorkItem(.rootRotationCompleted, name, "the connection no longer exists")
        }
        let stored = config.connectionDetails["password"]?.textValue ?? ""
        if stored == intent.newPassword {
            try intents.delete(.rootRotation, name)
            return DueWorkItem(.rootRotationCompleted, name, "the new password was already stored")
        }
        var seen: Set<String> = []
        let candidates = ([stored, intent.newPassword] + (intent.earlierPasswords ?? []) + [intent.oldPassword])
            .filter { !$0.isEmpty && seen.insert($0).inserted }
        var sanitizer = SecretSanitizer()
        candidates.forEach { sanitizer.add($0) }
        let accepted: String?
        do {
            accepted = try withPlugin(config: config, verify: false) { session -> String? in
                for candidate in candidates {
                    // A database that cannot be reached throws here: no point trying the others.
                    switch try session.plugin.checkPassword(username: intent.username, password: candidate) {
                    case true?: return candidate
                    case false?: continue
                    case nil:
                        var trial = config
                        trial.connectionDetails["password"] = .string(candidate)
                        if (try? withPlugin(config: trial) { _ in }) != nil { return candidate }
                    }
                }
                return nil
            }
        } catch {
            throw EngineError.failed("the root rotation of connection \(name) was interrupted and is not settled yet: \(sanitizer.clean(error))")
        }
        if let candidate = accepted {
            if candidate == intent.newPassword {
                try connections.write(name, Self.rootRotated(config, to: candidate, at: intent.createdAt))
            } else if candidate != stored {
                config.connectionDetails["password"] = .string(candidate)
                try connections.write(name, config)
            }
            try intents.delete(.rootRotation, name)
            if candidate == stored {
                return DueWorkItem(.rootRotationRolledBack, name, "the database still accepts the stored password")
            }
            return DueWorkItem(.rootRotationCompleted, name,
                               candidate == intent.newPassword ? "the database had the new password; it is stored now"
                                                               : "the database had an earlier password; it is stored now",
                               rotated: rotatedCredential(root: name))
        }
        throw EngineError.failed("the root rotation of connection \(name) was interrupted and is not settled yet: the database accepts none of the passwords it may have")
    }
}
