import Foundation

/// How hard a client tries: bounded attempts, per-request timeout, and an overall budget so a
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

    func backoff(beforeRetry n: Int) -> TimeInterval {
        let exponential = min(maxDelay, baseDelay * pow(2, Double(n - 1)))
        return exponential * Double.random(in: 0.5...1.0)
    }
}

/// A failed AWS API call, described as the Go SDK does (`operation error ElastiCache: …`) so
/// messages read as upstream's `unable to get user x: <sdk error>`.
struct AWSAPIError: Error, Sendable, CustomStringConvertible {
    enum Failure: Sendable {
        case service(code: String, message: String, status: Int, requestID: String?)
        /// An HTTP error whose body is not AWS error XML (a proxy's HTML page, say).
        case unexpectedStatus(status: Int, contentType: String?, requestID: String?)
        case transport(String)
        case malformed(String)
        /// The credentials to sign with could not be fetched again (the chain's message).
        case credentials(String)
    }

    var service: String
    var action: String
    var failure: Failure
    /// Set when the last failure was retryable and the attempts ran out.
    var attempts: Int?
    /// An earlier attempt got no answer or a 5xx: AWS may have carried it out.
    var earlierAttemptUncertain = false

    var code: String? {
        if case .service(let code, _, _, _) = failure { return code }
        return nil
    }

    /// AWS answered and refused the request (a 4xx error document): it was not carried out.
    /// A 5xx, a lost connection or an unreadable answer leave that unknown.
    var isRefusal: Bool {
        if case .service(_, _, let status, _) = failure { return status < 500 && !earlierAttemptUncertain }
        return false
    }

    var description: String {
        var text = "operation error \(service): \(action), "
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
        case .credentials(let reason):
            text += "failed to refresh cached credentials, \(reason)"
        }
        return text
    }
}

/// One AWS service over the Query protocol (a form-encoded POST, XML back): ElastiCache, STS.
/// Requests are signed with SigV4 from `credentials`, fetched at each attempt so they are never
/// stale; without credentials they go unsigned (AssumeRoleWithWebIdentity).
final class AWSQueryClient: @unchecked Sendable {
    struct Service: Sendable {
        /// As the Go SDK names it in errors.
        var name: String
        var signingName: String
        var apiVersion: String

        static let elastiCache = Service(name: "ElastiCache", signingName: "elasticache", apiVersion: "2015-02-02")
        static let sts = Service(name: "STS", signingName: "sts", apiVersion: "2011-06-15")
    }

    static let contentType = "application/x-www-form-urlencoded; charset=utf-8"

    /// Error codes the AWS SDKs treat as throttling (plus any 5xx and 429).
    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
        "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException", "RequestTimeout", "RequestTimeoutException",
        "IDPCommunicationError",
    ]

    /// The service says the session token expired: fetch credentials anew and try again.
    static let expiredCredentialCodes: Set<String> = ["ExpiredToken", "ExpiredTokenException"]

    let service: Service
    let endpoint: URL
    let region: String
    let credentials: AWSCredentialCache?
    let retryPolicy: AWSRetryPolicy
    let http: HTTPClient

    init(service: Service, endpoint: URL, region: String, credentials: AWSCredentialCache?,
         retryPolicy: AWSRetryPolicy, http: HTTPClient) {
        self.service = service
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.retryPolicy = retryPolicy
        self.http = http
    }

    /// One call with retries; returns the body of the 2xx response.
    func call(_ action: String, _ parameters: [(String, String)]) throws -> Data {
        let body = Data(AWSPercentEncoding.formBody([("Action", action), ("Version", service.apiVersion)] + parameters).utf8)
        let deadline = Date().addingTimeInterval(retryPolicy.totalTimeout)
        var attempt = 0
        var uncertain = false
        while true {
            attempt += 1
            let remaining = deadline.timeIntervalSinceNow
            let failure: AWSAPIError.Failure
            var retryable = false
            do {
                let headers = try requestHeaders(body: body, action: action)
                let response = try http.post(url: endpoint, headers: headers, body: body,
                                             timeout: min(retryPolicy.requestTimeout, max(remaining, 0.1)))
                if (200..<300).contains(response.status) { return response.body }
                failure = Self.failure(from: response)
                if case .service(let code, _, _, _) = failure {
                    if Self.throttlingCodes.contains(code) { retryable = true }
                    if Self.expiredCredentialCodes.contains(code), let credentials, credentials.isRefreshable {
                        credentials.invalidate()
                        retryable = true
                    }
                }
                if response.status >= 500 || response.status == 429 { retryable = true }
            } catch let e as HTTPTransportError {
                failure = .transport(e.description)
                retryable = true
            }
            guard retryable else {
                throw AWSAPIError(service: service.name, action: action, failure: failure, earlierAttemptUncertain: uncertain)
            }
            let delay = retryPolicy.backoff(beforeRetry: attempt)
            if attempt >= retryPolicy.maxAttempts || Date().addingTimeInterval(delay) >= deadline {
                throw AWSAPIError(service: service.name, action: action, failure: failure, attempts: attempt,
                                  earlierAttemptUncertain: uncertain)
            }
            switch failure {
            case .transport, .malformed: uncertain = true
            case .unexpectedStatus(let status, _, _), .service(_, _, let status, _): if status >= 500 { uncertain = true }
            case .credentials: break
            }
            Thread.sleep(forTimeInterval: delay)
        }
    }

    private func requestHeaders(body: Data, action: String) throws -> [(String, String)] {
        guard let credentials else {
            return [("Content-Type", Self.contentType), ("X-Amz-Date", SigV4Signer.amzDate(Date()))]
        }
        let current: AWSCredentials
        do {
            current = try credentials.credentials()
        } catch {
            throw AWSAPIError(service: service.name, action: action, failure: .credentials("\(error)"))
        }
        return signedHeaders(body: body, credentials: current)
    }

    /// Content-Type, Host, X-Amz-Date (and the session token): all signed, as botocore does.
    func signedHeaders(body: Data, credentials: AWSCredentials, date: Date = Date()) -> [(String, String)] {
        let amzDate = SigV4Signer.amzDate(date)
        var headers = [
            SigV4Signer.Header("Content-Type", Self.contentType),
            SigV4Signer.Header("Host", HTTPClient.hostHeader(endpoint)),
            SigV4Signer.Header("X-Amz-Date", amzDate),
        ]
        if let token = credentials.sessionToken { headers.append(.init("X-Amz-Security-Token", token)) }
        let signer = SigV4Signer(accessKeyID: credentials.accessKeyID, secretAccessKey: credentials.secretAccessKey,
                                 region: region, service: service.signingName)
        let signature = signer.sign(method: "POST", path: endpoint.path.isEmpty ? "/" : endpoint.path,
                                    headers: headers, payload: Array(body), amzDate: amzDate)
        // Host is written by the HTTP client from the URL; we only sign the same value.
        return headers.filter { $0.name != "Host" }.map { ($0.name, $0.value) }
            + [("Authorization", signature.authorization)]
    }

    private static func failure(from response: HTTPResponse) -> AWSAPIError.Failure {
        let headerRequestID = response.headers["x-amzn-requestid"] ?? response.headers["x-amz-request-id"]
        if let error = AWSQueryXML.serviceError(response.body) {
            return .service(code: error.code, message: error.message, status: response.status,
                            requestID: error.requestID ?? headerRequestID)
        }
        return .unexpectedStatus(status: response.status, contentType: response.headers["content-type"],
                                 requestID: headerRequestID)
    }
}
