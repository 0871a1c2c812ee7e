import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Written before a static role's password changes in the database (also when a static role is
/// created, which sets its first password). It holds every password the database may have for
/// the account until the change is stored: the new one, and those of earlier attempts whose
/// outcome is unknown. The role's own stored password is the remaining candidate.
struct StaticRotationIntent: Intent {
    static let kind = IntentKind.staticRotation

    var role: String
    var username: String
    var newPassword: String
    var createdAt: Date
    /// Passwords of earlier attempts that may have reached the database (newest first).
    var earlierPasswords: [String]?
    /// For a role being created: the whole role, since no role file exists until it is stored.
    var creation: StaticRole?
    /// Set once recovery stored a created role with `newPassword` before it could confirm that
    /// the database has it: the role exists, but its password is still in doubt.
    var storedUnconfirmed: Bool?
    /// A two-password rotation: the account's password before it, which the change keeps valid.
    var retainedPassword: String? = nil

    var object: String { role }

    /// At most this many earlier passwords are kept: each is an attempt whose answer was lost.
    static let maximumEarlierPasswords = 16

    /// Every password the database may hold, newest first.
    var passwords: [String] { [newPassword] + (earlierPasswords ?? []) }

    enum CodingKeys: String, CodingKey {
        case role, username, creation
        case newPassword = "new_password"
        case createdAt = "created_at"
        case earlierPasswords = "earlier_passwords"
        case storedUnconfirmed = "stored_unconfirmed"
        case retainedPassword = "retained_password"
    }
}

extension Engine {
    /// A static rotation stopped somewhere between its intent and its end. Which password does
    /// the database hold? Each candidate is tried by logging in as the account, newest first (with
    /// two passwords kept, the new one and the old one both log in: the new one wins); the one that
    /// works is stored. When none works (or the plugin cannot tell), recovery rotates again through
    /// the root credential, which sets a known password whatever the account had. A self-managed
    /// role has no root credential to do that with: its intent stays, reported, until an operator
    /// writes the account's password.
    func settle(_ intent: StaticRotationIntent, mode: SettleMode) throws -> DueWorkItem {
        let name = intent.role
        let role = try staticRoles.read(name)
        if let role, role.password == intent.newPassword, intent.storedUnconfirmed != true {
            try intents.delete(.staticRotation, name)
            return DueWorkItem(.interruptedRotationSettled, name, "the new password was already stored")
        }
        guard let definition = role ?? intent.creation else {
            // The role was deleted since: forgetting its passwords is what deleting it asked for.
            try intents.delete(.staticRotation, name)
            return DueWorkItem(.interruptedRotationSettled, name, "the role no longer exists")
        }
        // The password before the change: the stored one, or for a creation the one the operator
        // gave (a creation stored unconfirmed holds the intent's new password instead).
        let creating = role == nil || intent.storedUnconfirmed == true
        let before = (creating ? intent.creation?.password : role?.password) ?? ""
        do {
            let candidates = unique(intent.passwords + [role?.password ?? "", intent.creation?.password ?? ""])
            let config = try settledConnection(definition.dbName)
            let found = try withPlugin(config: config, verify: !definition.isSelfManaged) { session -> (String, previousValid: Bool)? in
                func logsIn(_ candidate: String) throws -> Bool {
                    do {
                        return try session.plugin.checkPassword(username: definition.username, password: candidate) == true
                    } catch {
                        throw session.failure(error, "cannot check the password of \(definition.username): ")
                    }
                }
                guard let accepted = try candidates.first(where: logsIn) else { return nil }
                // A two-password change keeps the password before it valid: is it still?
                let previousValid = try definition.retainsPreviousPassword && accepted != before && !before.isEmpty
                    && logsIn(before)
                return (accepted, previousValid)
            }
            if let (accepted, previousValid) = found {
                var settled = definition
                if accepted == before {
                    settled.password = accepted
                } else {
                    let rotatedAt = accepted == intent.newPassword ? intent.createdAt : now
                    settled = Self.rotated(definition, to: accepted, at: rotatedAt, retaining: previousValid ? before : nil)
                }
                if creating && settled.lastVaultRotation == nil && settled.nextVaultRotation == nil {
                    // A creation that never changed the password: the rotation it asked for is due.
                    settled.nextVaultRotation = intent.createdAt
                }
                try staticRoles.write(name, settled)
                try intents.delete(.staticRotation, name)
                let which = accepted == intent.newPassword ? "the new password" : accepted == before ? "the stored password" : "an earlier attempt's password"
                return DueWorkItem(.interruptedRotationSettled, name, "the database has \(which); it is stored",
                                   rotated: accepted == before ? nil : rotatedCredential(staticRole: name))
            }
            guard mode == .recovery else {
                throw EngineError.failed("the database accepts none of the passwords the rotation may have set")
            }
            if definition.isSelfManaged {
                throw EngineError.failed("the account \(definition.username) accepts none of the passwords the rotation may have set, and a self-managed role has no root credential to set one; write the account's current password with static-roles/\(name) self_managed_password=-")
            }
            let rotated = try rotateStaticAccount(name, definition, isCreate: role == nil)
            return DueWorkItem(.interruptedRotationSettled, name,
                               "no known password logs in; rotated again, next rotation \(rotated.nextVaultRotation.map(Timestamp.format) ?? "on request")",
                               rotated: rotatedCredential(staticRole: name))
        } catch let error as EngineError {
            if role == nil, intent.storedUnconfirmed != true, mode == .recovery {
                // A creation whose outcome cannot be learned now: the account's first password is
                // unknown to the engine, so the intent's is the only one that may work. The role is
                // stored with it (so it is listed and can be read), and stays in doubt until settled.
                var marked = intent
                marked.storedUnconfirmed = true
                try intents.write(marked)
                var stored = definition
                stored.password = intent.newPassword
                try staticRoles.write(name, stored)
                throw EngineError.failed("the creation of static role \(name) was interrupted; the role is stored with the password it may have set, not yet confirmed: \(error.message)")
            }
            throw EngineError(error.kind, "the last rotation of static role \(name) was interrupted and is not settled yet: \(error.message)")
        }
    }

    private func unique(_ passwords: [String]) -> [String] {
        var seen: Set<String> = []
        return passwords.filter { !$0.isEmpty && seen.insert($0).inserted }
    }
}
