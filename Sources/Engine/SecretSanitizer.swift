import DBPlugin

/// Replaces every known secret value in a text with a placeholder. Every error that leaves the
/// engine after touching a plugin passes through here, as a second line of defence behind the
/// plugins' own care.
struct SecretSanitizer {
    private var secrets: [(value: String, placeholder: String)] = []

    init() {}

    mutating func add(_ value: String?, as placeholder: String = "[password]") {
        // Very short values would mangle ordinary words; generated secrets are never that short.
        guard let value, value.count >= 4 else { return }
        secrets.append((value, placeholder))
        if let escaped = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics), escaped != value {
            secrets.append((escaped, placeholder))
        }
    }

    /// Adds every secret-bearing parameter of a connection.
    mutating func add(connection details: [String: JSONValue]) {
        for key in DatabaseConfigSecrets.keys { add(details[key]?.textValue) }
        add(details["private_key"]?.textValue, as: "[private_key]")
    }

    func clean(_ text: String) -> String {
        var out = text
        for (value, placeholder) in secrets.sorted(by: { $0.value.count > $1.value.count }) {
            out = out.replacingOccurrences(of: value, with: placeholder)
        }
        return out
    }

    func clean(_ error: Error) -> String {
        clean(Self.message(of: error))
    }

    static func message(of error: Error) -> String {
        switch error {
        case let e as PluginError: return e.message
        case let e as EngineError: return e.message
        default: return String(describing: error)
        }
    }
}

/// Connection parameters that hold secrets: never returned by a read, never shown in errors.
enum DatabaseConfigSecrets {
    static let keys = ["password", "private_key", "secret_access_key", "service_account_json"]
}

import Foundation
