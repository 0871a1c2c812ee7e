import DBPlugin
import Foundation

/// The link-local addresses AWS serves credentials on. Tests replace them with loopback doubles;
/// the product never does (the variables that point elsewhere are AWS's own).
struct AWSMetadataAddresses: Sendable {
    /// Where `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is resolved (ECS).
    var containerBase: String
    var instanceMetadataIPv4: String
    var instanceMetadataIPv6: String

    static let aws = AWSMetadataAddresses(containerBase: "http://169.254.170.2",
                                          instanceMetadataIPv4: "http://169.254.169.254/",
                                          instanceMetadataIPv6: "http://[fd00:ec2::254]/")
}

/// Credentials from a container endpoint: ECS task roles (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`
/// on 169.254.170.2) and EKS Pod Identity or any local agent (`AWS_CONTAINER_CREDENTIALS_FULL_URI`),
/// with `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read at every refresh) or
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN` sent as the Authorization header.
final class ContainerCredentialProvider: AWSCredentialProvider {
    /// botocore's: two seconds per attempt, three attempts.
    static let timeout: TimeInterval = 2
    static let attempts = 3
    /// Plain http is allowed to loopback and to the addresses ECS and EKS serve on; anything else
    /// must be https, since the answer is a key.
    static let allowedHTTPHosts: Set<String> = ["169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost"]

    let source: String
    let url: URL
    let tokenFile: String?
    let token: String?
    private let http = HTTPClient(timeout: ContainerCredentialProvider.timeout)

    init(url: URL, tokenFile: String?, token: String?, source: String) {
        self.url = url
        self.tokenFile = tokenFile
        self.token = token
        self.source = source
    }

    /// The URL of a FULL_URI, refused when it is plain http to a host that is not local.
    static func fullURL(_ text: String) throws -> URL {
        let url = try AWSEnvironment.httpURL(text, origin: "AWS_CONTAINER_CREDENTIALS_FULL_URI")
        guard url.scheme == "http" else { return url }
        var host = url.host ?? ""
        if host.hasPrefix("[") { host = String(host.dropFirst().dropLast()) }
        if allowedHTTPHosts.contains(host) || isLoopback(host) { return url }
        throw PluginError(.invalidConfiguration, "AWS_CONTAINER_CREDENTIALS_FULL_URI \"\(text)\": plain http is only "
            + "allowed to a loopback address or \(allowedHTTPHosts.sorted().joined(separator: ", ")); use https")
    }

    static func isLoopback(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        if inet_pton(AF_INET6, host, &v6) == 1 { return host == "::1" || host.lowercased() == "0:0:0:0:0:0:0:1" }
        return false
    }

    func retrieve() throws -> AWSCredentials {
        var headers = [("Accept", "application/json")]
        if let authorization = try authorizationToken() { headers.append(("Authorization", authorization)) }
        var lastFailure = ""
        for attempt in 1...Self.attempts {
            do {
                let response = try http.send("GET", url: url, headers: headers)
                if response.status == 200 {
                    return try MetadataJSON.credentials(response.body, tokenKey: "Token", source: source)
                }
                lastFailure = "HTTP \(response.status)" + MetadataJSON.errorSummary(response.body)
                // A refusal will not change on retry; a server in trouble may.
                if response.status < 500 && response.status != 429 { break }
            } catch let error as HTTPTransportError {
                lastFailure = error.description
            }
            if attempt < Self.attempts { Thread.sleep(forTimeInterval: 0.5 * Double(attempt)) }
        }
        throw AWSCredentialChain.failure(source, lastFailure, .connection)
    }

    private func authorizationToken() throws -> String? {
        var value = token
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                throw AWSCredentialChain.failure(source, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(tokenFile)",
                                                 .invalidConfiguration)
            }
            value = String(decoding: data, as: UTF8.self)
        }
        guard let value else { return nil }
        guard !value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) else {
            let origin = tokenFile.map { "the token in \($0)" } ?? "AWS_CONTAINER_AUTHORIZATION_TOKEN"
            throw AWSCredentialChain.failure(source, "\(origin) contains a line break", .invalidConfiguration)
        }
        return value
    }
}

/// Credentials of the EC2 instance's role from the instance metadata service, IMDSv2 only: a
/// session token from `PUT /latest/api/token`, then the role's name and its credentials under
/// `/latest/meta-data/iam/security-credentials/`. No IMDSv1 fall-back: an instance that requires
/// tokens refuses it anyway, and one that does not should not be relied on.
///
/// One attempt of one second by default (`AWS_METADATA_SERVICE_TIMEOUT`,
/// `AWS_METADATA_SERVICE_NUM_ATTEMPTS`, as botocore): off EC2 the address answers nothing, and
/// the chain must not make every command wait.
final class InstanceMetadataProvider: AWSCredentialProvider {
    static let tokenTTL = "21600"

    let source: String
    let base: URL
    let attempts: Int
    /// Prefixed to failures: this is the chain's last resort, so its failure is "nothing found".
    let notFound: String
    private let http: HTTPClient

    init(base: URL, timeout: TimeInterval, attempts: Int, notFound: String) {
        self.base = base
        self.attempts = max(1, attempts)
        self.notFound = notFound
        source = "EC2 instance metadata at \(base.absoluteString)"
        http = HTTPClient(timeout: timeout)
    }

    func retrieve() throws -> AWSCredentials {
        let token = try request("PUT", "latest/api/token", ["X-aws-ec2-metadata-token-ttl-seconds": Self.tokenTTL],
                                what: "the IMDSv2 token request")
        let tokenText = String(decoding: token, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let header = ["X-aws-ec2-metadata-token": tokenText]
        let roles = try request("GET", "latest/meta-data/iam/security-credentials/", header, what: "the role name request")
        guard let role = String(decoding: roles, as: UTF8.self).split(whereSeparator: \.isNewline).first
            .map({ $0.trimmingCharacters(in: .whitespaces) }), !role.isEmpty,
            !role.contains("/"), !role.contains("?"), !role.contains("#") else {
            throw failure("the instance has no IAM role (instance profile)")
        }
        let body = try request("GET", "latest/meta-data/iam/security-credentials/\(role)", header,
                               what: "the credentials request for role \(role)")
        do {
            return try MetadataJSON.credentials(body, tokenKey: "Token", source: "\(source) (role \(role))")
        } catch let error as PluginError {
            throw failure(error.message)
        }
    }

    private func request(_ method: String, _ path: String, _ headers: [String: String], what: String) throws -> Data {
        let root = base.absoluteString.hasSuffix("/") ? base.absoluteString : base.absoluteString + "/"
        guard let url = URL(string: root + path) else { throw failure("cannot build a URL for \(path)") }
        var last = ""
        for _ in 1...attempts {
            do {
                let response = try http.send(method, url: url, headers: headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
                if response.status == 200, !response.body.isEmpty { return response.body }
                last = response.status == 404 && path.hasPrefix("latest/meta-data/iam")
                    ? "the instance has no IAM role (instance profile)"
                    : "\(what) was answered HTTP \(response.status)"
                if response.status < 500 { break }
            } catch let error as HTTPTransportError {
                last = "\(what) failed: \(error.description)"
            }
        }
        throw failure(last)
    }

    private func failure(_ reason: String) -> PluginError {
        PluginError(.invalidConfiguration, "\(notFound) (\(source): \(reason))")
    }
}

/// The JSON credential documents of the container endpoint and instance metadata, and their errors.
enum MetadataJSON {
    static func credentials(_ body: Data, tokenKey: String, source: String) throws -> AWSCredentials {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw AWSCredentialChain.failure(source, "the answer is not a JSON object", .connection)
        }
        if let code = object["Code"] as? String, code != "Success" {
            let message = (object["Message"] as? String).map { ": " + String($0.prefix(200)) } ?? ""
            throw AWSCredentialChain.failure(source, "the answer says \(String(code.prefix(100)))\(message)", .connection)
        }
        func required(_ key: String) throws -> String {
            guard let value = object[key] as? String, !value.isEmpty else {
                throw AWSCredentialChain.failure(source, "the answer has no \(key)", .connection)
            }
            return value
        }
        let key = try required("AccessKeyId"), secret = try required("SecretAccessKey"), token = try required(tokenKey)
        let expirationText = try required("Expiration")
        guard let expiration = AWSTimestamp.parse(expirationText) else {
            throw AWSCredentialChain.failure(source, "the answer's Expiration is not a timestamp", .connection)
        }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token, expiration: expiration,
                              source: source)
    }

    /// `: code: message` of a JSON error answer (`{"code": …, "message": …}` in either case),
    /// shortened; nothing when the body is not one, since a body could be anything.
    static func errorSummary(_ body: Data) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return "" }
        let code = (object["code"] ?? object["Code"]) as? String
        let message = (object["message"] ?? object["Message"]) as? String
        let parts = [code, message].compactMap { $0.map { String($0.prefix(200)) } }
        return parts.isEmpty ? "" : ": " + parts.joined(separator: ": ")
    }
}
