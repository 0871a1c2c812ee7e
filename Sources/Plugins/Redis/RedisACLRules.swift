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
            // DBPlugin's parser, not JSONDecoder: its generic machinery and `data(using:)` were
            // 0.25 M instructions, more than a `creds` spends on its round trips.
            guard case .array(let items)? = try? JSONParser.parse(statement),
                  case let list = items.compactMap(\.stringValue), list.count == items.count else {
                throw PluginError(.invalidConfiguration,
                    "error unmarshalling REDIS rules in the creation statement JSON: statement \(index + 1) is not a JSON list of strings such as [\"~*\", \"+@read\"]")
            }
            rules += list
        }
        return rules
    }
}
