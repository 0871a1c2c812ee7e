import Basics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

    /// A positive duration (also zero when `allowZero`): a number of seconds (`5`, `"2.5"`) or a Go
    /// duration (`"500ms"`, `"1m"`).
    public func duration(_ key: String, default value: Double, allowZero: Bool = false) throws -> Double {
        guard let raw = raw[key], raw != .null else { return value }
        let invalid = PluginError(.invalidConfiguration, "invalid value for \(key): expected a \(allowZero ? "" : "positive ")"
            + "duration such as \"10s\" or \"500ms\"")
        guard let text = raw.textValue?.trimmingWhitespace() else { throw invalid }
        guard let seconds = Double(text) ?? GoDuration.seconds(text), seconds.isFinite,
              seconds > 0 || (allowZero && seconds == 0) else { throw invalid }
        return seconds
    }

    /// `statement_timeout` (ours; Vault has none): how long one statement or command may take,
    /// its whole round trip, before the client gives up and drops the connection.
    public func statementTimeout(default value: Double = ConnectionConfig.defaultStatementTimeout) throws -> Double {
        try duration("statement_timeout", default: value)
    }

    /// Long enough for any statement dbsecrets runs, short enough that a hung database cannot hold
    /// a tidy pass (one wait per due item) for hours.
    public static let defaultStatementTimeout: Double = 10
}
