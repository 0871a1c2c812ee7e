@testable import ElastiCachePlugin
import DBPlugin
import Foundation
import TestSupport
import XCTest

/// Our HTTP/1.1 client and its TLS: what the endpoint may send (framings, garbage, too much),
/// and HTTPS with the system's trust store or only AWS_CA_BUNDLE / `ca_bundle`.
final class ElastiCacheHTTPTests: XCTestCase {
    var server: ElastiCacheTestServer!
    let fast = AWSRetryPolicy(maxAttempts: 3, requestTimeout: 5, baseDelay: 0.01, maxDelay: 0.05, totalTimeout: 10)

    override func setUpWithError() throws {
        server = try ElastiCacheTestServer.fromEnvironment()
        try server.resetFailures()
    }

    func verify(_ config: [String: JSONValue], environment: [String: String] = [:]) -> String {
        let plugin = ElastiCachePlugin.forTests(["HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"]
            .merging(environment) { $1 }, retryPolicy: fast)
        do {
            _ = try plugin.initialize(InitializeRequest(config: config, verifyConnection: true))
            return "ok"
        } catch {
            return "\(error)"
        }
    }

    var address: String { server.endpoint.replacingOccurrences(of: "http://", with: "") }

    func raw(_ text: String) -> [UInt8] { Array(text.utf8) }

    // MARK: Framing

    func testChunkedAnswersAreReassembled() throws {
        let xml = "<DescribeUsersResponse><DescribeUsersResult><Users/></DescribeUsersResult></DescribeUsersResponse>"
        let chunks = xml.utf8.count
        try server.injectFailure(raw: raw("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
            + "Content-Type: text/xml\r\n\r\n" + String(10, radix: 16) + ";ext=1\r\n" + String(xml.prefix(10)) + "\r\n"
            + String(chunks - 10, radix: 16) + "\r\n" + String(xml.dropFirst(10)) + "\r\n0\r\nX-Trailer: t\r\n\r\n"))
        XCTAssertEqual(verify(server.config()), "ok")
    }

    func testAnAnswerEndedByClosingTheConnectionIsRead() throws {
        try server.injectFailure(raw: raw("HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n\r\n<DescribeUsersResponse>"
            + "<DescribeUsersResult><Users/></DescribeUsersResult></DescribeUsersResponse>"))
        XCTAssertEqual(verify(server.config()), "ok")
    }

