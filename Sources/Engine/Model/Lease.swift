import DBPlugin
import Foundation

/// A dynamic credential's lease. Enough is embedded (db_name, revocation statements) to revoke
/// the user even after its role is deleted, as Vault does.
struct Lease: Codable, Equatable {
    var id: String
    var role: String
    var dbName: String
    var username: String
    /// nil means "the plugin's default", as Vault's embedded `null`.
    var revocationStatements: [String]?
    var issueTime: Date
    var expireTime: Date
    var lastRenewal: Date?
    /// Revocation bookkeeping: attempts so far, the last error, when to try again, and whether
    /// the engine has given up (irrevocable leases stay listed until revoked with -force).
    var revokeAttempts: Int = 0
    var lastError: String?
    var nextRevokeAttempt: Date?
    var irrevocable: Bool = false

    enum CodingKeys: String, CodingKey {
        case id, role, username
        case dbName = "db_name"
        case revocationStatements = "revocation_statements"
        case issueTime = "issue_time"
        case expireTime = "expire_time"
        case lastRenewal = "last_renewal"
        case revokeAttempts = "revoke_attempts"
        case lastError = "last_error"
        case nextRevokeAttempt = "next_revoke_attempt"
        case irrevocable
    }

    /// `database/creds/ROLE/SUFFIX` → `ROLE.SUFFIX`, the file name. The suffix is base62, so the
    /// last dot splits the name back into the id: listing ids never needs to open a file.
    static func fileName(forID id: String) -> String? {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "database", parts[1] == "creds",
              ObjectName.isValid(String(parts[2])), ObjectName.isValid(String(parts[3])),
              !parts[3].contains(".") else { return nil }
        return "\(parts[2]).\(parts[3])"
    }

    static func id(forFileName name: String) -> String? {
        guard let dot = name.lastIndex(of: ".") else { return nil }
        return "database/creds/\(name[..<dot])/\(name[name.index(after: dot)...])"
    }
}

/// A named password policy, kept as the HCL text the user wrote.
struct StoredPasswordPolicy: Codable, Equatable {
    var policy: String
}
