import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// The local ElastiCache endpoint and its redis-server started by `Tests/servers/start-elasticache`,
/// with the AWS credential doubles that run beside it (STS, instance metadata, container
/// credentials) and the endpoint's HTTPS listeners.
public struct ElastiCacheTestServer: Sendable {
    public var endpoint: String
    public var region: String
    public var accessKeyID: String
    public var secretAccessKey: String
    /// A second key pair that the endpoint only accepts with its session token.
    public var sessionAccessKeyID: String
    public var sessionSecretAccessKey: String
    public var sessionToken: String
    public var redisPort: Int
    /// The same API over HTTPS, with a certificate for 127.0.0.1 only from `caBundle`'s CA.
    public var tlsEndpoint: String
    public var caBundle: String
    /// A CA that signed nothing here.
    public var otherCABundle: String
    public var stsEndpoint: String
    public var stsTLSEndpoint: String
    public var instanceMetadataEndpoint: String
    /// Base URL of the container credentials double: ECS at `/v2/credentials/dbsecrets-task`,
    /// EKS Pod Identity at `/v1/credentials`.
    public var containerEndpoint: String

    /// The server, or `TestRequirement.missing` when the variables are missing or it does not answer.
    public static func fromEnvironment() throws -> ElastiCacheTestServer {
        let env = ProcessInfo.processInfo.environment
        func v(_ suffix: String) -> String? { env["DBSECRETS_TEST_ELASTICACHE_" + suffix] }
        func aws(_ suffix: String) -> String? { env["DBSECRETS_TEST_AWS_" + suffix] }
        guard let endpoint = v("ENDPOINT"), let region = v("REGION"), let key = v("ACCESS_KEY_ID"),
              let secret = v("SECRET_ACCESS_KEY"), let sessionKey = v("SESSION_ACCESS_KEY_ID"),
              let sessionSecret = v("SESSION_SECRET_ACCESS_KEY"), let token = v("SESSION_TOKEN"),
              let redisPort = v("REDIS_PORT").flatMap(Int.init), let tls = v("TLS_ENDPOINT"),
              let otherCA = env["DBSECRETS_TEST_TLS_OTHER_CA"], let ca = aws("CA_BUNDLE"), let sts = aws("STS_ENDPOINT"),
              let stsTLS = aws("STS_TLS_ENDPOINT"), let imds = aws("IMDS_ENDPOINT"), let container = aws("CONTAINER_ENDPOINT") else {
            throw TestRequirement.missing("DBSECRETS_TEST_ELASTICACHE_* and DBSECRETS_TEST_AWS_* not set: run scripts/test or "
                + "Tests/servers/start-elasticache")
        }
        guard let url = URL(string: endpoint), let host = url.host, let port = url.port else {
            throw TestRequirement.missing("DBSECRETS_TEST_ELASTICACHE_ENDPOINT is not a URL with a port: \(endpoint)")
        }
        try TestRequirement.reachable("the ElastiCache endpoint", host: host, port: port)
        try TestRequirement.reachable("the ElastiCache endpoint's Redis", host: "127.0.0.1", port: redisPort)
        return ElastiCacheTestServer(endpoint: endpoint, region: region, accessKeyID: key, secretAccessKey: secret,
                                     sessionAccessKeyID: sessionKey, sessionSecretAccessKey: sessionSecret,
                                     sessionToken: token, redisPort: redisPort, tlsEndpoint: tls, caBundle: ca,
                                     otherCABundle: otherCA, stsEndpoint: sts, stsTLSEndpoint: stsTLS, instanceMetadataEndpoint: imds,
                                     containerEndpoint: container)
    }

    /// Connection parameters that reach this endpoint with the test key pair, plus `extra`.
    public func config(_ extra: [String: JSONValue] = [:]) -> [String: JSONValue] {
        var config: [String: JSONValue] = [
            "url": "primary-endpoint.test-cluster.xxx.usw2.cache.amazonaws.com:6379",
            "endpoint": .string(endpoint),
            "region": .string(region),
            "access_key_id": .string(accessKeyID),
            "secret_access_key": .string(secretAccessKey),
        ]
        config.merge(extra) { _, new in new }
        return config
    }

