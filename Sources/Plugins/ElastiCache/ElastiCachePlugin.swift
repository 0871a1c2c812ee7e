import DBPlugin
import Foundation

public enum ElastiCachePluginInfo {
    public static let name = "redis-elasticache-database-plugin"
}

/// Vault's `redis-elasticache-database-plugin`: static roles only. Rotating a static role sets the
/// ElastiCache user's password through the AWS API (DescribeUsers, then ModifyUser); the plugin
/// never talks to Redis itself, and its root credential is an IAM key pair it cannot rotate.
///
/// Connection parameters: `url` (stored only), `access_key_id`, `secret_access_key`, `region`,
/// deprecated `username`/`password` (synonyms of the key pair), and ours: `endpoint`.
public final class ElastiCachePlugin: DatabasePlugin {
    public let type = "redisElastiCache"

    private let environment: AWSEnvironment
    private let retryPolicy: AWSRetryPolicy
    private var client: ElastiCacheClient?

    /// What `initialize` resolved, for diagnostics and tests.
    public private(set) var region: String?
    public private(set) var endpoint: URL?
    public private(set) var credentialSource: String?

    public convenience init() {
        self.init(environment: ProcessInfo.processInfo.environment)
    }

    /// `environment` stands in for the process environment (AWS_* variables and HOME, which
    /// locates `~/.aws`), so tests can resolve regions and credentials without touching the real ones.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                retryPolicy: AWSRetryPolicy = .standard) {
        self.environment = AWSEnvironment(environment)
        self.retryPolicy = retryPolicy
    }

    deinit {
        client?.close()
    }

    /// Warnings for a config write (deprecated parameters). The plugin contract has no channel
    /// for them, so the engine asks here.
    public static func warnings(for config: [String: JSONValue]) -> [String] {
        ElastiCacheConfiguration.warnings(for: config)
    }

    public func initialize(_ request: InitializeRequest) throws -> InitializeResponse {
        let config = ElastiCacheConfiguration(request.config)
        let region = environment.region(configured: config.region)
        let credentials = try environment.credentials(accessKeyID: config.accessKeyID,
                                                      secretAccessKey: config.secretAccessKey)
        let endpoint = try environment.elastiCacheEndpoint(configured: config.endpoint, region: region)

        let client = ElastiCacheClient(endpoint: endpoint, region: region, credentials: credentials,
                                       retryPolicy: retryPolicy)
        if request.verifyConnection {
            do {
                _ = try client.describeUsers()
            } catch let error as ElastiCacheAPIError {
                client.close()
                throw PluginError(.connection, "unable to verify ElastiCache API access (region \"\(region)\"): \(error)")
            }
        }
        self.client?.close()
        self.client = client
        self.region = region
        self.endpoint = endpoint
        self.credentialSource = credentials.source
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
    public func updateUser(_ request: UpdateUserRequest) throws -> UpdateUserResponse {
        try request.requireChanges()
        if request.isRootRotation {
            throw PluginError(.unsupported, "root credential rotation not supported")
        }
        guard let change = request.password else { return UpdateUserResponse() }
        try ElastiCachePasswordRules.validate(change.newPassword)
        guard let client else {
            throw PluginError(.connection, "connection has not been initialized")
        }
        let username = request.username

        let users: [ElastiCacheUser]
        do {
            users = try client.describeUsers(userID: username)
        } catch let error as ElastiCacheAPIError {
            throw PluginError(Self.kind(of: error), "unable to get user \(username): \(error)")
        }
        // Upstream checks only a single match; zero users (AWS says UserNotFound instead) goes on.
        if users.count == 1, users[0].status != "active" {
            throw PluginError(.database, "user \(username) cannot be updated because it is not in the 'active' state")
        }

        do {
            try client.modifyUser(userID: username, passwords: [change.newPassword])
        } catch let error as ElastiCacheAPIError {
            throw PluginError(Self.kind(of: error), "unable to update user \(username): \(error)")
        }
        return UpdateUserResponse()
    }

    public func close() {
        client?.close()
        client = nil
    }

    private static func kind(of error: ElastiCacheAPIError) -> PluginError.Kind {
        if case .transport = error.failure { return .connection }
        return .database
    }
}
