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
}
