import DBPlugin
import Foundation

/// An AWS key pair, with where it came from (for messages; never the values themselves).
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public var source: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, source: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.source = source
    }
}

/// What the AWS SDKs read from the process environment and the shared files, resolved in their
/// order. The environment is a plain dictionary so tests can inject one (and a temporary HOME).
///
/// Not supported (the Go SDK has them): web identity, SSO, `credential_process`, container and
/// EC2 instance-metadata credentials. IMDS in particular would make a laptop without AWS wait
/// for a metadata server; we fail at once with a message saying where we looked instead.
public struct AWSEnvironment: Sendable {
    public static let defaultRegion = "us-east-1"

    public var variables: [String: String]

    public init(_ variables: [String: String]) {
        self.variables = variables
    }

    /// An unset and an empty variable mean the same, as in the SDKs.
    func value(_ name: String) -> String? {
        guard let v = variables[name], !v.isEmpty else { return nil }
        return v
    }

    var profileName: String { value("AWS_PROFILE") ?? "default" }

    var homeDirectory: String { value("HOME") ?? NSHomeDirectory() }

    var configFilePath: String { value("AWS_CONFIG_FILE") ?? homeDirectory + "/.aws/config" }

    var credentialsFilePath: String { value("AWS_SHARED_CREDENTIALS_FILE") ?? homeDirectory + "/.aws/credentials" }

    // MARK: Region

    /// The configured region, else `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`
    /// in the config file, else us-east-1 (upstream's fallback since it stopped erroring).
    public func region(configured: String?) -> String {
        if let r = configured, !r.isEmpty { return r }
        if let r = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") { return r }
        if let r = AWSProfileFile(path: configFilePath)?.profile(profileName, kind: .config)?["region"], !r.isEmpty {
            return r
        }
        return Self.defaultRegion
    }

    // MARK: Credentials

    static let chainFailure = "unable to retrieve AWS credentials from provider chain"

    /// The configured pair, else the environment, else the shared credentials file, else the
    /// shared config file, for the current profile.
    public func credentials(accessKeyID: String, secretAccessKey: String) throws -> AWSCredentials {
        if accessKeyID.isEmpty != secretAccessKey.isEmpty {
            throw PluginError(.invalidConfiguration, Self.chainFailure + ": static AWS client credentials haven't "
                + "been properly configured (the access key or secret key were provided but not both)")
        }
        if !accessKeyID.isEmpty {
            return AWSCredentials(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, source: "configuration")
        }

        var notes: [String] = []
        let envKey = value("AWS_ACCESS_KEY_ID") ?? value("AWS_ACCESS_KEY")
        let envSecret = value("AWS_SECRET_ACCESS_KEY") ?? value("AWS_SECRET_KEY")
        if let key = envKey, let secret = envSecret {
            return AWSCredentials(accessKeyID: key, secretAccessKey: secret,
                                  sessionToken: value("AWS_SESSION_TOKEN"), source: "environment")
        }
        if envKey != nil { notes.append("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not") }
        if envSecret != nil { notes.append("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not") }

        let profile = profileName
        for (path, kind) in [(credentialsFilePath, AWSProfileFile.Kind.credentials), (configFilePath, .config)] {
            guard let keys = AWSProfileFile(path: path)?.profile(profile, kind: kind) else { continue }
            let key = keys["aws_access_key_id"] ?? ""
            let secret = keys["aws_secret_access_key"] ?? ""
            if !key.isEmpty, !secret.isEmpty {
                let token = keys["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
                return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token,
                                      source: "profile \(profile) in \(path)")
            }
            if !key.isEmpty || !secret.isEmpty {
                notes.append("profile \"\(profile)\" in \(path) has only one of aws_access_key_id and aws_secret_access_key")
            }
        }

        var message = Self.chainFailure + ": no AWS credentials found in the configuration (access_key_id, "
            + "secret_access_key), the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or profile "
            + "\"\(profile)\" of \(credentialsFilePath) and \(configFilePath)"
        if !notes.isEmpty { message += " (" + notes.joined(separator: "; ") + ")" }
        throw PluginError(.invalidConfiguration, message)
    }

    // MARK: Endpoint

    /// The `endpoint` connection parameter, else `AWS_ENDPOINT_URL_ELASTICACHE`, else
    /// `AWS_ENDPOINT_URL`, else the regional AWS endpoint.
    public func elastiCacheEndpoint(configured: String?, region: String) throws -> URL {
        let (text, origin): (String, String)
        if let c = configured, !c.isEmpty {
            (text, origin) = (c, "endpoint")
        } else if let e = value("AWS_ENDPOINT_URL_ELASTICACHE") {
            (text, origin) = (e, "AWS_ENDPOINT_URL_ELASTICACHE")
        } else if let e = value("AWS_ENDPOINT_URL") {
            (text, origin) = (e, "AWS_ENDPOINT_URL")
        } else {
            return URL(string: "https://elasticache.\(region).amazonaws.com/")!
        }
        guard var parts = URLComponents(string: text),
              let scheme = parts.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = parts.host, !host.isEmpty,
              parts.query == nil, parts.fragment == nil, parts.user == nil, parts.password == nil
        else {
            throw PluginError(.invalidConfiguration,
                              "invalid \(origin) \"\(text)\": expected an http:// or https:// URL with a host and no query")
        }
        parts.scheme = scheme
        // An explicit default port would change the Host header the HTTP stack sends.
        if parts.port == (scheme == "https" ? 443 : 80) { parts.port = nil }
        if parts.path.isEmpty { parts.path = "/" }
        guard let url = parts.url else {
            throw PluginError(.invalidConfiguration, "invalid \(origin) \"\(text)\"")
        }
        return url
    }
}