    func testWhatIsNotHTTPOrTooLargeOrCutShortFailsNamingTheServer() throws {
        let cases: [(String, String)] = [
            ("SSH-2.0-OpenSSH_9.2\r\n\r\n", "bad HTTP response from \(address): not an HTTP/1.x status line"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", "bad HTTP response from \(address): its body is larger than 4 MiB"),
            ("HTTP/1.1 200 OK\r\n" + String(repeating: "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", count: 1700),
             "bad HTTP response from \(address): its header is larger than 64 KiB"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n<DescribeUsers",
             "could not reach \(address): connection closed before a complete response"),
            ("HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n", "bad HTTP response from \(address): invalid Content-Length"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad HTTP response from \(address): invalid chunk size"),
            ("HTTP/1.1 200 OK\r\nBroken header line\r\n\r\n", "bad HTTP response from \(address): header line without a colon"),
        ]
        for (answer, reason) in cases {
            try server.injectFailure(count: 3, raw: raw(answer))
            let text = verify(server.config())
            XCTAssertTrue(text.hasSuffix("exceeded maximum number of attempts, 3, https request failed: \(reason)"), text)
            try server.resetFailures()
        }
    }

    func testAHeaderValueWithALineBreakIsNeverSent() {
        let client = HTTPClient(timeout: 1)
        for value in ["token\r\nX-Injected: 1", "token\nX-Injected: 1", "token\r"] {
            XCTAssertThrowsError(try client.send("GET", url: URL(string: "http://127.0.0.1:1/")!, headers: [("Authorization", value)])) {
                XCTAssertEqual("\($0)", "the Authorization header for 127.0.0.1:1 contains a line break")
            }
        }
    }

    // MARK: HTTPS

    func testHTTPSWithTheCABundleFromAWS_CA_BUNDLE() throws {
        XCTAssertEqual(verify(server.config(["endpoint": .string(server.tlsEndpoint)]),
                              environment: ["AWS_CA_BUNDLE": server.caBundle]), "ok")
    }

    var tlsAddress: String { server.tlsEndpoint.replacingOccurrences(of: "https://", with: "") }

    func testHTTPSIsVerifiedAgainstTheSystemStoreWithoutABundle() {
        let text = verify(server.config(["endpoint": .string(server.tlsEndpoint)]))
        XCTAssertTrue(text.hasSuffix("https request failed: TLS handshake with \(tlsAddress) failed: certificate signed by "
            + "unknown authority"), text)
    }

    /// AWS_CA_BUNDLE replaces the system's certificates: another CA does not vouch for this server.
    func testTheBundleIsTheOnlyTrust() {
        let text = verify(server.config(["endpoint": .string(server.tlsEndpoint)]), environment: ["AWS_CA_BUNDLE": server.otherCABundle])
        XCTAssertTrue(text.hasSuffix("failed: certificate signed by unknown authority"), text)
    }

    func testACertificateForAnotherNameIsRefusedEvenFromTheTrustedCA() {
        let byName = server.tlsEndpoint.replacingOccurrences(of: "127.0.0.1", with: "localhost")
        let text = verify(server.config(["endpoint": .string(byName)]), environment: ["AWS_CA_BUNDLE": server.caBundle])
        let address = tlsAddress.replacingOccurrences(of: "127.0.0.1", with: "localhost")
        XCTAssertTrue(text.hasSuffix("TLS handshake with \(address) failed: certificate is valid for 127.0.0.1, not localhost"), text)
    }

    func testTLSToAPlainHTTPServerFailsClearly() {
        let plain = server.endpoint.replacingOccurrences(of: "http://", with: "https://")
        let text = verify(server.config(["endpoint": .string(plain)]), environment: ["AWS_CA_BUNDLE": server.caBundle])
        XCTAssertTrue(text.contains("TLS handshake with \(address) failed: the server did not answer in TLS"), text)
    }

    func testCABundleInTheProfileAppliesToSTSAsWell() throws {
        let folder = TemporaryFolder("elasticache-ca")
        defer { folder.remove() }
        let config = folder.url.appendingPathComponent("config")
        try """
            [profile app]
            role_arn = arn:aws:iam::123456789012:role/dbsecrets-test-role
            source_profile = base
            ca_bundle = \(server.caBundle)

            [profile base]
            aws_access_key_id = \(server.accessKeyID)
            aws_secret_access_key = \(server.secretAccessKey)
            """.write(to: config, atomically: true, encoding: .utf8)
        let environment = ["AWS_CONFIG_FILE": config.path, "AWS_PROFILE": "app", "AWS_ENDPOINT_URL_STS": server.stsTLSEndpoint,
                           "AWS_ENDPOINT_URL_ELASTICACHE": server.tlsEndpoint, "AWS_REGION": server.region]
        XCTAssertEqual(verify(["url": "x"], environment: environment), "ok")
        var untrusted = environment
        untrusted["AWS_CA_BUNDLE"] = "/etc/ssl/certs/ca-certificates.crt"
        let text = verify(["url": "x"], environment: untrusted)
        XCTAssertTrue(text.contains("operation error STS: AssumeRole, exceeded maximum number of attempts, 3, https request "
            + "failed: TLS handshake with ") && text.hasSuffix("failed: certificate signed by unknown authority"), text)
    }

    func testAnUnreadableCABundleIsAConfigurationError() throws {
        XCTAssertEqual(verify(server.config(), environment: ["AWS_CA_BUNDLE": "/nonexistent/ca.pem"]),
                       "the CA bundle /nonexistent/ca.pem (AWS_CA_BUNDLE) cannot be read")
        let folder = TemporaryFolder("elasticache-ca")
        defer { folder.remove() }
        let junk = folder.url.appendingPathComponent("junk.pem")
        try "not a certificate\n".write(to: junk, atomically: true, encoding: .utf8)
        let notPEM = verify(server.config(["endpoint": .string(server.tlsEndpoint)]), environment: ["AWS_CA_BUNDLE": junk.path])
        XCTAssertEqual(notPEM, "the CA bundle \(junk.path) (AWS_CA_BUNDLE): unable to add CA to cert pool: the CA holds no PEM "
            + "certificate")
    }
}
