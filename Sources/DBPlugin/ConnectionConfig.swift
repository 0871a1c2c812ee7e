import Foundation

/// Typed reads of connection parameters, with Vault's weak typing and its messages.
public struct ConnectionConfig: Sendable {
    public var raw: [String: JSONValue]
    public init(_ raw: [String: JSONValue]) { self.raw = raw }

    public func string(_ key: String) -> String? { raw[key]?.textValue }

    public func string(_ key: String, default value: String) -> String { string(key) ?? value }

    public func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let v = raw[key], v != .null else { return value }
        guard let b = v.boolValue else {
            throw PluginError(.invalidConfiguration, "invalid value for \(key): expected a boolean")
        }
        return b
    }

    public func int(_ key: String, default value: Int) throws -> Int {
        guard let v = raw[key], v != .null else { return value }
        guard let i = v.intValue else {
            throw PluginError(.invalidConfiguration, "invalid value for \(key): expected an integer")
        }
        return i
    }

    /// A duration as seconds (`5`) or with a unit (`"500ms"`, `"5s"`, `"1m"`): positive, or also
    /// zero when `allowZero`.
    public func duration(_ key: String, default value: TimeInterval, allowZero: Bool = false) throws(PluginError) -> TimeInterval {
        guard let v = raw[key], v != .null else { return value }
        let invalid = PluginError(.invalidConfiguration, "invalid value for \(key): expected a \(allowZero ? "" : "positive ")"
            + "duration such as \"5s\" or \"500ms\"")
        guard let text = v.textValue?.trimmingCharacters(in: .whitespaces) else { throw invalid }
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("", 1)]
        for unit in units where text.hasSuffix(unit.suffix) {
            guard let number = Double(text.dropLast(unit.suffix.count)), number.isFinite,
                  number > 0 || (allowZero && number == 0) else { throw invalid }
            return number * unit.seconds
        }
        throw invalid
    }
}
