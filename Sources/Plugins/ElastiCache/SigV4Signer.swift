import CryptoPrimitives
import Foundation

/// AWS Signature Version 4 (header form), written from the published algorithm.
///
/// The signer signs exactly the headers it is given, so callers decide what goes into
/// SignedHeaders (the ElastiCache client signs content-type, host and x-amz-date, as botocore does).
/// Every step is exposed so tests can compare the canonical request and string to sign with the
/// AWS test-suite files, not only the final signature.
public struct SigV4Signer: Sendable {
    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// What a signed request needs: the header to add and, for tests, every intermediate string.
    public struct Signature: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
        public var signedHeaders: String
        public var authorization: String
    }

    public static let algorithm = "AWS4-HMAC-SHA256"

    public var accessKeyID: String
    public var secretAccessKey: String
    public var region: String
    public var service: String

    public init(accessKeyID: String, secretAccessKey: String, region: String, service: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.region = region
        self.service = service
    }

    /// Signs a request. `headers` must already contain `host` and `x-amz-date` (and
    /// `x-amz-security-token` with session credentials): all of them are signed.
    /// `path` is the unencoded path; `query` the unencoded parameters.
    public func sign(method: String, path: String, query: [(String, String)] = [], headers: [Header],
                     payload: [UInt8], amzDate: String) -> Signature {
        let canonicalHeaders = Self.canonicalHeaders(headers)
        let signedHeaders = canonicalHeaders.map(\.name).joined(separator: ";")
        let canonicalRequest = [
            method.uppercased(),
            Self.canonicalURI(path),
            Self.canonicalQuery(query),
            canonicalHeaders.map { "\($0.name):\($0.value)\n" }.joined(),
            signedHeaders,
            SHA256.hash(payload).hexString,
        ].joined(separator: "\n")

        let date = String(amzDate.prefix(8))
        let scope = "\(date)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            Self.algorithm,
            amzDate,
            scope,
            SHA256.hash(Array(canonicalRequest.utf8)).hexString,
        ].joined(separator: "\n")

        let signature = HMAC.sha256(key: signingKey(date: date), message: Array(stringToSign.utf8)).hexString
        let authorization = "\(Self.algorithm) Credential=\(accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign,
                         signature: signature, signedHeaders: signedHeaders, authorization: authorization)
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
    public func signingKey(date: String) -> [UInt8] {
        var key = HMAC.sha256(key: Array("AWS4\(secretAccessKey)".utf8), message: Array(date.utf8))
        for part in [region, service, "aws4_request"] {
            key = HMAC.sha256(key: key, message: Array(part.utf8))
        }
        return key
    }

    /// `YYYYMMDDTHHMMSSZ` in UTC, the X-Amz-Date format.
    public static func amzDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    // MARK: Canonical forms

    /// Lower-case names, values trimmed with inner runs of spaces collapsed, sorted by name;
    /// repeated names are joined with commas in the order given.
    static func canonicalHeaders(_ headers: [Header]) -> [Header] {
        var merged: [String: [String]] = [:]
        for header in headers {
            let name = header.name.lowercased()
            let value = header.value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
            merged[name, default: []].append(value)
        }
        return merged.keys.sorted().map { Header($0, merged[$0]!.joined(separator: ",")) }
    }

    /// Each path segment percent-encoded once (non-S3 services normalise the path; ours is always "/").
    static func canonicalURI(_ path: String) -> String {
        if path.isEmpty { return "/" }
        return path.split(separator: "/", omittingEmptySubsequences: false)
            .map { AWSPercentEncoding.encode(String($0)) }
            .joined(separator: "/")
    }

    static func canonicalQuery(_ query: [(String, String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map {
            (AWSPercentEncoding.encode($0.0), AWSPercentEncoding.encode($0.1))
        }
        let sorted = encoded.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        return sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }
}

/// RFC 3986 encoding as AWS uses it: everything except `A-Z a-z 0-9 - _ . ~`, as UTF-8 bytes.
enum AWSPercentEncoding {
    static func encode(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39: return true // A-Z a-z 0-9
        case 0x2D, 0x5F, 0x2E, 0x7E: return true // - _ . ~
        default: return false
        }
    }

    /// An `application/x-www-form-urlencoded` body. A `+` in a password must not reach the
    /// server raw (it would decode as a space), so values use the strict encoding above.
    static func formBody(_ parameters: [(String, String)]) -> String {
        parameters.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }
}