    /// A fresh user id, so tests never see each other's users.
    public static func uniqueUserID(_ prefix: String = "vault-test") -> String {
        "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Creates an ElastiCache user (and the matching Redis ACL user, logging in as `userName`).
    public func createUser(_ userID: String, userName: String? = nil, password: String,
                           status: String = "active") throws {
        try testAction("TestCreateUser", ["UserId": userID, "UserName": userName ?? userID,
                                          "Passwords.member.1": password, "Status": status])
    }

    /// The plugin contract's subject for an ElastiCache plugin made by `makePlugin` against this
    /// endpoint: users are made with TestCreateUser and witnessed by logging in to its Redis.
    public func contractSubject(makePlugin: @escaping () throws -> DatabasePlugin) -> PluginContract.Subject {
        PluginContract.Subject(
            makePlugin: makePlugin,
            creationStatements: nil,
            createUser: { password in
                let id = Self.uniqueUserID("contract")
                try self.createUser(id, password: password)
                return id
            },
            canLogIn: { try self.redisLogin($0, $1) },
            dropUser: { _ in })
    }

    public func setStatus(_ userID: String, _ status: String) throws {
        try testAction("TestSetStatus", ["UserId": userID, "Status": status])
    }

    /// The next `count` signed API requests get this AWS error (or `body`) instead of an answer;
    /// with `raw`, these bytes as they are (not even HTTP), then the connection is closed.
    public func injectFailure(count: Int = 1, status: Int = 400, code: String = "Throttling",
                              message: String = "Rate exceeded", body: String? = nil,
                              contentType: String = "text/xml", delay: Double = 0, raw: [UInt8]? = nil) throws {
        var params = ["Count": String(count), "Status": String(status), "Code": code, "Message": message,
                      "ContentType": contentType, "Delay": String(delay)]
        if let body { params["Body"] = body }
        if let raw { params["Raw"] = Data(raw).base64EncodedString() }
        try testAction("TestInjectFailure", params)
    }

    /// After each ModifyUser the user reports `modifying` for this long, as AWS does while a
    /// change propagates. `resetFailures` sets it back to 0.
    public func setModifyingSeconds(_ seconds: Double) throws {
        try testAction("TestSetModifyingSeconds", ["Seconds": String(seconds)])
    }

    /// Drops pending injected failures and the modifying delay, and sets the credential doubles
    /// back to their defaults.
    public func resetFailures() throws {
        try testAction("TestReset", [:])
    }

    /// Credentials the doubles issue from now on expire after this long (AWS's shortest is 15 min).
    public func setCredentialLifetime(_ seconds: Double) throws {
        try testAction("TestSetCredentialLifetime", ["Seconds": String(seconds)])
    }

    /// How many credentials a double issued so far: `imds`, `container`, `assume-role`, `web-identity`.
    public func issuedCount(_ source: String) throws -> Int {
        Int(try testAction("TestIssuedCount", ["Source": source])) ?? -1
    }

    /// The one token STS AssumeRoleWithWebIdentity accepts from now on (the previous one no longer).
    public func acceptWebIdentityToken(_ token: String) throws {
        try testAction("TestAcceptWebIdentityToken", ["Token": token])
    }

    /// The Authorization value the EKS Pod Identity path requires.
    public func setContainerToken(_ token: String) throws {
        try testAction("TestSetContainerToken", ["Token": token])
    }

    /// STS AssumeRole of this role succeeds only with this ExternalId.
    public func requireExternalID(_ externalID: String, forRole roleARN: String) throws {
        try testAction("TestRequireExternalId", ["RoleArn": roleARN, "ExternalId": externalID])
    }

    /// True when `redis-cli --user … --pass … PING` answers PONG (the login worked).
    public func redisLogin(_ user: String, _ password: String) throws -> Bool {
        let result = try ProcessRunner.run("/usr/bin/redis-cli", ["-h", "127.0.0.1", "-p", String(redisPort), "--user", user, "--pass", password,
                                                                 "--no-auth-warning", "PING"], timeout: ProcessRunner.clientTimeout)
        return (result.stdout + result.stderr).trimmingCharacters(in: .whitespacesAndNewlines) == "PONG"
    }

    @discardableResult
    private func testAction(_ action: String, _ params: [String: String]) throws -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-_.~")
        let body = ([("Action", action)] + params.sorted { $0.key < $1.key })
            .map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
            .joined(separator: "&")
        var request = URLRequest(url: URL(string: endpoint)!, timeoutInterval: 5)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)

        final class Outcome: @unchecked Sendable { var status = 0; var text = ""; var error: Error? }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            outcome.status = (response as? HTTPURLResponse)?.statusCode ?? 0
            outcome.text = data.map { String(decoding: $0, as: UTF8.self) } ?? ""
            outcome.error = error
            done.signal()
        }.resume()
        if done.wait(timeout: .now() + 10) == .timedOut {
            throw NSError(domain: "ElastiCacheTestServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(action) timed out"])
        }
        if let error = outcome.error { throw error }
        guard outcome.status == 200 else {
            throw NSError(domain: "ElastiCacheTestServer", code: outcome.status,
                          userInfo: [NSLocalizedDescriptionKey: "\(action) failed: \(outcome.text)"])
        }
        return outcome.text
    }
}
