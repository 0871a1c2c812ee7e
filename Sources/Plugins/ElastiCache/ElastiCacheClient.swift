import Foundation

/// How hard the client tries: bounded attempts, per-request timeout, and an overall budget so a
/// hung endpoint fails in bounded time whatever the number of retries.
public struct AWSRetryPolicy: Sendable {
    public var maxAttempts: Int
    public var requestTimeout: TimeInterval
    /// Backoff before retry n (1-based) is `baseDelay * 2^(n-1)`, jittered, capped at `maxDelay`.
    public var baseDelay: TimeInterval
    public var maxDelay: TimeInterval
    public var totalTimeout: TimeInterval

    public init(maxAttempts: Int = 3, requestTimeout: TimeInterval = 10, baseDelay: TimeInterval = 0.2,
                maxDelay: TimeInterval = 2, totalTimeout: TimeInterval = 25) {
        self.maxAttempts = max(1, maxAttempts)
        self.requestTimeout = requestTimeout
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.totalTimeout = totalTimeout
    }

    public static let standard = AWSRetryPolicy()
}

/// A failed ElastiCache call, described like the Go SDK does (`operation error ElastiCache: …`)
/// so messages read as upstream's `unable to get user x: <sdk error>`.
struct ElastiCacheAPIError: Error, Sendable, CustomStringConvertible {
    enum Failure: Sendable {
        case service(code: String, message: String, status: Int, requestID: String?)
        /// An HTTP error whose body is not AWS error XML (a proxy's HTML page, say).
        case unexpectedStatus(status: Int, contentType: String?, requestID: String?)
        case transport(String)
        case malformed(String)
    }

    var action: String
    var failure: Failure
    /// Set when the last failure was retryable and the attempts ran out.
    var attempts: Int?

    var code: String? {
        if case .service(let code, _, _, _) = failure { return code }
        return nil
    }

    var description: String {
        var text = "operation error ElastiCache: \(action), "
        if let attempts { text += "exceeded maximum number of attempts, \(attempts), " }
        switch failure {
        case .service(let code, let message, let status, let requestID):
            text += "https response error StatusCode: \(status), RequestID: \(requestID ?? ""), \(code): \(message)"
        case .unexpectedStatus(let status, let contentType, let requestID):
            text += "https response error StatusCode: \(status), RequestID: \(requestID ?? ""), "
                + "response is not AWS error XML (Content-Type: \(contentType ?? "none"))"
        case .transport(let reason):
            text += "https request failed: \(reason)"
        case .malformed(let reason):
            text += "deserialization failed: \(reason)"
        }
        return text
    }
}

/// The two ElastiCache Query-API operations the plugin needs, signed with SigV4.
final class ElastiCacheClient: @unchecked Sendable {
    static let apiVersion = "2015-02-02"
    static let service = "elasticache"
    static let contentType = "application/x-www-form-urlencoded; charset=utf-8"

