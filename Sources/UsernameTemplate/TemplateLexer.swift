import Basics
/// One token of a template, in the order Go's text/template lexer would emit it.
/// Offsets are byte offsets into the UTF-8 source, which is what Go's positions count.
struct TemplateToken: Equatable {
    enum Kind: Equatable {
        case text(String)
        case leftDelimiter
        case rightDelimiter
        case field([String])
        case dot
        case identifier(String)
        case keyword(String)
        case string(String)
        case number(Int)
        case bool(Bool)
        case `nil`
        case variable(String)
        case pipe
        case leftParen
        case rightParen
        case declare
        case assign
        case comma
        case endOfInput
    }
    var kind: Kind
    /// The source text of the token, used to print nodes in error messages as Go does.
    var text: String
    var offset: Int
    /// Whether whitespace separated this token from the previous one inside an action.
    var spaceBefore: Bool = false
}

/// An error found while reading the template source; `offset` locates it for the message.
struct TemplateSyntaxError: Error {
    var message: String
    var offset: Int
}

/// Splits a template into text and action tokens, with Go's `{{-` / `-}}` whitespace trimming
/// and `{{/* comments */}}`.
struct TemplateLexer {
    private let bytes: [UInt8]
    private var position = 0
    private var tokens: [TemplateToken] = []
    /// Deep parentheses are rejected here already, so neither the lexer nor the parser can be
    /// driven into unbounded work or recursion by input like a million `(`.
    static let maximumParenDepth = 100

    private static let leftDelimiter: [UInt8] = Array("{{".utf8)
    private static let rightDelimiter: [UInt8] = Array("}}".utf8)
    private static let keywords: Set<String> = [
        "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue",
    ]

    init(_ source: String) {
        bytes = Array(source.utf8)
    }

    static func tokenize(_ source: String) throws(TemplateSyntaxError) -> [TemplateToken] {
        var lexer = TemplateLexer(source)
        try lexer.run()
        return lexer.tokens
    }

    private mutating func run() throws(TemplateSyntaxError) {
        var trimLeadingSpace = false
        while position < bytes.count {
            guard let delimiterAt = find(Self.leftDelimiter, from: position) else {
                emitText(from: position, to: bytes.count, trimLeading: trimLeadingSpace, trimTrailing: false)
                position = bytes.count
                break
            }
            let afterDelimiter = delimiterAt + 2
            let trimsLeft = hasLeftTrimMarker(at: afterDelimiter)
            emitText(from: position, to: delimiterAt, trimLeading: trimLeadingSpace, trimTrailing: trimsLeft)
            position = trimsLeft ? afterDelimiter + 2 : afterDelimiter
            if startsWith(Array("/*".utf8), at: position) {
                trimLeadingSpace = try skipComment(openedAt: delimiterAt)
                continue
            }
            tokens.append(TemplateToken(kind: .leftDelimiter, text: "{{", offset: delimiterAt))
            trimLeadingSpace = try lexAction(openedAt: delimiterAt)
        }
        tokens.append(TemplateToken(kind: .endOfInput, text: "", offset: bytes.count))
    }

    // MARK: Text

    private mutating func emitText(from start: Int, to end: Int, trimLeading: Bool, trimTrailing: Bool) {
        var lower = start
        var upper = end
        if trimLeading { while lower < upper, isSpace(bytes[lower]) { lower += 1 } }
        if trimTrailing { while upper > lower, isSpace(bytes[upper - 1]) { upper -= 1 } }
        guard lower < upper else { return }
        let text = String(decoding: bytes[lower..<upper], as: UTF8.self)
        tokens.append(TemplateToken(kind: .text(text), text: text, offset: lower))
    }

    /// Go requires a comment to be the whole action: `{{/* c */}}` or `{{- /* c */ -}}`.
    private mutating func skipComment(openedAt: Int) throws(TemplateSyntaxError) -> Bool {
        guard let close = find(Array("*/".utf8), from: position + 2) else {
            throw TemplateSyntaxError(message: "unclosed comment", offset: openedAt)
        }
        position = close + 2
        if let trims = atRightDelimiter() {
            position += trims ? 4 : 2
            return trims
        }
        throw TemplateSyntaxError(message: "comment ends before closing delimiter", offset: openedAt)
    }

    // MARK: Actions

