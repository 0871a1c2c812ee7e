import DBPlugin
import Foundation

/// The AWS SDK's default credential chain, in the order of the Go SDK v2 (which Vault's plugin
/// uses), after the connection's own key pair:
///
/// 1. the environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`;
/// 2. a web identity from the environment (EKS IRSA): `AWS_WEB_IDENTITY_TOKEN_FILE` with
///    `AWS_ROLE_ARN` (and `AWS_ROLE_SESSION_NAME`), through STS `AssumeRoleWithWebIdentity`;
/// 3. the profile (`AWS_PROFILE`, else `default`) of the shared config and credentials files:
///    `role_arn` with `source_profile` (followed, also through chains of roles) or
///    `credential_source` (`Environment`, `Ec2InstanceMetadata`, `EcsContainer`) through STS
///    `AssumeRole`; static keys; `web_identity_token_file` with `role_arn`; `credential_process`;
/// 4. container credentials: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (ECS), else
///    `AWS_CONTAINER_CREDENTIALS_FULL_URI` (EKS Pod Identity), with the authorization token;
/// 5. the EC2 instance's role through IMDSv2, unless `AWS_EC2_METADATA_DISABLED=true`.
///
/// As in the SDKs, the first source that is *configured* is the one used: a configured source
/// that fails is an error naming it, not a reason to try the next one. Only when nothing is
/// configured is the instance metadata service asked, and its failure lists every place looked.
struct AWSCredentialChain {
    static let failurePrefix = "unable to retrieve AWS credentials from provider chain"

    let environment: AWSEnvironment
    let region: String
    let retryPolicy: AWSRetryPolicy
    /// For STS: carries the CA bundle.
    let apiHTTP: HTTPClient
    let addresses: AWSMetadataAddresses

    /// Every chain error reads `unable to retrieve AWS credentials from provider chain: SOURCE: REASON`.
    static func failure(_ source: String, _ reason: String, _ kind: PluginError.Kind) -> PluginError {
        PluginError(kind, "\(failurePrefix): \(source): \(reason)")
    }

    func provider(accessKeyID: String, secretAccessKey: String) throws -> AWSCredentialProvider {
        if accessKeyID.isEmpty != secretAccessKey.isEmpty {
            throw PluginError(.invalidConfiguration, Self.failurePrefix + ": static AWS client credentials haven't "
                + "been properly configured (the access key or secret key were provided but not both)")
        }
        if !accessKeyID.isEmpty {
            return StaticCredentialProvider(AWSCredentials(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey,
                                                           source: "configuration"))
        }
        var notes: [String] = []
        if let environmentKeys = environmentKeys(notes: &notes) {
            return StaticCredentialProvider(environmentKeys)
        }
        if let webIdentity = try environmentWebIdentity(notes: &notes) { return webIdentity }
        if let profile = try profileProvider(environment.profileName, chain: []) { return profile }
        if let container = try containerProvider(source: "container credentials") { return container }
        return try instanceMetadata(notes: notes)
    }

    // MARK: The environment

    private func environmentKeys(notes: inout [String]) -> AWSCredentials? {
        let key = environment.value("AWS_ACCESS_KEY_ID") ?? environment.value("AWS_ACCESS_KEY")
        let secret = environment.value("AWS_SECRET_ACCESS_KEY") ?? environment.value("AWS_SECRET_KEY")
        if let key, let secret {
            return AWSCredentials(accessKeyID: key, secretAccessKey: secret,
                                  sessionToken: environment.value("AWS_SESSION_TOKEN"), source: "environment")
        }
        if key != nil { notes.append("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not") }
        if secret != nil { notes.append("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not") }
        return nil
    }

