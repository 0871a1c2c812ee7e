import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

    /// `MOUNT/creds/ROLE/SUFFIX` → `ROLE.SUFFIX`, the file name in the mount's storage. The mount
    /// is the storage, not part of the name, so the leases of a state folder written before
    /// mounts existed (`database/creds/…`, top-level storage) keep their names. The suffix is
    /// base62, so the last dot splits the name back into the id: listing ids never needs to open
    /// a file.
    static func fileName(forID id: String) -> String? {
        // Every creds asks this a few times; splitting by Character (grapheme breaking) cost more
        // than the rest of the step. For ASCII the bytes are the Characters.
        id.utf8.allSatisfy({ $0 < 0x80 }) ? fileName(forASCIIID: id) : fileName(splittingCharactersOf: id)
    }

    static func fileName(forASCIIID id: String) -> String? {
        let parts = id.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[parts.count - 3].elementsEqual("creds".utf8),
              parts.dropLast(3).allSatisfy({ !$0.isEmpty }) else { return nil }
        let role = Substring(parts[parts.count - 2]), suffix = Substring(parts[parts.count - 1])
        guard ObjectName.isValid(role), ObjectName.isValid(suffix), !suffix.utf8.contains(UInt8(ascii: ".")) else { return nil }
        return "\(role).\(suffix)"
    }

    static func fileName(splittingCharactersOf id: String) -> String? {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[parts.count - 3] == "creds", parts.dropLast(3).allSatisfy({ !$0.isEmpty }) else { return nil }
        let role = String(parts[parts.count - 2]), suffix = String(parts[parts.count - 1])
        guard ObjectName.isValid(role), ObjectName.isValid(suffix), !suffix.contains(".") else { return nil }
        return "\(role).\(suffix)"
    }

    /// The id of the lease whose file is `name` in the storage of the mount at `mountPath`
    /// (with its trailing slash).
    static func id(forFileName name: String, mountPath: String) -> String? {
        guard let dot = name.utf8.lastIndex(of: UInt8(ascii: ".")) else { return nil }
        return "\(mountPath)creds/\(name[..<dot])/\(name[name.index(after: dot)...])"
    }

    /// The role named in a lease id, without reading the lease.
    static func role(inID id: String) -> String {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count >= 4 ? String(parts[parts.count - 2]) : ""
    }
}

/// A named password policy, kept as the HCL text the user wrote.
struct StoredPasswordPolicy: Codable, Equatable {
    var policy: String
}
