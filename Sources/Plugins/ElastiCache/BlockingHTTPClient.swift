import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct HTTPResponse: Sendable {
    var status: Int
    var headers: [String: String]
    var body: Data
}

/// The request never got an HTTP answer: refused, unresolvable, TLS failure or timeout.
struct HTTPTransportError: Error, Sendable {
    var description: String
    var isTimeout: Bool
}

/// A synchronous POST over URLSession (TLS for the real AWS endpoints comes with it).
///
/// The plugin contract is synchronous, so each call waits on a semaphore; the wait itself is
/// bounded slightly above the session's timeouts so a stuck URLSession can never hang the CLI.
final class BlockingHTTPClient: @unchecked Sendable {
    let timeout: TimeInterval
    private let session: URLSession

    init(timeout: TimeInterval) {
        self.timeout = timeout
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        configuration.httpCookieAcceptPolicy = .never
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    /// `timeout` may shorten the session's timeout for this call (the retry budget running out).
    func post(url: URL, headers: [(String, String)], body: Data, timeout callTimeout: TimeInterval? = nil) throws -> HTTPResponse {
        // swift-corelibs-foundation arms its timeout timer with whole seconds (0.5 becomes an
        // immediate timeout), so timeouts are rounded up to at least one second.
        let timeout = max(1, min(callTimeout ?? self.timeout, self.timeout).rounded(.up))
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body

        final class Outcome: @unchecked Sendable {
            var data: Data?
            var response: URLResponse?
            var error: Error?
        }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: request) { data, response, error in
            outcome.data = data
            outcome.response = response
            outcome.error = error
            done.signal()
        }
        task.resume()
        let address = Self.address(of: url)
        if done.wait(timeout: .now() + timeout + 2) == .timedOut {
            task.cancel()
            throw HTTPTransportError(description: "request to \(address) timed out after \(Self.seconds(timeout))",
                                     isTimeout: true)
        }
        if let error = outcome.error {
            throw Self.describe(error, address: address, timeout: timeout)
        }
        guard let http = outcome.response as? HTTPURLResponse else {
            throw HTTPTransportError(description: "no HTTP response from \(address)", isTimeout: false)
        }
        var responseHeaders: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let k = key as? String, let v = value as? String { responseHeaders[k.lowercased()] = v }
        }
        return HTTPResponse(status: http.statusCode, headers: responseHeaders, body: outcome.data ?? Data())
    }

    func close() {
        session.invalidateAndCancel()
    }

    /// `host:port` as the user would look for it in their configuration.
    static func address(of url: URL) -> String {
        let host = url.host ?? "?"
        let port = url.port ?? (url.scheme == "https" ? 443 : 80)
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    private static func seconds(_ t: TimeInterval) -> String {
        t == t.rounded() ? "\(Int(t))s" : String(format: "%.1fs", t)
    }

    private static func describe(_ error: Error, address: String, timeout: TimeInterval) -> HTTPTransportError {
        guard let urlError = error as? URLError else {
            return HTTPTransportError(description: "request to \(address) failed: \(error.localizedDescription)",
                                      isTimeout: false)
        }
        let reason: String
        switch urlError.code {
        case .timedOut:
            return HTTPTransportError(description: "request to \(address) timed out after \(seconds(timeout))",
                                      isTimeout: true)
        case .cannotConnectToHost: reason = "connection refused"
        case .cannotFindHost, .dnsLookupFailed: reason = "host not found"
        case .networkConnectionLost: reason = "connection closed before a complete response"
        case .notConnectedToInternet: reason = "network unreachable"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected:
            reason = "TLS handshake failed"
        case .badServerResponse: reason = "bad HTTP response"
        default: reason = urlError.localizedDescription + " (URLError \(urlError.code.rawValue))"
        }
        return HTTPTransportError(description: "could not reach \(address): \(reason)", isTimeout: false)
    }
}
