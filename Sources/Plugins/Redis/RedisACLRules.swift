import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Creation statements of a Redis role: each one a JSON list of ACL rules, `["~*", "+@read"]`.
///
/// Vault's plugin reads only the first statement; here the rules of every statement are applied,
/// in order, in the one atomic `ACL SETUSER`.
enum RedisACLRules {
    /// Vault's default when a role has no creation statements: read-only on every key.
    static let defaultRules = ["~*", "+@read"]

    static func parse(_ statements: [String]) throws(PluginError) -> [String] {
        let nonEmpty = statements.map { $0.trimmingWhitespaceAndNewlines() }.filter { !$0.isEmpty }
        guard !nonEmpty.isEmpty else { return defaultRules }
        var rules: [String] = []
        for (index, statement) in nonEmpty.enumerated() {
            guard let data = statement.data(using: .utf8),
                  let list = try? JSONDecoder().decode([String].self, from: data) else {
                throw PluginError(.invalidConfiguration,
                    "error unmarshalling REDIS rules in the creation statement JSON: statement \(index + 1) is not a JSON list of strings such as [\"~*\", \"+@read\"]")
            }
            rules += list
        }
        return rules
    }
}
