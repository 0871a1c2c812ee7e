import DBPlugin
import Basics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where a `connection_url` may hold a password, in every form the plugins accept, without
/// understanding the rest of each form:
///
///     postgresql://user:PASS@host/db?password=PASS&sslpassword=PASS   URL: userinfo and query
///     host=h user=u password=PASS sslpassword='PASS'                   libpq key=value
///     user:PASS@tcp(host:3306)/db                                       go-sql-driver DSN
///
/// A password that is the `{{password}}` template is not literal: it is substituted at connect
/// time from the stored `password`, which reads never return.
enum ConnectionURL {
    /// What a redacted password reads as, as Go's `url.Redacted()` writes it.
    static let mask = "xxxxx"

    /// Keys whose value is a password, in a URL's query and in the key=value form.
    private static let passwordKeys: Set<String> = ["password", "sslpassword"]

    /// The first password written literally in the URL, if any.
    static func literalPassword(in url: String) -> String? {
        literalPasswords(in: url).first
    }

    /// Every password written literally, as written and, where the form escapes, as meant.
    static func literalPasswords(in url: String) -> [String] {
        passwordRanges(in: url).flatMap { range -> [String] in
            let raw = String(url[range])
            let unquoted = raw.count >= 2 && raw.hasPrefix("'") && raw.hasSuffix("'") ? String(raw.dropFirst().dropLast()) : raw
            let decoded = PercentEncoding.decoded(unquoted) ?? unquoted
            let unescaped = withoutBackslashEscapes(unquoted)
            return [raw, unquoted, decoded, unescaped].reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
        }
    }

    /// libpq's `\x` means `x` in key=value values.
    private static func withoutBackslashEscapes(_ text: String) -> String {
        var out = ""
        var escaped = false
        for c in text {
            if c == "\\" && !escaped {
                escaped = true
                continue
            }
            escaped = false
            out.append(c)
        }
        return out
    }

    /// The URL with each literal password replaced by `xxxxx`.
    static func redacted(_ url: String) -> String {
        var out = url
        for range in passwordRanges(in: url).reversed() {
            out.replaceSubrange(range, with: mask)
        }
        return out
    }

    /// The ranges of literal passwords, in order, not overlapping.
    private static func passwordRanges(in url: String) -> [Range<String.Index>] {
        let ranges: [Range<String.Index>]
        if url.firstRange(of: "://") != nil {
            ranges = urlPasswords(url)
        } else if isKeyValueForm(url) {
            ranges = keyValuePasswords(url)
        } else {
            ranges = dsnPassword(url).map { [$0] } ?? []
        }
        return ranges.filter { range in
            let text = url[range]
            return !text.isEmpty && text != "''" && !text.contains("{{")
        }
    }

    // MARK: URL

    private static func urlPasswords(_ url: String) -> [Range<String.Index>] {
        var ranges: [Range<String.Index>] = []
        let afterScheme = url[url.firstRange(of: "://")!.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        // Like Go's url.Parse: the user information ends at the last "@", the user name at the first ":".
        if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
            ranges.append(authority.index(after: colon)..<at)
        }
        if let mark = url[authorityEnd...].firstIndex(of: "?") {
            let queryEnd = url[mark...].firstIndex(of: "#") ?? url.endIndex
            var start = url.index(after: mark)
            while start < queryEnd {
                let end = url[start..<queryEnd].firstIndex(of: "&") ?? queryEnd
                if let eq = url[start..<end].firstIndex(of: "=") {
                    let key = PercentEncoding.decoded(url[start..<eq]) ?? String(url[start..<eq])
                    if passwordKeys.contains(key) { ranges.append(url.index(after: eq)..<end) }
                }
                start = end < queryEnd ? url.index(after: end) : queryEnd
            }
        }
        return ranges
    }

    // MARK: key=value

    /// libpq's form starts with a key and `=`; a DSN starts with a user name and `:` or `@`.
    private static func isKeyValueForm(_ url: String) -> Bool {
        let trimmed = url.drop { $0.isWhitespace }
        guard let eq = trimmed.firstIndex(of: "=") else { return false }
        let key = trimmed[..<eq].trimmingWhitespace()
        return !key.isEmpty && key.allSatisfy { $0.isLetter || $0 == "_" }
    }

    /// The value tokens of password keys, quotes included, as pgx tokenizes the form.
    private static func keyValuePasswords(_ url: String) -> [Range<String.Index>] {
        var ranges: [Range<String.Index>] = []
        var i = url.startIndex
        func skipSpaces() { while i < url.endIndex, url[i].isWhitespace { i = url.index(after: i) } }
        while true {
            skipSpaces()
            guard i < url.endIndex else { break }
            let keyStart = i
            while i < url.endIndex, url[i] != "=", !url[i].isWhitespace { i = url.index(after: i) }
            let key = String(url[keyStart..<i])
            skipSpaces()
            guard i < url.endIndex, url[i] == "=" else { break }
            i = url.index(after: i)
            skipSpaces()
            let valueStart = i
            if i < url.endIndex, url[i] == "'" {
                i = url.index(after: i)
                while i < url.endIndex, url[i] != "'" {
                    if url[i] == "\\" { i = url.index(after: i) }
                    if i < url.endIndex { i = url.index(after: i) }
                }
                if i < url.endIndex { i = url.index(after: i) }
            } else {
                while i < url.endIndex, !url[i].isWhitespace {
                    if url[i] == "\\" { i = url.index(after: i) }
                    if i < url.endIndex { i = url.index(after: i) }
                }
            }
            if passwordKeys.contains(key) { ranges.append(valueStart..<i) }
        }
        return ranges
    }

    // MARK: DSN

    /// go-sql-driver's reading: the user information ends at the last `@` before the last `/`,
    /// the user name at the first `:` in it.
    private static func dsnPassword(_ url: String) -> Range<String.Index>? {
        guard let slash = url.lastIndex(of: "/"), let at = url[..<slash].lastIndex(of: "@"),
              let colon = url[..<at].firstIndex(of: ":") else { return nil }
        return url.index(after: colon)..<at
    }
}
