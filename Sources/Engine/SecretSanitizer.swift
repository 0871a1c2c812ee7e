import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Replaces every known secret value in a text with a placeholder. Every error that leaves the
/// engine after touching a plugin passes through here, as a second line of defence behind the
/// plugins' own care.
struct SecretSanitizer {
    private var secrets: [(value: String, placeholder: String)] = []

    init() {}

    mutating func add(_ value: String?, as placeholder: String = "[password]") {
        guard let value, SecretRedaction.isRedactable(value), !secrets.contains(where: { $0.value == value }) else { return }
        secrets.append((value, placeholder))
        let escaped = PercentEncoding.encoded(value, keeping: PercentEncoding.isASCIIAlphanumeric)
        if escaped != value {
            secrets.append((escaped, placeholder))
        }
    }

    /// Adds every secret-bearing parameter of a connection, a password written into its URL too.
    mutating func add(connection details: [String: JSONValue]) {
        for key in DatabaseConfigSecrets.keys { add(details[key]?.textValue) }
        add(details["private_key"]?.textValue, as: "[private_key]")
        if let url = details["connection_url"]?.textValue {
            for password in ConnectionURL.literalPasswords(in: url) { add(password) }
        }
    }

    var count: Int { secrets.count }

    /// Keeps the `count` most recently added secrets.
    mutating func keepLast(_ count: Int) {
        if secrets.count > count { secrets.removeFirst(secrets.count - count) }
    }

    func clean(_ text: String) -> String {
        var out = text
        for (value, placeholder) in secrets.sorted(by: { $0.value.count > $1.value.count }) {
            out = out.replacingEvery(value, with: placeholder)
        }
        return out
    }

    func clean(_ error: Error) -> String {
        clean(ErrorText.of(error))
    }
}

extension EngineError: UserFacingError {}

/// Every secret one process has read from or written to its state folder, or received in a
/// request: the CLI's one error path redacts them all, wherever they appear, whatever error
/// carried them. Shared by the copies of a `StateDirectory`.
public final class SecretRegistry: @unchecked Sendable {
    private let lock = Lock()
    private var known = SecretSanitizer()
    /// An agent that runs for months rotates many passwords; the newest matter.
    private static let capacity = 4096

    public init() {}

    public func add(_ value: String?) {
        lock.withLock {
            known.add(value)
            known.keepLast(Self.capacity)
        }
    }

    /// The secrets a request carries: a connection's password and keys, as written.
    public func add(requestData data: [String: JSONValue]) {
        lock.withLock {
            known.add(connection: data)
            known.keepLast(Self.capacity)
        }
    }

    func learn(from record: some StoredRecord) {
        for value in record.secretValues { add(value) }
    }

    public func clean(_ text: String) -> String {
        lock.withLock { known.clean(text) }
    }
}

extension DatabaseConfig {
    var secretValues: [String] {
        let url = connectionDetails["connection_url"]?.textValue ?? ""
        return DatabaseConfigSecrets.keys.compactMap { connectionDetails[$0]?.textValue } + ConnectionURL.literalPasswords(in: url)
    }
}

extension StaticRole {
    var secretValues: [String] { [password, previousPassword ?? ""] }
}

extension RootRotationIntent {
    var secretValues: [String] { [oldPassword, newPassword] + (earlierPasswords ?? []) }
}

extension StaticRotationIntent {
    var secretValues: [String] { passwords + (creation?.secretValues ?? []) + [retainedPassword ?? ""] }
}

/// Connection parameters that hold secrets: never returned by a read, never shown in errors.
/// (`tls_certificate_key` is MySQL's client certificate with its private key in one PEM;
/// `self_managed_password` is a static role's, listed so that a request carrying it is redacted too.)
enum DatabaseConfigSecrets {
    static let keys = ["password", "private_key", "tls_certificate_key", "secret_access_key", "service_account_json",
                       "self_managed_password"]
}

extension Engine {
    /// The connection parameters that hold secrets, for what prints a request (`-output-curl-string`).
    public static let secretConnectionParameters = Set(DatabaseConfigSecrets.keys)
}
