import Basics

/// A line and column in the policy text, both counted from 1 (columns in characters), as HCL reports them.
public struct HCLPosition: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var description: String { "\(line):\(column)" }
}

/// A syntax error in the policy text; printed as HCL v1 does, `At 3:14: message`.
struct HCLSyntaxError: Error {
    var message: String
    var position: HCLPosition
}

struct HCLToken: Equatable {
    enum Kind: Equatable {
        case identifier(String)
        case string(String)
        case number(Double, isInteger: Bool)
        case bool(Bool)
        case assign
        case comma
        case leftBrace
        case rightBrace
        case leftBracket
        case rightBracket
        case endOfInput
    }
    var kind: Kind
    var text: String
    var position: HCLPosition

    /// HCL v1's token names, used in "expected … got …" messages.
    var typeName: String {
        switch kind {
        case .identifier: return "IDENT"
        case .string: return "STRING"
        case .number(_, let isInteger): return isInteger ? "NUMBER" : "FLOAT"
        case .bool: return "BOOL"
        case .assign: return "ASSIGN"
        case .comma: return "COMMA"
        case .leftBrace: return "LBRACE"
        case .rightBrace: return "RBRACE"
        case .leftBracket: return "LBRACK"
        case .rightBracket: return "RBRACK"
        case .endOfInput: return "EOF"
        }
    }
}

/// The lexical part of HCL v1 that password policies use: identifiers (which may contain `-` and `.`),
/// quoted strings with Go escapes, numbers, booleans, `= , { } [ ]`, and `#`, `//`, `/* */` comments.
/// Newlines are plain whitespace, as in HCL v1, so `rule "charset" { charset = "a" min-chars = 1 }` works.
struct HCLLexer {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var line = 1
    private var column = 1

    static func tokenize(_ text: String) throws(HCLSyntaxError) -> [HCLToken] {
        var lexer = HCLLexer(scalars: Array(text.unicodeScalars))
        var tokens: [HCLToken] = []
        while true {
            let token = try lexer.nextToken()
            tokens.append(token)
            if token.kind == .endOfInput { return tokens }
        }
    }

    private init(scalars: [Unicode.Scalar]) {
        self.scalars = scalars
    }

    private var position: HCLPosition { HCLPosition(line: line, column: column) }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    @discardableResult
    private mutating func advance() -> Unicode.Scalar? {
        guard index < scalars.count else { return nil }
        let scalar = scalars[index]
        index += 1
        if scalar == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
        return scalar
    }

    private mutating func nextToken() throws(HCLSyntaxError) -> HCLToken {
        try skipWhitespaceAndComments()
        let start = position
        let startIndex = index
        guard let scalar = peek() else {
            return HCLToken(kind: .endOfInput, text: "", position: start)
        }
        func single(_ kind: HCLToken.Kind) -> HCLToken {
            advance()
            return HCLToken(kind: kind, text: String(Character(scalar)), position: start)
        }
        switch scalar {
        // JSON's `:` is accepted as `=` so that the JSON form of a policy parses too.
        case "=", ":": return single(.assign)
        case ",": return single(.comma)
        case "{": return single(.leftBrace)
        case "}": return single(.rightBrace)
        case "[": return single(.leftBracket)
        case "]": return single(.rightBracket)
        case "\"":
            let value = try scanString(start: start)
            return HCLToken(kind: .string(value), text: text(from: startIndex), position: start)
        case "<":
            if peek(1) == "<" {
                throw HCLSyntaxError(message: "heredoc strings are not supported in password policies", position: start)
            }
            throw HCLSyntaxError(message: "illegal char \(describe(scalar))", position: start)
        default:
            if isLetter(scalar) {
                while let next = peek(), isLetter(next) || isDigit(next) || next == "-" || next == "." { advance() }
                let word = text(from: startIndex)
                switch word {
                case "true": return HCLToken(kind: .bool(true), text: word, position: start)
                case "false": return HCLToken(kind: .bool(false), text: word, position: start)
                default: return HCLToken(kind: .identifier(word), text: word, position: start)
                }
            }
            if isDigit(scalar) || ((scalar == "-" || scalar == "+") && peek(1).map(isDigit) == true) {
                return try scanNumber(start: start, startIndex: startIndex)
            }
            throw HCLSyntaxError(message: "illegal char \(describe(scalar))", position: start)
        }
    }

