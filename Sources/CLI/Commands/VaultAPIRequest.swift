import Basics
import DBPlugin
import Engine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The HTTP request `vault` would send for a command: what `-output-curl-string` prints as a
/// `curl` call against Vault's API, and what `-output-policy` turns into the HCL policy it needs,
/// so that a user can take the same step against a real Vault. Commands build one per request
/// and hand it to `Invocation.send`, which prints it instead of running the request when asked.
struct VaultAPIRequest {
    var method: String
    /// Without `/v1/` and without the query: `database/creds/ro`.
    var path: String
    var query: [(String, String)] = []
    /// The JSON body, written as Go's `json.Marshal` writes it (a map's keys sorted; `pairs` keep
    /// a Go struct's field order).
    var body: Body?

    enum Body {
        case object([String: JSONValue])
        case pairs([(String, JSONValue)])
    }

    /// What `vault read|list|write|delete PATH` sends: a read's `k=v` data goes in the query.
    static func forVerb(_ operation: EngineRequest.Operation, path: String, data: [String: JSONValue]) -> VaultAPIRequest {
        switch operation {
        case .read:
            return VaultAPIRequest(method: "GET", path: path, query: data.keys.sorted().map { ($0, data[$0]?.textValue ?? "") })
        case .list: return VaultAPIRequest(method: "GET", path: path, query: [("list", "true")])
        case .write: return VaultAPIRequest(method: "PUT", path: path, body: data.isEmpty ? nil : .object(data))
        case .delete: return VaultAPIRequest(method: "DELETE", path: path)
        }
    }

    // MARK: -output-curl-string

    /// Vault's `OutputStringError.buildCurlString`, with the token as `$(vault print token)`.
    /// Secret values (passwords, keys) are never printed: each is replaced by a placeholder,
    /// and `hidden` names them.
    func curlString(environment: [String: String], secretKeys: Set<String>) -> (text: String, hidden: [String]) {
        var text = "curl "
        if ["1", "true", "t", "TRUE", "True"].contains(environment["VAULT_SKIP_VERIFY"] ?? "") { text += "--insecure " }
        if method != "GET" { text += "-X \(method) " }
        for (variable, option) in [("VAULT_CACERT", "--cacert"), ("VAULT_CAPATH", "--capath"),
                                   ("VAULT_CLIENT_CERT", "--cert"), ("VAULT_CLIENT_KEY", "--key")] {
            if let value = environment[variable], !value.isEmpty { text += "\(option) \(Self.singleQuoted(value)) " }
        }
        if let namespace = environment["VAULT_NAMESPACE"], !namespace.isEmpty {
            text += "-H \"X-Vault-Namespace: \(namespace)\" "
        }
        text += "-H \"X-Vault-Request: true\" -H \"X-Vault-Token: $(vault print token)\" "
        var hidden: [String] = []
        if let body {
            let redacted = Self.redacted(body, secretKeys: secretKeys, hidden: &hidden)
            text += "-d \(Self.singleQuoted(redacted)) "
        }
        return (text + GoJSON.quote(url(environment: environment)).replacingEvery("\\u0026", with: "&"), hidden)
    }

    static let secretPlaceholder = "(secret not shown)"

    private static func redacted(_ body: Body, secretKeys: Set<String>, hidden: inout [String]) -> String {
        func clean(_ key: String, _ value: JSONValue) -> JSONValue {
            guard secretKeys.contains(key), value != .null, value != .string("") else { return value }
            hidden.append(key)
            return .string(secretPlaceholder)
        }
        switch body {
        case .object(let object):
            return GoJSON.compact(.object(Dictionary(uniqueKeysWithValues: object.map { ($0.key, clean($0.key, $0.value)) })))
        case .pairs(let pairs):
            return GoJSON.compact(pairs: pairs.map { ($0.0, clean($0.0, $0.1)) })
        }
    }

    /// Go's `url.URL.String()` of the request: the address, `/v1/`, the escaped path, the query.
    func url(environment: [String: String]) -> String {
        var address = environment["VAULT_ADDR"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://127.0.0.1:8200"
        while address.hasSuffix("/") { address.removeLast() }
        let escapedPath = PercentEncoding.encoded(path) { PercentEncoding.isASCIIAlphanumeric($0) || "-._~/!$&'()*+,;=:@".unicodeScalars.contains($0) }
        var url = address + "/v1/" + escapedPath
        if !query.isEmpty {
            url += "?" + query.sorted { $0.0 < $1.0 }.map { Self.queryEscaped($0.0) + "=" + Self.queryEscaped($0.1) }.joined(separator: "&")
        }
        return url
    }

    /// Go's `url.QueryEscape`: space as `+`, everything but unreserved characters escaped.
    private static func queryEscaped(_ text: String) -> String {
        PercentEncoding.encoded(text) { PercentEncoding.isASCIIAlphanumeric($0) || "-._~ ".unicodeScalars.contains($0) }
            .replacingEvery(" ", with: "+")
    }

    /// Shell single quotes, a `'` inside written as `'"'"'`, as Vault writes the body.
    private static func singleQuoted(_ text: String) -> String {
        "'" + text.replacingEvery("'", with: "'\"'\"'") + "'"
    }

    // MARK: -output-policy

    /// Vault's `OutputPolicyError.buildSamplePolicy`: the capabilities the request needs on its
    /// path, `sudo` on the paths Vault's API marks as needing it.
    var policy: String {
        var capabilities: [String]
        if query.contains(where: { $0.0 == "list" && $0.1 == "true" }) {
            capabilities = ["list"]
        } else {
            switch method {
            case "GET": capabilities = ["read"]
            case "POST", "PUT": capabilities = ["create", "update"]
            case "PATCH": capabilities = ["patch"]
            case "DELETE": capabilities = ["delete"]
            default: capabilities = []
            }
        }
        if Self.isSudoPath(path) { capabilities.append("sudo") }
        return "path \"\(path)\" {\n  capabilities = [\"\(capabilities.joined(separator: "\", \""))\"]\n}"
    }

    /// The sudo paths of Vault's API (`api/plugin_helpers.go`) that dbsecrets serves.
    static func isSudoPath(_ path: String) -> Bool {
        if ["sys/leases", "sys/leases/lookup", "sys/leases/lookup/", "sys/remount"].contains(path) { return true }
        return ["sys/leases/lookup/", "sys/leases/revoke-force/", "sys/leases/revoke-prefix/"]
            .contains { path.hasPrefix($0) && path.count > $0.count }
    }
}
