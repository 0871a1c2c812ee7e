import DBPlugin
import Foundation

/// An AWS key pair, with where it came from (for messages; never the values themselves).
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// Set for temporary credentials (STS, container, instance metadata, some credential processes).
    public var expiration: Date?
    public var source: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil,
                source: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
        self.source = source
    }
}

/// One place credentials can be fetched from (the environment, STS, a metadata endpoint, …).
/// `retrieve` fetches anew every time; `AWSCredentialCache` decides when that is needed.
protocol AWSCredentialProvider: AnyObject {
    /// Where the credentials come from, as messages name it ("profile dev: assume role …").
    var source: String { get }
    /// Throws a `PluginError` that says what failed, never a key.
    func retrieve() throws -> AWSCredentials
}

/// The credentials requests are signed with: fetched once, fetched again before they expire, so a
/// long agent run or a long wait never signs with expired keys.
///
/// Refreshed when less than five minutes are left, or less than half their lifetime for
/// credentials that live under ten minutes (AWS's temporary credentials live at least fifteen).
/// A refresh that fails while the current credentials are still valid keeps them for now.
final class AWSCredentialCache: @unchecked Sendable {
    static let refreshMargin: TimeInterval = 5 * 60

    let provider: AWSCredentialProvider
    private let now: @Sendable () -> Date
    private let lock = NSLock()
    private var current: AWSCredentials?
    private var refreshAt: Date?

    init(_ provider: AWSCredentialProvider, now: @escaping @Sendable () -> Date = { Date() }) {
        self.provider = provider
        self.now = now
    }

    var source: String { provider.source }

    func credentials() throws -> AWSCredentials {
        lock.lock()
        defer { lock.unlock() }
        let time = now()
        if let current, refreshAt.map({ time < $0 }) ?? true { return current }
        do {
            let fresh = try provider.retrieve()
            current = fresh
            refreshAt = fresh.expiration.map { expiration in
                let lifetime = expiration.timeIntervalSince(time)
                return expiration.addingTimeInterval(-min(Self.refreshMargin, max(lifetime, 0) / 2))
            }
            return fresh
        } catch {
            if let current, let expiration = current.expiration, expiration > time { return current }
            throw error
        }
    }

    /// Forgets the credentials, so the next call fetches new ones (the service said they expired).
    func invalidate() {
        lock.lock()
        defer { lock.unlock() }
        current = nil
        refreshAt = nil
    }

    /// True when these credentials can be fetched anew at all (static keys cannot).
    var isRefreshable: Bool { !(provider is StaticCredentialProvider) }
}

/// Keys given once: the connection's pair, the environment's, a profile's.
final class StaticCredentialProvider: AWSCredentialProvider {
    let credentials: AWSCredentials
    var source: String { credentials.source }

    init(_ credentials: AWSCredentials) {
        self.credentials = credentials
    }

    func retrieve() throws -> AWSCredentials { credentials }
}

/// The timestamps AWS credential sources use: `2024-05-01T12:00:00Z`, with or without fractions
/// of a second, or with an offset instead of Z.
enum AWSTimestamp {
    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
