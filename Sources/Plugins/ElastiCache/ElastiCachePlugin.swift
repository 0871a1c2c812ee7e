import DBPlugin
import Foundation

public enum ElastiCachePluginInfo {
    public static let name = "redis-elasticache-database-plugin"
}

/// SIGTERM and SIGINT in the plugin's executable. Only the wait for a user to be active can take
/// long; during it a stop ends the wait (the answer says so), elsewhere the process just exits.
public enum ElastiCacheStop {
    /// Set while `updateUser` waits for the user; read from the signal handler.
    nonisolated(unsafe) static var waiting: sig_atomic_t = 0

    public static let handle: @convention(c) (Int32) -> Void = { signal in
        guard waiting != 0 else { _exit(128 + signal) }
        StopRequest.flag = 1
        alarm(2)
    }
}

/// Vault's `redis-elasticache-database-plugin`: static roles only. Rotating a static role sets the
/// ElastiCache user's password through the AWS API (DescribeUsers, then ModifyUser); the plugin
/// never talks to Redis itself, and its root credential is an IAM key pair it cannot rotate.
///
/// Connection parameters: `url` (stored only), `access_key_id`, `secret_access_key`, `region`,
/// deprecated `username`/`password` (synonyms of the key pair), and ours: `endpoint`,
/// `user_active_timeout`. Without a key pair, credentials come from `AWSCredentialChain`.
public final class ElastiCachePlugin: DatabasePlugin {
    public let type = "redisElastiCache"

    private let environment: AWSEnvironment
    private let retryPolicy: AWSRetryPolicy
    private let addresses: AWSMetadataAddresses
    private var client: ElastiCacheClient?
    private var userActiveTimeout = ElastiCacheConfiguration.defaultUserActiveTimeout

    /// What `initialize` resolved, for diagnostics and tests.
    public private(set) var region: String?
    public private(set) var endpoint: URL?
    public private(set) var credentialSource: String?

    public convenience init() {
        self.init(environment: ProcessInfo.processInfo.environment)
    }

    /// `environment` stands in for the process environment (AWS_* variables and HOME, which
    /// locates `~/.aws`), so tests can resolve regions and credentials without touching the real ones.
    public convenience init(environment: [String: String] = ProcessInfo.processInfo.environment,
                            retryPolicy: AWSRetryPolicy = .standard) {
        self.init(environment: environment, retryPolicy: retryPolicy, addresses: .aws)
    }

    /// `addresses` replaces AWS's link-local credential endpoints, for tests only.
    init(environment: [String: String], retryPolicy: AWSRetryPolicy, addresses: AWSMetadataAddresses) {
        self.environment = AWSEnvironment(environment)
        self.retryPolicy = retryPolicy
        self.addresses = addresses
    }

    /// Warnings for a config write (deprecated parameters). The plugin contract has no channel
    /// for them, so the engine asks here.
    public static func warnings(for config: [String: JSONValue]) -> [String] {
        ElastiCacheConfiguration.warnings(for: config)
    }

    public func initialize(_ request: InitializeRequest) throws -> InitializeResponse {
        let config = try ElastiCacheConfiguration(request.config)
        let region = environment.region(configured: config.region)
        let endpoint = try environment.elastiCacheEndpoint(configured: config.endpoint, region: region)
        let http = HTTPClient(timeout: retryPolicy.requestTimeout, trustRoots: try environment.trustRoots())
        let chain = AWSCredentialChain(environment: environment, region: region, retryPolicy: retryPolicy,
                                       apiHTTP: http, addresses: addresses)
        let credentials = AWSCredentialCache(try chain.provider(accessKeyID: config.accessKeyID,
                                                                secretAccessKey: config.secretAccessKey))
        // Fetched now, as upstream does, so a connection write fails at once when nothing is found.
        let first = try credentials.credentials()

        let client = ElastiCacheClient(endpoint: endpoint, region: region, credentials: credentials,
                                       retryPolicy: retryPolicy, http: http)
        if request.verifyConnection {
            do {
                _ = try client.describeUsers()
            } catch let error as AWSAPIError {
                throw PluginError(.connection, "unable to verify ElastiCache API access (region \"\(region)\"): \(error)")
            }
        }
        self.client = client
        self.region = region
        self.endpoint = endpoint
        self.credentialSource = first.source
        self.userActiveTimeout = config.userActiveTimeout
        return InitializeResponse(config: request.config, warnings: ElastiCacheConfiguration.warnings(for: request.config))
    }

    public func generateUsername(_ metadata: UsernameMetadata) throws -> String {
        throw PluginError(.unsupported, "user creation not supported")
    }

    public func newUser(_ request: NewUserRequest) throws -> NewUserResponse {
        throw PluginError(.unsupported, "user creation not supported")
    }

    public func deleteUser(_ request: DeleteUserRequest) throws -> DeleteUserResponse {
        throw PluginError(.unsupported, "user deletion not supported")
    }

