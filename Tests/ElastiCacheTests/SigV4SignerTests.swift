import CryptoPrimitives
@testable import ElastiCachePlugin
import Foundation
import TestSupport
import XCTest

/// SigV4 against the AWS Signature Version 4 test suite (originally in the AWS General Reference,
/// maintained in awslabs/aws-c-auth `tests/aws-signing-test-suite/v4/`), and against botocore.
final class SigV4SignerTests: XCTestCase {
    // The suite's credentials and clock.
    let suite = SigV4Signer(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                            region: "us-east-1", service: "service")
    let date = "20150830T123600Z"

    func testGetVanilla() {
        let signed = suite.sign(method: "GET", path: "/",
                                headers: [.init("Host", "example.amazonaws.com"), .init("X-Amz-Date", date)],
                                payload: [], amzDate: date)
        XCTAssertEqual(signed.canonicalRequest, """
            GET
            /

            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        XCTAssertEqual(signed.stringToSign, """
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63
            """)
        XCTAssertEqual(signed.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        XCTAssertEqual(signed.authorization, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
            + "aws4_request, SignedHeaders=host;x-amz-date, "
            + "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    func testPostXWWWFormURLEncoded() {
        let body = Array("Param1=value1".utf8)
        XCTAssertEqual(SHA256.hash(body).hexString, "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e")
        // The 2015 suite signs content-type, host and x-amz-date.
        let original = suite.sign(method: "POST", path: "/",
                                  headers: [.init("Content-Type", "application/x-www-form-urlencoded"),
                                            .init("Host", "example.amazonaws.com"), .init("X-Amz-Date", date)],
                                  payload: body, amzDate: date)
        XCTAssertEqual(original.signedHeaders, "content-type;host;x-amz-date")
        XCTAssertEqual(original.signature, "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
        // aws-c-auth's copy signs the body hash and length too.
        let awsCAuth = suite.sign(method: "POST", path: "/",
                                  headers: [.init("Content-Type", "application/x-www-form-urlencoded"),
                                            .init("Host", "example.amazonaws.com"), .init("Content-Length", "13"),
                                            .init("x-amz-content-sha256", SHA256.hash(body).hexString),
                                            .init("X-Amz-Date", date)],
                                  payload: body, amzDate: date)
        XCTAssertEqual(awsCAuth.signedHeaders, "content-length;content-type;host;x-amz-content-sha256;x-amz-date")
        XCTAssertEqual(awsCAuth.signature, "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b")
    }

    func testGetVanillaQueryOrderKeyCase() {
        let signed = suite.sign(method: "GET", path: "/", query: [("Param2", "value2"), ("Param1", "value1")],
                                headers: [.init("Host", "example.amazonaws.com"), .init("X-Amz-Date", date)],
                                payload: [], amzDate: date)
        XCTAssertEqual(signed.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2],
                       "Param1=value1&Param2=value2")
        XCTAssertEqual(signed.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    }

    func testGetHeaderValueTrim() {
        let signed = suite.sign(method: "GET", path: "/",
                                headers: [.init("Host", "example.amazonaws.com"), .init("My-Header1", " value1"),
                                          .init("My-Header2", " \"a   b   c\""), .init("X-Amz-Date", date)],
                                payload: [], amzDate: date)
        XCTAssertTrue(signed.canonicalRequest.contains("my-header1:value1\nmy-header2:\"a b c\"\n"))
        XCTAssertEqual(signed.signature, "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736")
    }

    func testPostHeaderKeySort() {
        let signed = suite.sign(method: "POST", path: "/",
                                headers: [.init("X-Amz-Date", date), .init("My-Header1", "value1"),
                                          .init("Host", "example.amazonaws.com")],
                                payload: [], amzDate: date)
        XCTAssertEqual(signed.signedHeaders, "host;my-header1;x-amz-date")
        XCTAssertEqual(signed.signature, "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c")
    }

    func testSigningKeysFromTheAWSDocumentation() {
        let iam = SigV4Signer(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                              region: "us-east-1", service: "iam")
        XCTAssertEqual(iam.signingKey(date: "20120215").hexString,
                       "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
        let elastiCache = SigV4Signer(accessKeyID: "AKIDEXAMPLE",
                                      secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                      region: "us-east-1", service: "elasticache")
        XCTAssertEqual(elastiCache.signingKey(date: "20150830").hexString,
                       "6e12ceb7746507ce2053c784bb1ab7851191ee93b2671e6e519340457af349cb")
    }

    func testAmzDateIsUTCBasicFormat() {
        XCTAssertEqual(SigV4Signer.amzDate(Date(timeIntervalSince1970: 1_440_938_160)), "20150830T123600Z")
    }

    func testFormBodyEncodesEverythingButUnreservedCharacters() {
        XCTAssertEqual(AWSPercentEncoding.formBody([("Action", "ModifyUser"), ("Passwords.member.1", "a+b c=d&e%f~g_h.i-j/k é")]),
                       "Action=ModifyUser&Passwords.member.1=a%2Bb%20c%3Dd%26e%25f~g_h.i-j%2Fk%20%C3%A9")
    }

    /// botocore, an independent signer, must produce the same signature for the exact requests the
    /// ElastiCache client sends (including a session token and a password full of reserved characters).
    func testElastiCacheRequestsMatchBotocore() throws {
        let cases: [(AWSCredentials, String, String)] = [
            (AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                            source: "test"), "us-east-1", "Action=DescribeUsers&Version=2015-02-02"),
            (AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "s3cr3t/with+plus", source: "test"),
             "eu-west-3", AWSPercentEncoding.formBody([("Action", "ModifyUser"), ("Version", "2015-02-02"),
                                                        ("UserId", "vault-test"),
                                                        ("Passwords.member.1", "p+a=s&s%w~o!r#d$-0123456789")])),
            (AWSCredentials(accessKeyID: "ASIAEXAMPLE", secretAccessKey: "session-secret",
                            sessionToken: "FwoGZXIvYXdzE//token+value==", source: "test"),
             "ap-southeast-2", "Action=DescribeUsers&Version=2015-02-02&UserId=vault-test"),
        ]
        var requests: [[String: Any]] = []
        var ours: [String] = []
        for (credentials, region, body) in cases {
            let client = AWSQueryClient(service: .elastiCache, endpoint: URL(string: "http://127.0.0.1:4567/")!,
                                        region: region, credentials: nil, retryPolicy: .standard, http: HTTPClient(timeout: 1))
            var headers = Dictionary(client.signedHeaders(body: Data(body.utf8), credentials: credentials,
                                                          date: Date(timeIntervalSince1970: 1_700_000_000)),
                                     uniquingKeysWith: { a, _ in a })
            headers["Host"] = "127.0.0.1:4567"
            let authorization = try XCTUnwrap(headers.removeValue(forKey: "Authorization"))
            let signedHeaders = credentials.sessionToken == nil
                ? "content-type;host;x-amz-date" : "content-type;host;x-amz-date;x-amz-security-token"
            XCTAssertTrue(authorization.contains("SignedHeaders=\(signedHeaders),"), authorization)
            XCTAssertTrue(authorization.contains("/\(region)/elasticache/aws4_request"), authorization)
            ours.append(authorization)
            var request: [String: Any] = ["key": credentials.accessKeyID, "secret": credentials.secretAccessKey,
                                          "region": region, "headers": headers, "body": body]
            if let token = credentials.sessionToken { request["token"] = token }
            requests.append(request)
        }
        let theirs = try botocoreSignatures(requests)
        XCTAssertEqual(theirs.count, ours.count)
        for (authorization, expected) in zip(ours, theirs) {
            XCTAssertTrue(authorization.hasSuffix("Signature=\(expected)"), "\(authorization) vs \(expected)")
        }
    }

    /// Runs python3 once with botocore's SigV4Auth over the same headers and bodies.
    private func botocoreSignatures(_ requests: [[String: Any]]) throws -> [String] {
        let script = """
            import json, sys
            from botocore.auth import SigV4Auth
            from botocore.awsrequest import AWSRequest
            from botocore.credentials import Credentials
            for a in json.load(sys.stdin):
                r = AWSRequest(method="POST", url="http://" + a["headers"]["Host"] + "/", headers=a["headers"],
                               data=a["body"].encode())
                r.context["timestamp"] = a["headers"]["X-Amz-Date"]
                s = SigV4Auth(Credentials(a["key"], a["secret"], a.get("token")), "elasticache", a["region"])
                print(s.signature(s.string_to_sign(r, s.canonical_request(r)), r))
            """
        let input = String(decoding: try JSONSerialization.data(withJSONObject: requests), as: UTF8.self)
        let result = try ProcessRunner.run("/usr/bin/env", ["python3", "-c", script], stdin: input, timeout: ProcessRunner.clientTimeout)
        if result.status != 0 {
            if result.stderr.contains("No module named 'botocore'") {
                throw TestRequirement.missing("botocore is not installed (scripts/install-deps installs it)")
            }
            XCTFail("botocore signer failed: \(result.stderr)")
        }
        return result.stdout.split(separator: "\n").map(String.init)
    }
}
