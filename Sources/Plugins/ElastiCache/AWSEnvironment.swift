import DBPlugin
import Foundation
import TLS

/// What the AWS SDKs read from the process environment and the shared files: the profile, the
/// region, service endpoints, the CA bundle. The environment is a plain dictionary so tests can
/// inject one (and a temporary HOME); credentials are `AWSCredentialChain`'s business.
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

    var sharedFiles: AWSSharedFiles { AWSSharedFiles(configPath: configFilePath, credentialsPath: credentialsFilePath) }

    /// A key of the current profile in the config file (`region`, `ca_bundle`, …).
    func configSetting(_ key: String) -> String? {
        guard let v = AWSProfileFile(path: configFilePath)?.profile(profileName, kind: .config)?[key], !v.isEmpty else { return nil }
        return v
    }

    // MARK: Region

    /// The configured region, else `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`
    /// in the config file, else us-east-1 (upstream's fallback since it stopped erroring).
    public func region(configured: String?) -> String {
        if let r = configured, !r.isEmpty { return r }
        return value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? configSetting("region") ?? Self.defaultRegion
    }

    // MARK: Endpoints

    /// The AWS services the plugin calls, with the variable that overrides each one's endpoint.
    enum Service: Sendable {
        case elastiCache, sts

        var hostPrefix: String { self == .elastiCache ? "elasticache" : "sts" }
        var variable: String { self == .elastiCache ? "AWS_ENDPOINT_URL_ELASTICACHE" : "AWS_ENDPOINT_URL_STS" }
    }

    /// The `endpoint` connection parameter, else `AWS_ENDPOINT_URL_ELASTICACHE`, else
    /// `AWS_ENDPOINT_URL`, else the regional AWS endpoint.
    public func elastiCacheEndpoint(configured: String?, region: String) throws -> URL {
        try endpoint(.elastiCache, configured: configured, region: region)
    }

    /// STS is always regional (`https://sts.<region>.amazonaws.com/`), as in the Go SDK v2;
    /// `AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL`, replace it.
    func stsEndpoint(region: String) throws -> URL {
        try endpoint(.sts, configured: nil, region: region)
    }

    func endpoint(_ service: Service, configured: String?, region: String) throws -> URL {
        let (text, origin): (String, String)
        if let c = configured, !c.isEmpty {
            (text, origin) = (c, "endpoint")
        } else if let e = value(service.variable) {
            (text, origin) = (e, service.variable)
        } else if let e = value("AWS_ENDPOINT_URL") {
            (text, origin) = (e, "AWS_ENDPOINT_URL")
        } else {
            let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
            guard let url = URL(string: "https://\(service.hostPrefix).\(region).\(suffix)/"), url.host != nil else {
                throw PluginError(.invalidConfiguration, "invalid region \"\(region)\"")
            }
            return url
        }
        return try Self.httpURL(text, origin: origin)
    }

    /// An http(s) URL with a host and no query, normalised: path `/` when empty, no explicit
    /// default port (it would change the Host header that is signed).
    static func httpURL(_ text: String, origin: String) throws -> URL {
        guard var parts = URLComponents(string: text),
              let scheme = parts.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = parts.host, !host.isEmpty,
              parts.query == nil, parts.fragment == nil, parts.user == nil, parts.password == nil
        else {
            throw PluginError(.invalidConfiguration,
                              "invalid \(origin) \"\(text)\": expected an http:// or https:// URL with a host and no query")
        }
        parts.scheme = scheme
        if parts.port == (scheme == "https" ? 443 : 80) { parts.port = nil }
        if parts.path.isEmpty { parts.path = "/" }
        guard let url = parts.url else {
            throw PluginError(.invalidConfiguration, "invalid \(origin) \"\(text)\"")
        }
        return url
    }

    // MARK: TLS

    /// `AWS_CA_BUNDLE`, else the profile's `ca_bundle`: a PEM file trusted instead of the system's
    /// certificates for the ElastiCache and STS endpoints (a private or test endpoint over HTTPS).
    /// Read and parsed now, so a bad bundle is a configuration error before any request.
    func trustRoots() throws -> TLSConfiguration.TrustRoots {
        let path: String, origin: String
        if let value = value("AWS_CA_BUNDLE") {
            (path, origin) = (value, "AWS_CA_BUNDLE")
        } else if let value = configSetting("ca_bundle") {
            (path, origin) = (expandingHome(value), "ca_bundle of profile \"\(profileName)\" in \(configFilePath)")
        } else {
            return .system
        }
        guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.read(upToCount: Self.maximumCABundleBytes + 1) else {
            throw PluginError(.invalidConfiguration, "the CA bundle \(path) (\(origin)) cannot be read")
        }
        try? handle.close()
        guard data.count <= Self.maximumCABundleBytes else {
            throw PluginError(.invalidConfiguration, "the CA bundle \(path) (\(origin)) is larger than 1 MiB")
        }
        let roots = TLSConfiguration.TrustRoots.pem(Array(data))
        do throws(TLSError) {
            try TLSStream.check(TLSConfiguration(verification: .chainAndHost, trustRoots: roots, serverName: "localhost"))
        } catch {
            throw PluginError(error.kind == .unavailable ? .unsupported : .invalidConfiguration,
                              "the CA bundle \(path) (\(origin)): \(error.message)")
        }
        return roots
    }

    /// Debian's whole system bundle is about 200 KiB.
    static let maximumCABundleBytes = 1024 * 1024

    /// `~/x` in a path read from a shared file, as the AWS CLI writes them.
    func expandingHome(_ path: String) -> String {
        path.hasPrefix("~/") ? homeDirectory + path.dropFirst() : path
    }
}
