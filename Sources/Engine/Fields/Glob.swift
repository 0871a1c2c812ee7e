/// `ryanuber/go-glob`, which Vault uses for `allowed_roles`: `*` is the only wildcard and matches any
/// run of characters, including none. Case-sensitive.
public enum Glob {
    public static func matches(_ pattern: String, _ subject: String) -> Bool {
        if pattern == "*" { return true }
        let parts = pattern.components(separatedBy: "*")
        if parts.count == 1 { return pattern == subject }
        let leadingGlob = pattern.hasPrefix("*")
        let trailingGlob = pattern.hasSuffix("*")
        let end = parts.count - 1
        var rest = Substring(subject)
        for i in 0..<end {
            // Go's strings.Index finds an empty part at once (a leading `*`, or `**`); Swift's
            // range(of:) finds nothing, which refused every pattern that starts with `*`.
            if parts[i].isEmpty { continue }
            guard let range = rest.firstRange(of: parts[i]) else { return false }
            if i == 0 && !leadingGlob && range.lowerBound != rest.startIndex { return false }
            rest = rest[range.upperBound...]
        }
        return trailingGlob || rest.hasSuffix(parts[end])
    }

    /// Vault's `allowed_roles` check: empty means no role is allowed.
    public static func isAllowed(role: String, by patterns: [String]) -> Bool {
        patterns.contains("*") || patterns.contains { matches($0, role) }
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
