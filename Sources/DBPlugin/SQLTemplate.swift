import Basics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Vault's `{{key}}` substitution into SQL, with each value written for where it lands: inside
/// `'…'` as a string literal, inside `"…"` or `` `…` `` as an identifier, each escaped for the
/// dialect. Vault substitutes raw text, so a display name with a `"` or a password with a `'`
/// rewrote the statement that the root user then ran. A value that cannot be written where it
/// lands (outside any quotes, in a comment, holding a NUL) is refused before anything runs.
public struct SQLTemplate {
    public enum Dialect: Sendable {
        /// `'…'` strings (`E'…'` with backslash escapes), `"…"` identifiers, `$tag$…$tag$` bodies,
        /// `--` and nested `/* */` comments.
        case postgres
        /// `'…'` and `"…"` strings, `` `…` `` identifiers, `#`, `-- ` and `/* */` comments.
        case mysql
    }

    public var dialect: Dialect
    /// PostgreSQL with `standard_conforming_strings` off, MySQL without `NO_BACKSLASH_ESCAPES`:
    /// a backslash in a `'…'` string escapes the next character.
    public var backslashEscapes: Bool
    /// MySQL's `ANSI_QUOTES`: `"…"` is an identifier (always so in PostgreSQL).
    public var doubleQuotesAreIdentifiers: Bool
    /// Keys whose values are never repeated in an error.
    public var secretKeys: Set<String> = ["password", "current_password"]

    public init(dialect: Dialect, backslashEscapes: Bool, doubleQuotesAreIdentifiers: Bool) {
        self.dialect = dialect
        self.backslashEscapes = backslashEscapes
        self.doubleQuotesAreIdentifiers = doubleQuotesAreIdentifiers
    }

    /// Where a placeholder lands.
    enum Place {
        case code
        case string(backslashEscapes: Bool, quote: Character)
        case identifier(quote: Character)
        case lineComment
        case blockComment
    }

    /// The statement with every `{{key}}` of `values` replaced, escaped for its place.
    public func render(_ statement: String, _ values: [String: String]) throws(PluginError) -> String {
        try render(Array(statement), values, forbidden: [])
    }

    // MARK: Scanning

    private func render(_ text: [Character], _ values: [String: String], forbidden: [String]) throws(PluginError) -> String {
        var out = ""
        var place = Place.code
        var i = 0
        var commentDepth = 0
        func at(_ offset: Int) -> Character? { i + offset < text.count ? text[i + offset] : nil }
        /// At a quote inside quoted text: a doubled one stands for itself (copied, true); a single
        /// one ends the quoted text (false, copied by the caller).
        func closeOrDouble(_ quote: Character) -> Bool {
            if at(1) == quote {
                out += String([quote, quote])
                i += 2
                return true
            }
            place = .code
            return false
        }

        while i < text.count {
            if let (key, length) = placeholder(in: text, at: i, values) {
                out += try write(values[key]!, key: key, at: place, forbidden: forbidden)
                i += length
                continue
            }
            let c = text[i]
            switch place {
            case .code:
                if c == "'" {
                    let escapeString = dialect == .postgres && i > 0 && (text[i - 1] == "E" || text[i - 1] == "e")
                        && (i < 2 || !isIdentifierCharacter(text[i - 2]))
                    place = .string(backslashEscapes: escapeString || backslashEscapes, quote: "'")
                } else if c == "\"" {
                    place = dialect == .postgres || doubleQuotesAreIdentifiers
                        ? .identifier(quote: "\"") : .string(backslashEscapes: backslashEscapes, quote: "\"")
                } else if c == "`" && dialect == .mysql {
                    place = .identifier(quote: "`")
                } else if c == "-" && at(1) == "-" && (dialect == .postgres || at(2).map { $0.isWhitespace } ?? true) {
                    place = .lineComment
                } else if c == "#" && dialect == .mysql {
                    place = .lineComment
                } else if c == "/" && at(1) == "*" {
                    place = .blockComment
                    commentDepth = 1
                    out += "/*"
                    i += 2
                    continue
                } else if c == "$" && dialect == .postgres, let (tag, end) = dollarQuote(in: text, at: i) {
                    // A body in $tag$…$tag$ is SQL again (a DO block's), read with its own quotes;
                    // no value may end it early.
                    let body = Array(text[(i + tag.count)..<end])
                    out += tag + (try render(body, values, forbidden: forbidden + [tag])) + tag
                    i = end + tag.count
                    continue
                }
            case .string(let escapes, let quote):
                if escapes && c == "\\" && i + 1 < text.count {
                    out.append(c)
                    out.append(text[i + 1])
                    i += 2
                    continue
                }
                if c == quote, closeOrDouble(quote) { continue }
            case .identifier(let quote):
                if c == quote, closeOrDouble(quote) { continue }
            case .lineComment:
                if c == "\n" || c == "\r" { place = .code }
            case .blockComment:
                if c == "*" && at(1) == "/" {
                    commentDepth -= 1
                    out += "*/"
                    i += 2
                    if commentDepth == 0 || dialect == .mysql { place = .code }
                    continue
                }
                if c == "/" && at(1) == "*" && dialect == .postgres {
                    commentDepth += 1
                    out += "/*"
                    i += 2
                    continue
                }
            }
            out.append(c)
            i += 1
        }
        return out
    }

