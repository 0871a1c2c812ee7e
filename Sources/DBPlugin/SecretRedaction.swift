import Basics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The rules every redaction follows, in the plugins, the engine and the CLI alike.
public enum SecretRedaction {
    /// Values shorter than this are not redacted: they are too short to be secrets, and hiding
    /// every `p` would turn `reply` into `re[password]ly`, which tells what the password is.
    public static let minimumLength = 6

    public static func isRedactable(_ value: String) -> Bool {
        value.count >= minimumLength
    }
}

extension String {
    /// This text with every occurrence of each secret replaced by `placeholder`, as Vault's error
    /// sanitizer does. Longer secrets go first, so a password that contains another is hidden whole.
    public func redacting(_ secrets: [String], as placeholder: String = "[password]") -> String {
        secrets.filter(SecretRedaction.isRedactable).sorted { $0.count > $1.count }.reduce(self) {
            $0.replacingEvery($1, with: placeholder)
        }
    }
}

/// An error whose message is written for the user and never holds a secret.
public protocol UserFacingError: Error {
    var message: String { get }
}

extension PluginError: UserFacingError {}

/// What may be said of any error that reaches a user. Foundation's own errors describe the
/// values involved (an `EncodingError` holds the whole record it failed on, passwords included),
/// so an error of a type not written for users is named, never described.
public enum ErrorText {
    public static func of(_ error: Error) -> String {
        switch error {
        case let error as UserFacingError:
            return error.message
        case let error as EncodingError:
            if case .invalidValue(_, let context) = error { return "a value cannot be written as JSON\(at(context.codingPath))" }
            return "a value cannot be written as JSON"
        case let error as DecodingError:
            switch error {
            case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
                return "unreadable JSON\(at(context.codingPath))"
            case .keyNotFound(let key, _):
                return "unreadable JSON: missing \(key.stringValue)"
            @unknown default:
                return "unreadable JSON"
            }
        default:
            return "unexpected error (\(type(of: error)))"
        }
    }

    private static func at(_ codingPath: [CodingKey]) -> String {
        let path = codingPath.map(\.stringValue).joined(separator: ".")
        return path.isEmpty ? "" : " at \(path)"
    }
}
