/// A value in an HCL document, with where it starts.
struct HCLValue {
    indirect enum Kind {
        case string(String)
        case number(Double, isInteger: Bool)
        case bool(Bool)
        case list([HCLValue])
        case object([HCLItem])
    }
    var kind: Kind
    var position: HCLPosition

    /// mapstructure's names for the decoded Go types, used in type errors.
    var goTypeName: String {
        switch kind {
        case .string: return "string"
        case .number(_, let isInteger): return isInteger ? "int" : "float64"
        case .bool: return "bool"
        case .list: return "[]interface {}"
        case .object: return "[]map[string]interface {}"
        }
    }

    var goDescription: String {
        switch kind {
        case .string(let text): return text
        case .number(let number, let isInteger):
            return isInteger && number.magnitude < 9.0e18 ? String(Int(number)) : String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .list: return "[…]"
        case .object: return "{…}"
        }
    }
}

/// `key = value`, or a block `key "label" { … }` whose keys are the key followed by its labels.
struct HCLItem {
    var keys: [String]
    var position: HCLPosition
    var value: HCLValue
}

/// Recursive-descent parser for HCL v1's object structure: items separated by whitespace or commas,
/// blocks with labels, `key = { … }` objects and `[ … ]` lists.
struct HCLParser {
    private let tokens: [HCLToken]
    private var index = 0
    private var depth = 0
    /// Bounds recursion so that hostile input such as ten thousand `[` cannot exhaust the stack.
    private static let maximumDepth = 64

    static func parse(_ text: String) throws(HCLSyntaxError) -> [HCLItem] {
        var parser = HCLParser(tokens: try HCLLexer.tokenize(text))
        // Like HCL v1, a document that opens with `{` is the JSON form: one object holding the items.
        if parser.peek().kind == .leftBrace {
            let value = try parser.parseValue()
            let trailing = parser.peek()
            guard trailing.kind == .endOfInput, case .object(let items) = value.kind else {
                throw HCLSyntaxError(message: "expected EOF after the JSON object got: \(trailing.typeName)", position: trailing.position)
            }
            return items
        }
        return try parser.parseItems(closedBy: .endOfInput)
    }

    private init(tokens: [HCLToken]) {
        self.tokens = tokens
    }

    private func peek() -> HCLToken { tokens[min(index, tokens.count - 1)] }

    private mutating func next() -> HCLToken {
        let token = peek()
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    private mutating func parseItems(closedBy closing: HCLToken.Kind) throws(HCLSyntaxError) -> [HCLItem] {
        var items: [HCLItem] = []
        while true {
            let token = peek()
            if token.kind == closing { return items }
            if token.kind == .endOfInput {
                throw HCLSyntaxError(message: "object expected closing RBRACE got: EOF", position: token.position)
            }
            items.append(try parseItem())
            if peek().kind == .comma { _ = next() }
        }
    }

    private mutating func parseItem() throws(HCLSyntaxError) -> HCLItem {
        let start = peek().position
        var keys: [String] = []
        while true {
            let token = peek()
            switch token.kind {
            case .identifier(let name), .string(let name):
                keys.append(name)
                _ = next()
                continue
            default:
                break
            }
            break
        }
        let token = next()
        guard !keys.isEmpty else {
            throw HCLSyntaxError(message: "expected: IDENT | STRING got: \(token.typeName)", position: token.position)
        }
        switch token.kind {
        case .assign:
            guard keys.count == 1 else {
                throw HCLSyntaxError(message: "nested object expected: LBRACE got: ASSIGN", position: token.position)
            }
            return HCLItem(keys: keys, position: start, value: try parseValue())
        case .leftBrace:
            return HCLItem(keys: keys, position: start, value: try parseObject(openedBy: token))
        default:
            let quotedKeys = keys.map { "\"\($0)\"" }.joined(separator: " ")
            let message = keys.count == 1
                ? "key '\(keys[0])' expected start of object ('{') or assignment ('='), got \(token.typeName)"
                : "key \(quotedKeys) expected start of object ('{'), got \(token.typeName)"
            throw HCLSyntaxError(message: message, position: token.position)
        }
    }

    private mutating func parseValue() throws(HCLSyntaxError) -> HCLValue {
        let token = next()
        switch token.kind {
        case .string(let text): return HCLValue(kind: .string(text), position: token.position)
        case .number(let value, let isInteger): return HCLValue(kind: .number(value, isInteger: isInteger), position: token.position)
        case .bool(let flag): return HCLValue(kind: .bool(flag), position: token.position)
        case .leftBrace: return try parseObject(openedBy: token)
        case .leftBracket: return try parseList(openedBy: token)
        default:
            throw HCLSyntaxError(message: "expected a value (string, number, bool, list or object) got: \(token.typeName)",
                                 position: token.position)
        }
    }

    private mutating func parseObject(openedBy brace: HCLToken) throws(HCLSyntaxError) -> HCLValue {
        try enter(at: brace.position)
        defer { depth -= 1 }
        let items = try parseItems(closedBy: .rightBrace)
        _ = next()
        return HCLValue(kind: .object(items), position: brace.position)
    }

    private mutating func parseList(openedBy bracket: HCLToken) throws(HCLSyntaxError) -> HCLValue {
        try enter(at: bracket.position)
        defer { depth -= 1 }
        var elements: [HCLValue] = []
        while true {
            let token = peek()
            if token.kind == .rightBracket {
                _ = next()
                return HCLValue(kind: .list(elements), position: bracket.position)
            }
            if token.kind == .endOfInput {
                throw HCLSyntaxError(message: "list expected closing RBRACK got: EOF", position: token.position)
            }
            elements.append(try parseValue())
            let separator = peek()
            if separator.kind == .comma {
                _ = next()
            } else if separator.kind == .endOfInput {
                throw HCLSyntaxError(message: "list expected closing RBRACK got: EOF", position: separator.position)
            } else if separator.kind != .rightBracket {
                throw HCLSyntaxError(message: "list expected COMMA or RBRACK got: \(separator.typeName)", position: separator.position)
            }
        }
    }

    private mutating func enter(at position: HCLPosition) throws(HCLSyntaxError) {
        depth += 1
        if depth > Self.maximumDepth {
            throw HCLSyntaxError(message: "nesting is deeper than \(Self.maximumDepth) levels", position: position)
        }
    }
}