    private mutating func skipWhitespaceAndComments() throws(HCLSyntaxError) {
        while let scalar = peek() {
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                advance()
            } else if scalar == "#" || (scalar == "/" && peek(1) == "/") {
                while let next = peek(), next != "\n" { advance() }
            } else if scalar == "/" && peek(1) == "*" {
                let start = position
                advance()
                advance()
                while true {
                    guard let next = advance() else {
                        throw HCLSyntaxError(message: "comment not terminated", position: start)
                    }
                    if next == "*" && peek() == "/" {
                        advance()
                        break
                    }
                }
            } else {
                return
            }
        }
    }

    private mutating func scanString(start: HCLPosition) throws(HCLSyntaxError) -> String {
        advance()
        var value = String.UnicodeScalarView()
        while true {
            guard let scalar = advance(), scalar != "\n" else {
                throw HCLSyntaxError(message: "literal not terminated", position: start)
            }
            if scalar == "\"" { return String(value) }
            guard scalar == "\\" else {
                value.append(scalar)
                continue
            }
            let escapePosition = HCLPosition(line: line, column: column - 1)
            guard let escape = advance() else {
                throw HCLSyntaxError(message: "literal not terminated", position: start)
            }
            switch escape {
            case "n": value.append("\n")
            case "t": value.append("\t")
            case "r": value.append("\r")
            case "a": value.append("\u{07}")
            case "b": value.append("\u{08}")
            case "f": value.append("\u{0C}")
            case "v": value.append("\u{0B}")
            case "\\", "\"": value.append(escape)
            case "x", "u", "U":
                let count = escape == "x" ? 2 : (escape == "u" ? 4 : 8)
                var digits = ""
                for _ in 0..<count {
                    guard let digit = peek(), digit.properties.isASCIIHexDigit else {
                        throw HCLSyntaxError(message: "illegal char escape", position: escapePosition)
                    }
                    digits.unicodeScalars.append(digit)
                    advance()
                }
                guard let code = UInt32(digits, radix: 16), let decoded = Unicode.Scalar(code) else {
                    throw HCLSyntaxError(message: "escape sequence is invalid Unicode code point", position: escapePosition)
                }
                value.append(decoded)
            case "0"..."7":
                var code = escape.value - 48
                for _ in 0..<2 {
                    guard let digit = peek(), ("0"..."7").contains(digit) else {
                        throw HCLSyntaxError(message: "illegal char escape", position: escapePosition)
                    }
                    code = code * 8 + digit.value - 48
                    advance()
                }
                guard code <= 255, let decoded = Unicode.Scalar(code) else {
                    throw HCLSyntaxError(message: "octal escape value > 255", position: escapePosition)
                }
                value.append(decoded)
            default:
                throw HCLSyntaxError(message: "illegal char escape", position: escapePosition)
            }
        }
    }

    private mutating func scanNumber(start: HCLPosition, startIndex: Int) throws(HCLSyntaxError) -> HCLToken {
        advance()
        while let next = peek(), isDigit(next) || isLetter(next) || next == "." ||
            ((next == "-" || next == "+") && (scalars[index - 1] == "e" || scalars[index - 1] == "E"))
        {
            advance()
        }
        let text = text(from: startIndex)
        let negative = text.hasPrefix("-")
        let body = text.drop(while: { $0 == "-" || $0 == "+" })
        let lower = body.lowercased()
        if lower.hasPrefix("0x") {
            if let value = Int(lower.dropFirst(2), radix: 16) {
                return HCLToken(kind: .number(Double(negative ? -value : value), isInteger: true), text: text, position: start)
            }
        } else if lower.allSatisfy({ $0.isASCII && $0.isNumber }) {
            let octal = lower.count > 1 && lower.hasPrefix("0")
            if let value = Int(lower, radix: octal ? 8 : 10) {
                return HCLToken(kind: .number(Double(negative ? -value : value), isInteger: true), text: text, position: start)
            }
            throw HCLSyntaxError(message: "illegal number \(text)", position: start)
        } else if let value = Double(text), value.isFinite {
            return HCLToken(kind: .number(value, isInteger: false), text: text, position: start)
        }
        throw HCLSyntaxError(message: "illegal number \(text)", position: start)
    }

    private func text(from start: Int) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[start..<index])
        return String(view)
    }

    private func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || scalar.properties.isAlphabetic
    }

    private func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(scalar)
    }

    private func describe(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        return scalar.properties.isGoPrintable ? "\(code) '\(Character(scalar))'" : code
    }
}