    private func environmentWebIdentity(notes: inout [String]) throws -> AWSCredentialProvider? {
        let roleARN = environment.value("AWS_ROLE_ARN")
        guard let tokenFile = environment.value("AWS_WEB_IDENTITY_TOKEN_FILE") else {
            if roleARN != nil { notes.append("AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not") }
            return nil
        }
        let source = "web identity (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE)"
        guard let roleARN else {
            throw Self.failure(source, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not", .invalidConfiguration)
        }
        let role = STSRole(arn: roleARN, sessionName: environment.value("AWS_ROLE_SESSION_NAME"))
        try role.validate(origin: Self.failurePrefix + ": " + source)
        return WebIdentityProvider(role: role, tokenFile: tokenFile, endpoint: try environment.stsEndpoint(region: region),
                                   region: region, retryPolicy: retryPolicy, http: apiHTTP, source: source)
    }

    // MARK: Profiles

    /// The profile's credentials, or nil when it has none (or, for `default`, does not exist).
    /// `chain` holds the profiles that led here through `source_profile`, to refuse loops.
    func profileProvider(_ name: String, chain: [String]) throws -> AWSCredentialProvider? {
        let files = environment.sharedFiles
        let origin = "profile \"\(name)\""
        guard let profile = files.profile(name) else {
            if chain.isEmpty && environment.value("AWS_PROFILE") == nil { return nil }
            let referrer = chain.last.map { "the source_profile of profile \"\($0)\"" } ?? "AWS_PROFILE"
            throw PluginError(.invalidConfiguration, Self.failurePrefix + ": \(origin) (\(referrer)) is not in \(files.description)")
        }
        func setting(_ key: String) -> String? { profile[key].flatMap { $0.isEmpty ? nil : $0 } }
        let source = "\(origin) of \(files.description)"
        let roleARN = setting("role_arn")

        if setting("mfa_serial") != nil, roleARN != nil {
            throw Self.failure(source, "mfa_serial needs an MFA code for every role session, which a tool that runs "
                + "unattended cannot ask for", .invalidConfiguration)
        }
        let sourceProfile = setting("source_profile"), credentialSource = setting("credential_source")
        let tokenFile = setting("web_identity_token_file")
        if roleARN != nil, [sourceProfile, credentialSource, tokenFile].compactMap({ $0 }).count > 1 {
            throw Self.failure(source, "role_arn takes only one of source_profile, credential_source and "
                + "web_identity_token_file", .invalidConfiguration)
        }

        // What signs the AssumeRole call, or the credentials themselves when there is no role.
        let base: AWSCredentialProvider
        if let roleARN, let sourceProfile {
            if sourceProfile == name, let keys = staticKeys(profile, name: name, files: files) {
                base = StaticCredentialProvider(keys)
            } else {
                guard !chain.contains(sourceProfile) && sourceProfile != name else {
                    throw Self.failure(source, "source_profile loops: "
                        + (chain + [name, sourceProfile]).map { "\"\($0)\"" }.joined(separator: " → "), .invalidConfiguration)
                }
                guard let found = try profileProvider(sourceProfile, chain: chain + [name]) else {
                    throw Self.failure(source, "its source_profile \"\(sourceProfile)\" has no credentials", .invalidConfiguration)
                }
                base = found
            }
            return try assumeRole(roleARN, profile: profile, base: base, source: "\(source): assume role \(roleARN)")
        }
        if let keys = staticKeys(profile, name: name, files: files) {
            base = StaticCredentialProvider(keys)
        } else if let credentialSource {
            base = try namedSource(credentialSource, profileSource: source)
        } else if let tokenFile {
            guard let roleARN else {
                throw Self.failure(source, "web_identity_token_file needs role_arn", .invalidConfiguration)
            }
            let role = STSRole(arn: roleARN, sessionName: setting("role_session_name"),
                               durationSeconds: try durationSeconds(profile, source: source))
            try role.validate(origin: Self.failurePrefix + ": " + source)
            return WebIdentityProvider(role: role, tokenFile: environment.expandingHome(tokenFile),
                                       endpoint: try environment.stsEndpoint(region: region), region: region,
                                       retryPolicy: retryPolicy, http: apiHTTP, source: "\(source): web identity \(roleARN)")
        } else if profile.keys.contains(where: { $0.hasPrefix("sso_") }) || setting("sso_session") != nil {
            throw Self.failure(source, "IAM Identity Center (sso_…) is not supported: use credential_process = aws "
                + "configure export-credentials --profile \(name) --format process", .invalidConfiguration)
        } else if let command = setting("credential_process") {
            base = ProcessCredentialProvider(command: command, environment: environment.variables,
                                             source: "\(source): credential_process")
        } else {
            if roleARN != nil {
                throw Self.failure(source, "role_arn needs source_profile, credential_source or web_identity_token_file",
                                   .invalidConfiguration)
            }
            if let half = ["aws_access_key_id", "aws_secret_access_key"].first(where: { setting($0) != nil }) {
                let other = half == "aws_access_key_id" ? "aws_secret_access_key" : "aws_access_key_id"
                throw Self.failure(source, "it has \(half) but no \(other)", .invalidConfiguration)
            }
            return nil
        }
        guard let roleARN else { return base }
        return try assumeRole(roleARN, profile: profile, base: base, source: "\(source): assume role \(roleARN)")
    }

    private func staticKeys(_ profile: [String: String], name: String, files: AWSSharedFiles) -> AWSCredentials? {
        guard let key = profile["aws_access_key_id"], !key.isEmpty,
              let secret = profile["aws_secret_access_key"], !secret.isEmpty else { return nil }
        let token = profile["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token,
                              source: "profile \(name) in \(files.path(of: "aws_access_key_id", inProfile: name))")
    }

    private func durationSeconds(_ profile: [String: String], source: String) throws -> Int? {
        guard let text = profile["duration_seconds"], !text.isEmpty else { return nil }
        guard let seconds = Int(text) else {
            throw Self.failure(source, "duration_seconds must be a number of seconds", .invalidConfiguration)
        }
        return seconds
    }

    private func assumeRole(_ roleARN: String, profile: [String: String], base: AWSCredentialProvider,
                            source: String) throws -> AWSCredentialProvider {
        let role = STSRole(arn: roleARN, sessionName: profile["role_session_name"].flatMap { $0.isEmpty ? nil : $0 },
                           externalID: profile["external_id"].flatMap { $0.isEmpty ? nil : $0 },
                           durationSeconds: try durationSeconds(profile, source: source))
        try role.validate(origin: Self.failurePrefix + ": " + source)
        return AssumeRoleProvider(role: role, sourceCredentials: AWSCredentialCache(base),
                                  endpoint: try environment.stsEndpoint(region: region), region: region,
                                  retryPolicy: retryPolicy, http: apiHTTP, source: source)
    }

    /// `credential_source`: where a role's source credentials come from outside the files.
    private func namedSource(_ name: String, profileSource: String) throws -> AWSCredentialProvider {
        let origin = "\(profileSource): credential_source \(name)"
        switch name {
        case "Environment":
            var ignored: [String] = []
            guard let keys = environmentKeys(notes: &ignored) else {
                throw Self.failure(origin, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set", .invalidConfiguration)
            }
            return StaticCredentialProvider(keys)
        case "EcsContainer":
            guard let container = try containerProvider(source: origin) else {
                throw Self.failure(origin, "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor "
                    + "AWS_CONTAINER_CREDENTIALS_FULL_URI is set", .invalidConfiguration)
            }
            return container
        case "Ec2InstanceMetadata":
            guard !metadataDisabled else {
                throw Self.failure(origin, "AWS_EC2_METADATA_DISABLED is true", .invalidConfiguration)
            }
            return try instanceMetadataProvider(notFound: Self.failurePrefix + ": " + origin)
        default:
            throw Self.failure(profileSource, "credential_source must be Environment, Ec2InstanceMetadata or EcsContainer, "
                + "not \"\(name)\"", .invalidConfiguration)
        }
    }

    // MARK: Container and instance metadata

    private func containerProvider(source: String) throws -> AWSCredentialProvider? {
        let url: URL
        if let relative = environment.value("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            guard relative.hasPrefix("/"), let full = URL(string: addresses.containerBase + relative) else {
                throw Self.failure(source, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path starting with /",
                                   .invalidConfiguration)
            }
            url = full
        } else if let full = environment.value("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            do {
                url = try ContainerCredentialProvider.fullURL(full)
            } catch let error as PluginError {
                throw Self.failure(source, error.message, .invalidConfiguration)
            }
        } else {
            return nil
        }
        return ContainerCredentialProvider(url: url, tokenFile: environment.value("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
                                           token: environment.value("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
                                           source: "\(source) at \(url.absoluteString)")
    }

    private var metadataDisabled: Bool { environment.value("AWS_EC2_METADATA_DISABLED")?.lowercased() == "true" }

    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT` (or the profile's `ec2_metadata_service_endpoint`), else
    /// the IPv6 address when the endpoint mode says so, else 169.254.169.254.
    private func instanceMetadataProvider(notFound: String) throws -> InstanceMetadataProvider {
        let base: URL
        if let endpoint = environment.value("AWS_EC2_METADATA_SERVICE_ENDPOINT") ?? environment.configSetting("ec2_metadata_service_endpoint") {
            base = try AWSEnvironment.httpURL(endpoint, origin: "AWS_EC2_METADATA_SERVICE_ENDPOINT")
        } else {
            let mode = environment.value("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE") ?? environment.configSetting("ec2_metadata_service_endpoint_mode")
            base = URL(string: mode?.lowercased() == "ipv6" ? addresses.instanceMetadataIPv6 : addresses.instanceMetadataIPv4)!
        }
        let timeout = environment.value("AWS_METADATA_SERVICE_TIMEOUT").flatMap(Double.init) ?? 1
        let attempts = environment.value("AWS_METADATA_SERVICE_NUM_ATTEMPTS").flatMap(Int.init) ?? 1
        // Bounded whatever the variables say: this runs on machines that are not on EC2.
        return InstanceMetadataProvider(base: base, timeout: min(max(timeout, 0.1), 30), attempts: min(max(attempts, 1), 5),
                                        notFound: notFound)
    }

    /// The last resort; when it fails (off EC2, or disabled), the error lists every place looked.
    private func instanceMetadata(notes: [String]) throws -> AWSCredentialProvider {
        let files = environment.sharedFiles
        var looked = Self.failurePrefix + ": no AWS credentials found in the configuration (access_key_id, "
            + "secret_access_key), the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_WEB_IDENTITY_TOKEN_FILE), "
            + "profile \"\(environment.profileName)\" of \(files.description), container credentials "
            + "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, AWS_CONTAINER_CREDENTIALS_FULL_URI) or EC2 instance metadata"
        if !notes.isEmpty { looked += " [" + notes.joined(separator: "; ") + "]" }
        guard !metadataDisabled else {
            throw PluginError(.invalidConfiguration, looked + " (disabled by AWS_EC2_METADATA_DISABLED)")
        }
        return try instanceMetadataProvider(notFound: looked)
    }
}
