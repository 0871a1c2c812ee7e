import Basics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.x request as the server read it: the request line, the headers (names in lower
/// case, in the order sent) and the whole body, already de-chunked.
struct HTTPRequest: Sendable {
    var method: String
    /// The request target as sent, e.g. `/v1/database/roles?list=true`.
    var target: String
    /// The target's path, percent-decoded: `/v1/database/roles`.
    var path: String
    /// The target's query, decoded (`+` is a space), in order; a key may repeat.
    var query: [(name: String, value: String)]
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    var minorVersion: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8] = []

    /// The first value of a header, by its name in any case.
    func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name == lower }?.value
    }

    /// HTTP/1.1 keeps the connection unless the client says `close`; 1.0 closes unless it says
    /// `keep-alive`.
    var wantsKeepAlive: Bool {
        let tokens = headers.filter { $0.name == "connection" }
            .flatMap { $0.value.lowercased().split(separator: ",").map { $0.trimmingWhitespace() } }
        return minorVersion >= 1 ? !tokens.contains("close") : tokens.contains("keep-alive")
    }
}

/// A response to write: status, headers (the server adds Date, Content-Length and Connection),
/// body.
struct HTTPResponse: Sendable {
    var status: Int
    var headers: [(String, String)] = []
    var body: [UInt8] = []

    /// A JSON body, with the headers Vault sends with every API answer.
    static func json(_ status: Int, _ body: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Cache-Control", "no-store"), ("Content-Type", "application/json")],
                     body: Array(body.utf8))
    }

    /// An answer without a body (204), with Vault's headers.
    static func empty(_ status: Int) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Cache-Control", "no-store"), ("Content-Type", "application/json")])
    }

    /// A plain-text answer, as Go's server writes for requests it cannot parse (`400 Bad Request`).
    static func plain(_ status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff")],
                     body: Array((text + "\n").utf8))
    }

    /// The bytes on the wire. A HEAD answer, a 204 and a 1xx carry no body (nor its length, for
    /// the last two).
    func serialized(keepAlive: Bool, forHead: Bool = false, now: Date = Date()) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "Date: \(Self.httpDate(now))\r\n"
        if status != 204 && status >= 200 { text += "Content-Length: \(body.count)\r\n" }
        if !keepAlive { text += "Connection: close\r\n" }
        text += "\r\n"
        var bytes = Array(text.utf8)
        if !forHead && status != 204 { bytes += body }
        return bytes
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 204: return "No Content"
        case 400: return "Bad Request"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 411: return "Length Required"
        case 413: return "Request Entity Too Large"
        case 414: return "Request URI Too Long"
        case 417: return "Expectation Failed"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        case 505: return "HTTP Version Not Supported"
        default: return "Status \(status)"
        }
    }

    /// RFC 7231's IMF-fixdate, `Tue, 01 Dec 2026 23:10:00 GMT`.
    static func httpDate(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
