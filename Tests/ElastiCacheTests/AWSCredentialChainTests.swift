@testable import ElastiCachePlugin
import DBPlugin
import Foundation
import TestSupport
import XCTest

/// Which source the chain picks, and what it refuses, without any network: the providers are
/// chosen, not asked (the sources themselves are tested against the doubles).
final class AWSCredentialChainTests: XCTestCase {
    var folder: TemporaryFolder!

    override func setUpWithError() throws {
        folder = TemporaryFolder("aws-chain")
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent(".aws"), withIntermediateDirectories: true)
    }

    override func tearDown() { folder.remove() }

    func config(_ text: String) throws {
        try text.write(to: folder.url.appendingPathComponent(".aws/config"), atomically: true, encoding: .utf8)
    }

    func chain(_ extra: [String: String] = [:]) -> AWSCredentialChain {
        let env = AWSEnvironment(["HOME": folder.path, "AWS_EC2_METADATA_DISABLED": "true"].merging(extra) { $1 })
        return AWSCredentialChain(environment: env, region: "eu-west-1", retryPolicy: .standard,
                                  apiHTTP: HTTPClient(timeout: 1), addresses: .closedLoopback)
    }

    func source(_ extra: [String: String] = [:]) throws -> String {
        try chain(extra).provider(accessKeyID: "", secretAccessKey: "").source
    }

    func failure(_ extra: [String: String] = [:]) -> String {
        do {
            return "no error: " + (try source(extra))
        } catch {
            return "\(error)"
        }
    }

    var files: String { "\(folder.path)/.aws/credentials and \(folder.path)/.aws/config" }

    // MARK: Order

    func testTheOrderIsTheGoSDKs() throws {
        try config("""
            [default]
            credential_process = /bin/true

            [profile app]
            role_arn = arn:aws:iam::123456789012:role/app
            credential_source = Ec2InstanceMetadata
            """)
        let keys = ["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret"]
        let irsa = ["AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/irsa", "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token"]
        let container = ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/x",
                         "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/creds"]
        let everything = keys.merging(irsa) { $1 }.merging(container) { $1 }
        XCTAssertEqual(try chain(everything).provider(accessKeyID: "AKIDCONF", secretAccessKey: "s").source, "configuration")
        XCTAssertEqual(try source(everything), "environment")
        let withoutKeys = everything.filter { keys[$0.key] == nil }
        XCTAssertEqual(try source(withoutKeys), "web identity (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE)")
        let withoutIRSA = withoutKeys.filter { irsa[$0.key] == nil }
        XCTAssertEqual(try source(withoutIRSA), "profile \"default\" of \(files): credential_process")
        XCTAssertEqual(try source(withoutIRSA.merging(["AWS_PROFILE": "app", "AWS_EC2_METADATA_DISABLED": ""]) { $1 }),
                       "profile \"app\" of \(files): assume role arn:aws:iam::123456789012:role/app")
        try config("")
        XCTAssertEqual(try source(withoutIRSA), "container credentials at http://127.0.0.1:1/v2/credentials/x",
                       "the relative URI wins over the full one")
        XCTAssertEqual(try source(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/creds"]),
                       "container credentials at http://127.0.0.1:9/creds")
        XCTAssertEqual(try source(["AWS_EC2_METADATA_DISABLED": ""]), "EC2 instance metadata at http://127.0.0.1:1/")
        XCTAssertEqual(try source(["AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:7"]),
                       "EC2 instance metadata at http://127.0.0.1:7/")
    }

    func testStaticKeysInTheProfileAndTheCredentialsFileWinsOverTheConfigFile() throws {
        try config("[default]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = from-config\nregion = eu-north-1\n")
        try "[default]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = from-credentials\n"
            .write(to: folder.url.appendingPathComponent(".aws/credentials"), atomically: true, encoding: .utf8)
        let credentials = try chain().provider(accessKeyID: "", secretAccessKey: "").retrieve()
        XCTAssertEqual(credentials.accessKeyID, "AKIDCREDS")
        XCTAssertEqual(credentials.secretAccessKey, "from-credentials")
        XCTAssertEqual(credentials.source, "profile default in \(folder.path)/.aws/credentials")
    }

    // MARK: Profiles the chain refuses

    func testProfileMistakesAreNamed() throws {
        let prefix = "unable to retrieve AWS credentials from provider chain: profile \"app\" of \(files): "
        let keys = "[profile k]\naws_access_key_id = AKID\naws_secret_access_key = s\n"
        let cases: [(String, String)] = [
            ("[profile app]\nrole_arn = arn:aws:iam::1:role/x\n",
             "role_arn needs source_profile, credential_source or web_identity_token_file"),
            ("[profile app]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = b\ncredential_source = Environment\n",
             "role_arn takes only one of source_profile, credential_source and web_identity_token_file"),
            ("[profile app]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Laptop\n",
             "credential_source must be Environment, Ec2InstanceMetadata or EcsContainer, not \"Laptop\""),
            ("[profile app]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = app\n",
             "source_profile loops: \"app\" → \"app\""),
            ("[profile app]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::1:role/y\n"
                + "source_profile = app\n", "@b source_profile loops: \"app\" → \"b\" → \"app\""),
            ("[profile app]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = empty\n[profile empty]\nregion = eu-west-1\n",
             "its source_profile \"empty\" has no credentials"),
            ("[profile app]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = b\nmfa_serial = arn:aws:iam::1:mfa/me\n",
             "mfa_serial needs an MFA code for every role session, which a tool that runs unattended cannot ask for"),
            ("[profile app]\nsso_start_url = https://example.awsapps.com/start\nsso_account_id = 1\n",
             "IAM Identity Center (sso_…) is not supported: use credential_process = aws configure export-credentials "
                + "--profile app --format process"),
            ("[profile app]\naws_access_key_id = AKIDHALF\n", "it has aws_access_key_id but no aws_secret_access_key"),
            ("[profile app]\nweb_identity_token_file = /t\n", "web_identity_token_file needs role_arn"),
            ("[profile app]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = k\nduration_seconds = 60\n" + keys,
             "assume role arn:aws:iam::1:role/x: duration_seconds must be between 900 and 43200"),
            ("[profile app]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = k\nduration_seconds = an hour\n" + keys,
             "assume role arn:aws:iam::1:role/x: duration_seconds must be a number of seconds"),
            ("[profile app]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = k\nrole_session_name = a b\n" + keys,
             "assume role arn:aws:iam::1:role/x: role_session_name must be 2 to 64 characters of letters, digits and _+=,.@-"),
        ]
        for (text, reason) in cases {
            try config(text)
            // "@b …": the mistake is found in profile b, on the way from app.
            let expected = reason.hasPrefix("@b ") ? prefix.replacingOccurrences(of: "\"app\"", with: "\"b\"") + reason.dropFirst(3)
                : prefix + reason
            XCTAssertEqual(failure(["AWS_PROFILE": "app"]), expected, text)
        }
        try config("")
        XCTAssertEqual(failure(["AWS_PROFILE": "missing"]), "unable to retrieve AWS credentials from provider chain: profile "
            + "\"missing\" (AWS_PROFILE) is not in \(files)")
    }

    func testWebIdentityFromTheEnvironmentNeedsTheRole() {
        XCTAssertEqual(failure(["AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token"]), "unable to retrieve AWS credentials from "
            + "provider chain: web identity (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE): AWS_WEB_IDENTITY_TOKEN_FILE is set but "
            + "AWS_ROLE_ARN is not")
        XCTAssertTrue(failure(["AWS_ROLE_ARN": "arn:aws:iam::1:role/x"])
            .hasSuffix("[AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not] (disabled by AWS_EC2_METADATA_DISABLED)"))
    }

    func testMetadataVariablesAreChecked() {
        XCTAssertEqual(failure(["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "v2/no-slash"]), "unable to retrieve AWS credentials "
            + "from provider chain: container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path starting with /")
        XCTAssertEqual(failure(["AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "169.254.169.254"]),
                       "invalid AWS_EC2_METADATA_SERVICE_ENDPOINT \"169.254.169.254\": expected an http:// or https:// URL with "
                        + "a host and no query")
    }

    // MARK: Refresh

    func testCredentialsAreRefreshedFiveMinutesBeforeTheyExpireOrHalfwayWhenShortLived() throws {
        final class Clock: @unchecked Sendable { var now = Date(timeIntervalSince1970: 1_000_000) }
        final class Issuer: AWSCredentialProvider {
            let source = "test"
            let clock: Clock
            var lifetime: TimeInterval
            var issued = 0
            var failing = false
            init(clock: Clock, lifetime: TimeInterval) { self.clock = clock; self.lifetime = lifetime }
            func retrieve() throws -> AWSCredentials {
                if failing { throw PluginError(.connection, "down") }
                issued += 1
                return AWSCredentials(accessKeyID: "ASIA\(issued)", secretAccessKey: "s", sessionToken: "t",
                                      expiration: clock.now.addingTimeInterval(lifetime), source: source)
            }
        }
        let clock = Clock()
        let hour = Issuer(clock: clock, lifetime: 3600)
        let cache = AWSCredentialCache(hour, now: { clock.now })
        XCTAssertEqual(try cache.credentials().accessKeyID, "ASIA1")
        clock.now += 3600 - 301
        XCTAssertEqual(try cache.credentials().accessKeyID, "ASIA1")
        clock.now += 2
        XCTAssertEqual(try cache.credentials().accessKeyID, "ASIA2", "less than five minutes left")
        // A refresh that fails keeps credentials that are still valid, and fails once they are not.
        clock.now += 3600 - 200
        hour.failing = true
        XCTAssertEqual(try cache.credentials().accessKeyID, "ASIA2")
        clock.now += 300
        XCTAssertThrowsError(try cache.credentials())

        let short = Issuer(clock: clock, lifetime: 4)
        let shortCache = AWSCredentialCache(short, now: { clock.now })
        XCTAssertEqual(try shortCache.credentials().accessKeyID, "ASIA1")
        clock.now += 1.9
        XCTAssertEqual(try shortCache.credentials().accessKeyID, "ASIA1")
        clock.now += 0.2
        XCTAssertEqual(try shortCache.credentials().accessKeyID, "ASIA2", "half their life gone")
        shortCache.invalidate()
        XCTAssertEqual(try shortCache.credentials().accessKeyID, "ASIA3")

        let keys = AWSCredentialCache(StaticCredentialProvider(AWSCredentials(accessKeyID: "AKID", secretAccessKey: "s",
                                                                               source: "configuration")))
        XCTAssertFalse(keys.isRefreshable)
        XCTAssertTrue(shortCache.isRefreshable)
    }

    // MARK: Command lines and documents

    func testCredentialProcessCommandLinesSplitLikeAPOSIXShellWithoutExpanding() throws {
        let cases: [(String, [String])] = [
            ("aws configure export-credentials --profile dev --format process",
             ["aws", "configure", "export-credentials", "--profile", "dev", "--format", "process"]),
            ("'/opt/my tools/helper' --name \"two words\" a\\ b", ["/opt/my tools/helper", "--name", "two words", "a b"]),
            ("helper '$HOME' \"$HOME\" `id` ; rm -rf /", ["helper", "$HOME", "$HOME", "`id`", ";", "rm", "-rf", "/"]),
            ("helper \"a \\\"quoted\\\" \\\\ \\x\" ''", ["helper", "a \"quoted\" \\ \\x", ""]),
            ("  spaced\t\tout  ", ["spaced", "out"]),
        ]
        for (line, words) in cases {
            XCTAssertEqual(try ShellWords.split(line), words, line)
        }
        for (line, reason) in [("helper 'open", "a ' is not closed"), ("helper \"open", "a \" is not closed"),
                               ("helper \\", "the line ends with a \\")] {
            XCTAssertThrowsError(try ShellWords.split(line)) {
                XCTAssertEqual($0 as? ShellWords.SyntaxError, ShellWords.SyntaxError(reason: reason))
            }
        }
    }

    func testCredentialDocuments() throws {
        let process = try ProcessCredentialProvider.parse(Data("""
            {"Version": 1, "AccessKeyId": "AKID", "SecretAccessKey": "s/+=", "SessionToken": "t", "Expiration": "2030-01-02T03:04:05.678Z"}
            """.utf8), source: "p")
        XCTAssertEqual(process.expiration, Date(timeIntervalSince1970: 1_893_553_445.678))
        XCTAssertNil(try ProcessCredentialProvider.parse(Data(#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"S"}"#.utf8),
                                                         source: "p").expiration)
        let metadata = try MetadataJSON.credentials(Data("""
            {"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIA", "SecretAccessKey": "s", "Token": "t",
             "Expiration": "2030-01-02T03:04:05Z"}
            """.utf8), tokenKey: "Token", source: "m")
        XCTAssertEqual(metadata.sessionToken, "t")
        XCTAssertThrowsError(try MetadataJSON.credentials(Data(#"{"Code": "AssumeRoleUnauthorizedAccess", "Message": "no"}"#.utf8),
                                                          tokenKey: "Token", source: "m")) {
            XCTAssertEqual(($0 as? PluginError)?.message, "unable to retrieve AWS credentials from provider chain: m: the answer "
                + "says AssumeRoleUnauthorizedAccess: no")
        }
        XCTAssertEqual(MetadataJSON.errorSummary(Data(#"{"code":"AccessDeniedException","message":"nope"}"#.utf8)),
                       ": AccessDeniedException: nope")
        XCTAssertEqual(MetadataJSON.errorSummary(Data("<html>".utf8)), "")
    }

    func testSTSAnswers() throws {
        let xml = """
            <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
            <Credentials><AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>s/+=</SecretAccessKey><SessionToken>t</SessionToken>
            <Expiration>2030-01-02T03:04:05Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>
            """
        let credentials = try STSResponse.parse(action: "AssumeRole", body: Data(xml.utf8), source: "s")
        XCTAssertEqual(credentials, AWSCredentials(accessKeyID: "ASIAX", secretAccessKey: "s/+=", sessionToken: "t",
                                                   expiration: Date(timeIntervalSince1970: 1_893_553_445), source: "s"))
        for (body, reason) in [
            ("<AssumeRoleResponse><AssumeRoleResult/></AssumeRoleResponse>", "<AssumeRoleResult> has no <Credentials>"),
            ("<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId></Credentials></AssumeRoleResult>"
                + "</AssumeRoleResponse>", "<Credentials> has no <Expiration>"),
            ("<AssumeRoleWithWebIdentityResponse/>", "expected <AssumeRoleResponse>, got <AssumeRoleWithWebIdentityResponse>"),
        ] {
            XCTAssertThrowsError(try STSResponse.parse(action: "AssumeRole", body: Data(body.utf8), source: "s")) {
                XCTAssertEqual(($0 as? PluginError)?.message, "unable to retrieve AWS credentials from provider chain: s: "
                    + "operation error STS: AssumeRole, deserialization failed: \(reason)")
            }
        }
    }
}