    /// The `{{key}}` of `values` starting at `i`, and its length.
    private func placeholder(in text: [Character], at i: Int, _ values: [String: String]) -> (String, Int)? {
        guard text[i] == "{", i + 1 < text.count, text[i + 1] == "{" else { return nil }
        var end = i + 2
        while end + 1 < text.count && !(text[end] == "}" && text[end + 1] == "}") && end - i < 64 { end += 1 }
        guard end + 1 < text.count, text[end] == "}", text[end + 1] == "}" else { return nil }
        let key = String(text[(i + 2)..<end])
        return values[key] == nil ? nil : (key, end + 2 - i)
    }

    /// PostgreSQL's `$tag$` at `i` (tag empty or an identifier not starting with a digit, the `$`
    /// not part of an identifier), and where its closing delimiter starts.
    private func dollarQuote(in text: [Character], at i: Int) -> (String, Int)? {
        if i > 0 && isIdentifierCharacter(text[i - 1]) { return nil }
        var end = i + 1
        while end < text.count && isIdentifierCharacter(text[end]) && text[end] != "$" { end += 1 }
        guard end < text.count, text[end] == "$" else { return nil }
        let tag = String(text[i...end])
        if tag.count > 2, let first = tag.dropFirst().first, first.isNumber { return nil }
        let tagCharacters = Array(tag)
        var search = end + 1
        while search + tagCharacters.count <= text.count {
            if Array(text[search..<(search + tagCharacters.count)]) == tagCharacters { return (tag, search) }
            search += 1
        }
        return nil
    }

    private func isIdentifierCharacter(_ c: Character) -> Bool {
        c.isLetter || c.isNumber || c == "_" || c == "$"
    }

    // MARK: Writing values

    private func write(_ value: String, key: String, at place: Place, forbidden: [String]) throws(PluginError) -> String {
        if value.contains("\u{0}") { throw refusal(key, value, "it holds a NUL character, which SQL text cannot carry") }
        let written: String
        switch place {
        case .code:
            guard !value.isEmpty, value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw refusal(key, value, "it is outside quotes in the statement, where its characters would be read as SQL; quote the placeholder, e.g. '{{\(key)}}' or \"{{\(key)}}\"")
            }
            written = value
        case .string(let escapes, let quote):
            var body = value
            if escapes { body = body.replacingEvery("\\", with: "\\\\") }
            written = body.replacingEvery(String(quote), with: String([quote, quote]))
        case .identifier(let quote):
            written = value.replacingEvery(String(quote), with: String([quote, quote]))
        case .lineComment:
            guard !value.contains(where: { $0 == "\n" || $0 == "\r" }) else { throw refusal(key, value, "it is in a comment that a line break would end") }
            written = value
        case .blockComment:
            guard !value.containsLiterally("*/") && !value.containsLiterally("/*") else { throw refusal(key, value, "it is in a comment that it would end") }
            written = value
        }
        for delimiter in forbidden where written.containsLiterally(delimiter) {
            throw refusal(key, value, "it holds \(delimiter), which would end the \(delimiter)-quoted body it is in")
        }
        return written
    }

    private func refusal(_ key: String, _ value: String, _ why: String) -> PluginError {
        let what = secretKeys.contains(key) ? "the \(key)" : "the \(key) \"\(value)\""
        return PluginError(.invalidConfiguration, "cannot put \(what) into the statement: \(why)")
    }
}
