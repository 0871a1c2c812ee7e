import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Vault's Redis usernames, which predate username templates: `credsutil.GenerateUsername` with
/// display and role names cut to 64 bytes, parts joined by `_` skipping empty ones, the whole cut
/// to 100 bytes, then uppercased: `V_TOKEN_MY-DYNAMIC-ROLE_YASUQUF3GVVD0ZWTEMK4_1608481717`.
enum RedisUsername {
    static func generate(_ metadata: UsernameMetadata, now: Date = Date()) -> String {
        let parts = [
            "v",
            truncated(metadata.displayName, to: 64),
            truncated(metadata.roleName, to: 64),
            SecureRandom.base62(20),
            String(Int(now.timeIntervalSince1970)),
        ]
        let joined = parts.filter { !$0.isEmpty }.joined(separator: "_")
        return truncated(joined, to: 100).uppercased()
    }

    /// An ACL user name Redis can hold and its ACL file can store: the file is one user per line,
    /// its rules separated by spaces, so a space or a control character in a name would turn part
    /// of the name into rules when the file is loaded again.
    static func check(_ username: String) throws(PluginError) {
        guard !username.isEmpty else { throw PluginError(.invalidConfiguration, "the username is empty") }
        if let bad = username.unicodeScalars.first(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7f }) {
            let shown = username.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined()
            throw PluginError(.invalidConfiguration,
                "the username \"\(shown)\" holds \(bad.value < 0x20 || bad.value == 0x7f ? "a control character" : "a space"), which Redis ACL user names cannot")
        }
    }

    /// Go's `s[:n]`: bytes, not characters.
    static func truncated(_ s: String, to length: Int) -> String {
        let bytes = Array(s.utf8)
        return bytes.count <= length ? s : String(decoding: bytes[..<length], as: UTF8.self)
    }
}