    /// Lexes one action up to and including its closing delimiter. Returns whether the closing
    /// delimiter asks to trim the whitespace that follows it.
    private mutating func lexAction(openedAt: Int) throws(TemplateSyntaxError) -> Bool {
        var parenDepth = 0
        var sawSpace = false
        while true {
            if let trims = atRightDelimiter() {
                if parenDepth > 0 {
                    throw TemplateSyntaxError(message: "unclosed left paren", offset: position)
                }
                let start = trims ? position + 2 : position
                tokens.append(TemplateToken(kind: .rightDelimiter, text: "}}", offset: start, spaceBefore: sawSpace))
                position = start + 2
                return trims
            }
            guard position < bytes.count else {
                throw TemplateSyntaxError(message: "unclosed action", offset: openedAt)
            }
            let current = bytes[position]
            if isSpace(current) {
                sawSpace = true
                position += 1
                continue
            }
            let start = position
            var token: TemplateToken
            switch current {
            case UInt8(ascii: "|"):
                position += 1
                token = TemplateToken(kind: .pipe, text: "|", offset: start)
            case UInt8(ascii: "("):
                parenDepth += 1
                if parenDepth > Self.maximumParenDepth {
                    throw TemplateSyntaxError(message: "max expression depth exceeded", offset: start)
                }
                position += 1
                token = TemplateToken(kind: .leftParen, text: "(", offset: start)
            case UInt8(ascii: ")"):
                parenDepth -= 1
                if parenDepth < 0 {
                    throw TemplateSyntaxError(message: "unexpected right paren", offset: start)
                }
                position += 1
                token = TemplateToken(kind: .rightParen, text: ")", offset: start)
            case UInt8(ascii: ","):
                position += 1
                token = TemplateToken(kind: .comma, text: ",", offset: start)
            case UInt8(ascii: ":"):
                guard byte(at: position + 1) == UInt8(ascii: "=") else {
                    throw TemplateSyntaxError(message: "expected :=", offset: start)
                }
                position += 2
                token = TemplateToken(kind: .declare, text: ":=", offset: start)
            case UInt8(ascii: "="):
                position += 1
                token = TemplateToken(kind: .assign, text: "=", offset: start)
            case UInt8(ascii: "\""):
                token = try lexQuoted(start: start)
            case UInt8(ascii: "`"):
                token = try lexRawString(start: start)
            case UInt8(ascii: "'"):
                token = try lexCharacter(start: start)
            case UInt8(ascii: "$"):
                position += 1
                let name = scanAlphanumerics()
                token = TemplateToken(kind: .variable("$" + name), text: "$" + name, offset: start)
                try requireTerminator(after: token)
            case UInt8(ascii: "."):
                if let next = byte(at: position + 1), isDigit(next) {
                    token = try lexNumber(start: start)
                } else {
                    token = try lexField(start: start)
                }
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                guard let next = byte(at: position + 1), isDigit(next) || next == UInt8(ascii: ".") else {
                    throw unrecognized(at: start)
                }
                token = try lexNumber(start: start)
            default:
                if isDigit(current) {
                    token = try lexNumber(start: start)
                } else if isIdentifierStart(current) {
                    let word = scanAlphanumerics()
                    let kind: TemplateToken.Kind
                    switch word {
                    case "true": kind = .bool(true)
                    case "false": kind = .bool(false)
                    case "nil": kind = .nil
                    case _ where Self.keywords.contains(word): kind = .keyword(word)
                    default: kind = .identifier(word)
                    }
                    token = TemplateToken(kind: kind, text: word, offset: start)
                    try requireTerminator(after: token)
                } else {
                    throw unrecognized(at: start)
                }
            }
            token.spaceBefore = sawSpace
            sawSpace = false
            tokens.append(token)
        }
    }

