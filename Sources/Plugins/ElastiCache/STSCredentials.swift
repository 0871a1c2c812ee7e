import DBPlugin
import Foundation

/// What an STS role needs besides where to send the call: the profile's `role_arn` and its
/// companions (or `AWS_ROLE_ARN` and `AWS_ROLE_SESSION_NAME` for a web identity).
struct STSRole: Sendable {
    var arn: String
    /// `role_session_name`; when absent, `dbsecrets-<unix time>` (the SDKs use their own name).
    var sessionName: String?
    var externalID: String?
    var durationSeconds: Int?

    var effectiveSessionName: String { sessionName ?? "dbsecrets-\(Int(Date().timeIntervalSince1970))" }

    /// STS's limits, checked before any call so the message names the setting.
    func validate(origin: String) throws {
        if let name = sessionName {
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_+=,.@-"))
            guard (2...64).contains(name.count), name.unicodeScalars.allSatisfy({ $0.isASCII && allowed.contains($0) }) else {
                throw PluginError(.invalidConfiguration,
                                  "\(origin): role_session_name must be 2 to 64 characters of letters, digits and _+=,.@-")
            }
        }
        if let seconds = durationSeconds, !(900...43200).contains(seconds) {
            throw PluginError(.invalidConfiguration, "\(origin): duration_seconds must be between 900 and 43200")
        }
    }
}

/// Temporary credentials from STS `AssumeRole`, the request signed with the source credentials
/// (another profile, the environment, a container or the instance) by our SigV4.
final class AssumeRoleProvider: AWSCredentialProvider {
    let source: String
    let role: STSRole
    private let sts: AWSQueryClient

    init(role: STSRole, sourceCredentials: AWSCredentialCache, endpoint: URL, region: String,
         retryPolicy: AWSRetryPolicy, http: HTTPClient, source: String) {
        self.role = role
        self.source = source
        sts = AWSQueryClient(service: .sts, endpoint: endpoint, region: region, credentials: sourceCredentials,
                             retryPolicy: retryPolicy, http: http)
    }

    func retrieve() throws -> AWSCredentials {
        var parameters = [("RoleArn", role.arn), ("RoleSessionName", role.effectiveSessionName)]
        if let seconds = role.durationSeconds { parameters.append(("DurationSeconds", String(seconds))) }
        if let external = role.externalID { parameters.append(("ExternalId", external)) }
        return try STSResponse.credentials(action: "AssumeRole", client: sts, parameters: parameters, source: source)
    }
}

/// Temporary credentials from STS `AssumeRoleWithWebIdentity` (unsigned: the token is the proof),
/// the token read from its file at every refresh since Kubernetes rotates it (IRSA).
final class WebIdentityProvider: AWSCredentialProvider {
    static let maximumTokenBytes = 64 * 1024

    let source: String
    let role: STSRole
    let tokenFile: String
    private let sts: AWSQueryClient

    init(role: STSRole, tokenFile: String, endpoint: URL, region: String, retryPolicy: AWSRetryPolicy,
         http: HTTPClient, source: String) {
        self.role = role
        self.tokenFile = tokenFile
        self.source = source
        sts = AWSQueryClient(service: .sts, endpoint: endpoint, region: region, credentials: nil,
                             retryPolicy: retryPolicy, http: http)
    }

    func retrieve() throws -> AWSCredentials {
        let token = try Self.readToken(tokenFile, source: source)
        var parameters = [("RoleArn", role.arn), ("RoleSessionName", role.effectiveSessionName),
                          ("WebIdentityToken", token)]
        if let seconds = role.durationSeconds { parameters.append(("DurationSeconds", String(seconds))) }
        return try STSResponse.credentials(action: "AssumeRoleWithWebIdentity", client: sts, parameters: parameters,
                                           source: source)
    }

    static func readToken(_ path: String, source: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw AWSCredentialChain.failure(source, "cannot read the web identity token file \(path)", .invalidConfiguration)
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maximumTokenBytes + 1)) ?? Data()
        guard data.count <= maximumTokenBytes else {
            throw AWSCredentialChain.failure(source, "the web identity token file \(path) is larger than 64 KiB", .invalidConfiguration)
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw AWSCredentialChain.failure(source, "the web identity token file \(path) is empty", .invalidConfiguration)
        }
        return token
    }
}

/// The `<Credentials>` of an AssumeRole* answer.
enum STSResponse {
    static func credentials(action: String, client: AWSQueryClient, parameters: [(String, String)],
                            source: String) throws -> AWSCredentials {
        let body: Data
        do {
            body = try client.call(action, parameters)
        } catch let error as AWSAPIError {
            throw AWSCredentialChain.failure(source, "\(error)", .connection)
        }
        return try parse(action: action, body: body, source: source)
    }

    static func parse(action: String, body: Data, source: String) throws -> AWSCredentials {
        do {
            let result = try AWSQueryXML.result(of: action, in: body)
            guard let credentials = result.child("Credentials") else {
                throw AWSQueryXML.MalformedResponse(reason: "<\(action)Result> has no <Credentials>")
            }
            func required(_ name: String) throws -> String {
                guard let value = credentials.child(name)?.text, !value.isEmpty else {
                    throw AWSQueryXML.MalformedResponse(reason: "<Credentials> has no <\(name)>")
                }
                return value
            }
            let expirationText = try required("Expiration")
            guard let expiration = AWSTimestamp.parse(expirationText) else {
                throw AWSQueryXML.MalformedResponse(reason: "<Expiration> is not a timestamp")
            }
            return AWSCredentials(accessKeyID: try required("AccessKeyId"), secretAccessKey: try required("SecretAccessKey"),
                                  sessionToken: try required("SessionToken"), expiration: expiration, source: source)
        } catch let error as AWSQueryXML.MalformedResponse {
            let wrapped = AWSAPIError(service: "STS", action: action, failure: .malformed(error.reason))
            throw AWSCredentialChain.failure(source, "\(wrapped)", .connection)
        }
    }
}