    /// Static-role rotation. The role's username is the ElastiCache *UserId*; the new password
    /// replaces all of the user's passwords. Expiration changes mean nothing here.
    ///
    /// ElastiCache applies ModifyUser asynchronously (the user is `modifying`, then `active`), so
    /// the rotation is done only once DescribeUsers shows the user `active` again: then the new
    /// password works. A user still not active after `user_active_timeout` fails the rotation,
    /// which the engine retries; its static-rotation intent covers a crash while waiting.
    public func updateUser(_ request: UpdateUserRequest) throws -> UpdateUserResponse {
        try request.requireChanges()
        if request.isRootRotation {
            throw PluginError(.unsupported, "root credential rotation not supported")
        }
        try request.requireSupport(by: self)
        // The user's whole list of passwords (at most two): the new one, and the current one when
        // the rotation keeps it; or, discarding a kept one, the current one alone.
        let passwords: [String]
        if let change = request.password {
            try ElastiCachePasswordRules.validate(change.newPassword)
            passwords = [change.newPassword] + (change.retainedPassword.map { [$0] } ?? [])
        } else if let discard = request.discardPreviousPassword {
            passwords = [discard.currentPassword]
        } else {
            return UpdateUserResponse()
        }
        guard let client else {
            throw PluginError(.connection, "connection has not been initialized")
        }
        let username = request.username

        // Until ModifyUser is sent nothing has changed, whatever failed; from then on, only AWS's
        // own refusal of it says the password was not changed (the engine keeps the new one as a
        // candidate otherwise).
        let users: [ElastiCacheUser]
        do {
            users = try client.describeUsers(userID: username)
        } catch let error as AWSAPIError {
            throw PluginError(Self.kind(of: error), "unable to get user \(username): \(error)", outcome: .unchanged)
        }
        // Upstream checks only a single match; zero users (AWS says UserNotFound instead) goes on.
        if users.count == 1, users[0].status != "active" {
            throw PluginError(.database, "user \(username) cannot be updated because it is not in the 'active' state")
        }

        do {
            try client.modifyUser(userID: username, passwords: passwords)
        } catch let error as AWSAPIError {
            throw PluginError(Self.kind(of: error), "unable to update user \(username): \(error)",
                              outcome: error.isRefusal ? .unchanged : .unknown)
        }
        if userActiveTimeout > 0 {
            ElastiCacheStop.waiting = 1
            defer { ElastiCacheStop.waiting = 0 }
            try waitUntilActive(username, client: client)
        }
        return UpdateUserResponse()
    }

    /// First check at once, then after 0.25 s, doubling to at most 15 s between checks, until
    /// `userActiveTimeout` has passed (a last check at the deadline).
    static let firstActiveCheckDelay: TimeInterval = 0.25
    static let maximumActiveCheckDelay: TimeInterval = 15

    private func waitUntilActive(_ username: String, client: ElastiCacheClient) throws {
        let deadline = Date().addingTimeInterval(userActiveTimeout)
        var delay = Self.firstActiveCheckDelay
        // Run as dbsecrets' plugin process: if dbsecrets is killed or asked to stop meanwhile,
        // nobody should wait for the answer (the rotation's intent record covers it): stop asking AWS.
        let parent = getppid()
        func checkNotStopped() throws {
            if getppid() != parent || StopRequest.isRequested {
                throw PluginError(.connection, "dbsecrets stopped while waiting for user \(username) to be active",
                                  outcome: .unknown)
            }
        }
        while true {
            try checkNotStopped()
            let status: String
            do {
                let users = try client.describeUsers(userID: username)
                guard let user = users.first(where: { $0.userID == username }) ?? users.first else {
                    throw PluginError(.database, "ModifyUser was accepted but DescribeUsers no longer lists user \(username)",
                                      outcome: .unknown)
                }
                status = user.status
            } catch let error as AWSAPIError {
                throw PluginError(Self.kind(of: error), "ModifyUser was accepted but the state of user \(username) "
                    + "could not be read: \(error)", outcome: .unknown)
            }
            if status == "active" { return }
            if status != "modifying" {
                throw PluginError(.database, "ModifyUser was accepted but user \(username) is now '\(status)', not 'active'",
                                  outcome: .unknown)
            }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 {
                throw PluginError(.database, "ModifyUser was accepted but user \(username) was still 'modifying' after "
                    + "\(formatSeconds(userActiveTimeout)) (user_active_timeout): the new password may not work yet, "
                    + "so the rotation is not done", outcome: .unknown)
            }
            // In slices, so a stop is noticed within a fifth of a second.
            let wakeUp = Date().addingTimeInterval(min(delay, remaining))
            while Date() < wakeUp {
                try checkNotStopped()
                Thread.sleep(forTimeInterval: min(BlockingSocket.waitSlice, max(wakeUp.timeIntervalSinceNow, 0)))
            }
            delay = min(delay * 2, Self.maximumActiveCheckDelay)
        }
    }

    /// ElastiCache users hold up to two passwords.
    public func supports(_ feature: PluginFeature) throws -> Bool {
        feature == .twoPasswords
    }

    public func close() {
        client = nil
    }

    private static func kind(of error: AWSAPIError) -> PluginError.Kind {
        switch error.failure {
        case .transport, .credentials: return .connection
        default: return .database
        }
    }
}