    /// Error codes the AWS SDKs treat as throttling (plus any 5xx and 429).
    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
        "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException", "RequestTimeout", "RequestTimeoutException",
    ]

    let endpoint: URL
    let region: String
    let credentials: AWSCredentials
    let retryPolicy: AWSRetryPolicy
    private let http: BlockingHTTPClient

    init(endpoint: URL, region: String, credentials: AWSCredentials, retryPolicy: AWSRetryPolicy) {
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.retryPolicy = retryPolicy
        self.http = BlockingHTTPClient(timeout: retryPolicy.requestTimeout)
    }

    func close() {
        http.close()
    }

    /// DescribeUsers; with a user id, that user only (AWS answers UserNotFound when absent).
    func describeUsers(userID: String? = nil) throws -> [ElastiCacheUser] {
        var parameters: [(String, String)] = []
        if let userID { parameters.append(("UserId", userID)) }
        let body = try call("DescribeUsers", parameters)
        do {
            return try ElastiCacheXML.describeUsers(body)
        } catch let e as ElastiCacheXML.MalformedResponse {
            throw ElastiCacheAPIError(action: "DescribeUsers", failure: .malformed(e.reason))
        }
    }

    /// ModifyUser replacing the user's passwords with exactly these (1 or 2).
    @discardableResult
    func modifyUser(userID: String, passwords: [String]) throws -> ElastiCacheUser {
        var parameters = [("UserId", userID)]
        for (i, password) in passwords.enumerated() { parameters.append(("Passwords.member.\(i + 1)", password)) }
        let body = try call("ModifyUser", parameters)
        do {
            return try ElastiCacheXML.modifyUser(body)
        } catch let e as ElastiCacheXML.MalformedResponse {
            throw ElastiCacheAPIError(action: "ModifyUser", failure: .malformed(e.reason))
        }
    }

    /// One Query-protocol call with retries; returns the body of the 2xx response.
    func call(_ action: String, _ parameters: [(String, String)]) throws -> Data {
        let body = Data(AWSPercentEncoding.formBody([("Action", action), ("Version", Self.apiVersion)] + parameters).utf8)
        let deadline = Date().addingTimeInterval(retryPolicy.totalTimeout)
        var attempt = 0
        while true {
            attempt += 1
            let remaining = deadline.timeIntervalSinceNow
            let failure: ElastiCacheAPIError.Failure
            var retryable = false
            do {
                let response = try http.post(url: endpoint, headers: signedHeaders(body: body), body: body,
                                             timeout: min(retryPolicy.requestTimeout, max(remaining, 0.1)))
                if (200..<300).contains(response.status) { return response.body }
                failure = Self.failure(from: response)
                if case .service(let code, _, _, _) = failure, Self.throttlingCodes.contains(code) { retryable = true }
                if response.status >= 500 || response.status == 429 { retryable = true }
            } catch let e as HTTPTransportError {
                failure = .transport(e.description)
                retryable = true
            }
            guard retryable else { throw ElastiCacheAPIError(action: action, failure: failure) }
            let delay = backoff(beforeRetry: attempt)
            if attempt >= retryPolicy.maxAttempts || Date().addingTimeInterval(delay) >= deadline {
                throw ElastiCacheAPIError(action: action, failure: failure, attempts: attempt)
            }
            Thread.sleep(forTimeInterval: delay)
        }
    }

    private func backoff(beforeRetry n: Int) -> TimeInterval {
        let exponential = min(retryPolicy.maxDelay, retryPolicy.baseDelay * pow(2, Double(n - 1)))
        return exponential * Double.random(in: 0.5...1.0)
    }

    /// Content-Type, Host, X-Amz-Date (and the session token): all signed, as botocore does.
    func signedHeaders(body: Data, date: Date = Date()) -> [(String, String)] {
        let amzDate = SigV4Signer.amzDate(date)
        var headers = [
            SigV4Signer.Header("Content-Type", Self.contentType),
            SigV4Signer.Header("Host", Self.hostHeader(endpoint)),
            SigV4Signer.Header("X-Amz-Date", amzDate),
        ]
        if let token = credentials.sessionToken { headers.append(.init("X-Amz-Security-Token", token)) }
        let signer = SigV4Signer(accessKeyID: credentials.accessKeyID, secretAccessKey: credentials.secretAccessKey,
                                 region: region, service: Self.service)
        let signature = signer.sign(method: "POST", path: endpoint.path.isEmpty ? "/" : endpoint.path,
                                    headers: headers, payload: Array(body), amzDate: amzDate)
        // Host is sent by the HTTP stack itself from the URL; we only sign the same value.
        return headers.filter { $0.name != "Host" }.map { ($0.name, $0.value) }
            + [("Authorization", signature.authorization)]
    }

    /// The Host header an HTTP client sends for this URL: the port only when it is not the default.
    static func hostHeader(_ url: URL) -> String {
        var host = url.host ?? ""
        if host.contains(":") { host = "[\(host)]" }
        if let port = url.port { return "\(host):\(port)" }
        return host
    }

    private static func failure(from response: HTTPResponse) -> ElastiCacheAPIError.Failure {
        let headerRequestID = response.headers["x-amzn-requestid"] ?? response.headers["x-amz-request-id"]
        if let error = ElastiCacheXML.serviceError(response.body) {
            return .service(code: error.code, message: error.message, status: response.status,
                            requestID: error.requestID ?? headerRequestID)
        }
        return .unexpectedStatus(status: response.status, contentType: response.headers["content-type"],
                                 requestID: headerRequestID)
    }
}