    /// `.Name` or `.A.B`; a lone `.` is the data itself.
    private mutating func lexField(start: Int) throws(TemplateSyntaxError) -> TemplateToken {
        var names: [String] = []
        while byte(at: position) == UInt8(ascii: "."), let next = byte(at: position + 1), isIdentifierStart(next) {
            position += 1
            names.append(scanAlphanumerics())
        }
        if names.isEmpty {
            position += 1
            let token = TemplateToken(kind: .dot, text: ".", offset: start)
            try requireTerminator(after: token)
            return token
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        let token = TemplateToken(kind: .field(names), text: text, offset: start)
        try requireTerminator(after: token)
        return token
    }

    private mutating func lexNumber(start: Int) throws(TemplateSyntaxError) -> TemplateToken {
        // Take everything Go's lexer would take as one number, then decide what it means.
        position += 1
        while let byte = byte(at: position),
              isAlphanumeric(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
              || ((byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-"))
                  && [UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "p"), UInt8(ascii: "P")]
                     .contains(bytes[position - 1]))
        {
            position += 1
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        guard let value = GoIntegerLiteral.parse(text) else {
            if GoIntegerLiteral.looksLikeFloat(text) {
                throw TemplateSyntaxError(message: "floating-point constant \(text) is not supported", offset: start)
            }
            throw TemplateSyntaxError(message: "bad number syntax: \"\(text)\"", offset: start)
        }
        let token = TemplateToken(kind: .number(value), text: text, offset: start)
        try requireTerminator(after: token)
        return token
    }

    private mutating func lexQuoted(start: Int) throws(TemplateSyntaxError) -> TemplateToken {
        position += 1
        while true {
            guard let byte = byte(at: position), byte != UInt8(ascii: "\n") else {
                throw TemplateSyntaxError(message: "unterminated quoted string", offset: start)
            }
            position += 1
            if byte == UInt8(ascii: "\\") {
                guard let escaped = self.byte(at: position), escaped != UInt8(ascii: "\n") else {
                    throw TemplateSyntaxError(message: "unterminated quoted string", offset: start)
                }
                position += 1
            } else if byte == UInt8(ascii: "\"") {
                break
            }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        let body = Array(bytes[(start + 1)..<(position - 1)])
        guard let value = GoStringLiteral.unescape(body, quote: UInt8(ascii: "\"")) else {
            throw TemplateSyntaxError(message: "invalid syntax in quoted string \(text)", offset: start)
        }
        return TemplateToken(kind: .string(value), text: text, offset: start)
    }

    private mutating func lexRawString(start: Int) throws(TemplateSyntaxError) -> TemplateToken {
        guard let close = bytes[(start + 1)...].firstIndex(of: UInt8(ascii: "`")) else {
            throw TemplateSyntaxError(message: "unterminated raw quoted string", offset: start)
        }
        position = close + 1
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        // Go drops carriage returns from raw strings.
        let value = String(decoding: bytes[(start + 1)..<close].filter { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
        return TemplateToken(kind: .string(value), text: text, offset: start)
    }

    /// Character constants such as `'a'` are integers in Go templates.
    private mutating func lexCharacter(start: Int) throws(TemplateSyntaxError) -> TemplateToken {
        position += 1
        while true {
            guard let byte = byte(at: position), byte != UInt8(ascii: "\n") else {
                throw TemplateSyntaxError(message: "unterminated character constant", offset: start)
            }
            position += 1
            if byte == UInt8(ascii: "\\") {
                position += 1
            } else if byte == UInt8(ascii: "'") {
                break
            }
        }
        let text = String(decoding: bytes[start..<min(position, bytes.count)], as: UTF8.self)
        let body = Array(bytes[(start + 1)..<max(start + 1, min(position, bytes.count) - 1)])
        guard let value = GoStringLiteral.unescape(body, quote: UInt8(ascii: "'")),
              value.unicodeScalars.count == 1, let scalar = value.unicodeScalars.first
        else {
            throw TemplateSyntaxError(message: "malformed character constant: \(text)", offset: start)
        }
        return TemplateToken(kind: .number(Int(scalar.value)), text: text, offset: start)
    }

    // MARK: Helpers

    /// Go insists that words end at a space, a delimiter or punctuation; `random"x"` is an error.
    private func requireTerminator(after token: TemplateToken) throws(TemplateSyntaxError) {
        guard let byte = byte(at: position) else { return }
        if isSpace(byte) || atRightDelimiter() != nil { return }
        switch byte {
        case UInt8(ascii: "."), UInt8(ascii: ","), UInt8(ascii: "|"), UInt8(ascii: ":"),
             UInt8(ascii: ")"), UInt8(ascii: "("):
            return
        default:
            throw TemplateSyntaxError(message: "bad character \(describe(at: position)) after \(token.text)", offset: position)
        }
    }

    private func unrecognized(at offset: Int) -> TemplateSyntaxError {
        TemplateSyntaxError(message: "unrecognized character in action: \(describe(at: offset))", offset: offset)
    }

    /// Go's `%#U` rendering: `U+0023 '#'`.
    private func describe(at offset: Int) -> String {
        let rest = String(decoding: bytes[offset..<min(bytes.count, offset + 4)], as: UTF8.self)
        guard let scalar = rest.unicodeScalars.first else { return "U+FFFD" }
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        return scalar.properties.isGoPrintable ? "\(code) '\(Character(scalar))'" : code
    }

    private mutating func scanAlphanumerics() -> String {
        let start = position
        while let byte = byte(at: position), isAlphanumeric(byte) || byte >= 0x80 { position += 1 }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// `nil` when not at a closing delimiter, otherwise whether it carries the ` -` trim marker.
    private func atRightDelimiter() -> Bool? {
        if let first = byte(at: position), isSpace(first), byte(at: position + 1) == UInt8(ascii: "-"),
           startsWith(Self.rightDelimiter, at: position + 2)
        {
            return true
        }
        return startsWith(Self.rightDelimiter, at: position) ? false : nil
    }

    private func hasLeftTrimMarker(at offset: Int) -> Bool {
        byte(at: offset) == UInt8(ascii: "-") && (byte(at: offset + 1).map(isSpace) ?? false)
    }

    private func byte(at offset: Int) -> UInt8? {
        offset < bytes.count ? bytes[offset] : nil
    }

    private func startsWith(_ needle: [UInt8], at offset: Int) -> Bool {
        guard offset + needle.count <= bytes.count else { return false }
        return bytes[offset..<(offset + needle.count)].elementsEqual(needle)
    }

    private func find(_ needle: [UInt8], from start: Int) -> Int? {
        guard needle.count <= bytes.count else { return nil }
        var index = start
        while index + needle.count <= bytes.count {
            if bytes[index] == needle[0], startsWith(needle, at: index) { return index }
            index += 1
        }
        return nil
    }
}

private func isSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
}

private func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
}

private func isIdentifierStart(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
        || byte == UInt8(ascii: "_") || byte >= 0x80
}

private func isAlphanumeric(_ byte: UInt8) -> Bool {
    isIdentifierStart(byte) || isDigit(byte)
}
