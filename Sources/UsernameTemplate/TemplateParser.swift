/// The parsed form of a template: literal text and `{{ pipeline }}` actions, in order.
enum TemplateNode: Sendable {
    case text(String)
    case action(TemplatePipeline)
}

/// `command | command | …`: each command after the first receives the previous result as its last argument.
struct TemplatePipeline: Sendable {
    var commands: [TemplateCommand]
    var offset: Int

    /// Go's `PipeNode.String()`, used in execution error messages.
    var description: String { commands.map(\.description).joined(separator: " | ") }
}

/// One command: a function with its arguments, or a single operand.
struct TemplateCommand: Sendable {
    var operands: [TemplateOperand]
    var offset: Int

    var description: String { operands.map(\.description).joined(separator: " ") }
}

indirect enum TemplateOperand: Sendable {
    case field([String], offset: Int)
    case dot(offset: Int)
    case function(String, offset: Int)
    case string(String, source: String, offset: Int)
    case number(Int, source: String, offset: Int)
    case bool(Bool, offset: Int)
    case null(offset: Int)
    case pipeline(TemplatePipeline, offset: Int)

    var offset: Int {
        switch self {
        case .field(_, let offset), .dot(let offset), .function(_, let offset), .string(_, _, let offset),
             .number(_, _, let offset), .bool(_, let offset), .null(let offset), .pipeline(_, let offset):
            return offset
        }
    }

    /// Go's `Node.String()` for this operand.
    var description: String {
        switch self {
        case .field(let names, _): return names.map { "." + $0 }.joined()
        case .dot: return "."
        case .function(let name, _): return name
        case .string(_, let source, _), .number(_, let source, _): return source
        case .bool(let value, _): return value ? "true" : "false"
        case .null: return "nil"
        case .pipeline(let pipeline, _): return "(" + pipeline.description + ")"
        }
    }

    /// Operands that cannot start a later pipeline stage, because nothing can be passed to them.
    var isLiteral: Bool {
        switch self {
        case .string, .number, .bool, .null, .dot: return true
        default: return false
        }
    }
}

/// Recursive-descent parser over the lexer's tokens. Functions are checked at parse time, as Go does.
struct TemplateParser {
    private let tokens: [TemplateToken]
    private var index = 0
    private let isFunction: (String) -> Bool

    static func parse(_ source: String, isFunction: @escaping (String) -> Bool) throws(TemplateSyntaxError) -> [TemplateNode] {
        var parser = TemplateParser(tokens: try TemplateLexer.tokenize(source), isFunction: isFunction)
        return try parser.parseTemplate()
    }

    private init(tokens: [TemplateToken], isFunction: @escaping (String) -> Bool) {
        self.tokens = tokens
        self.isFunction = isFunction
    }

    private mutating func parseTemplate() throws(TemplateSyntaxError) -> [TemplateNode] {
        var nodes: [TemplateNode] = []
        while true {
            let token = next()
            switch token.kind {
            case .text(let text):
                nodes.append(.text(text))
            case .leftDelimiter:
                nodes.append(.action(try parseAction()))
            case .endOfInput:
                return nodes
            default:
                throw unexpected(token, in: "input")
            }
        }
    }

    private mutating func parseAction() throws(TemplateSyntaxError) -> TemplatePipeline {
        let first = peek()
        switch first.kind {
        case .keyword(let word):
            if word == "end" || word == "else" {
                throw TemplateSyntaxError(message: "unexpected {{\(word)}}", offset: first.offset)
            }
            throw TemplateSyntaxError(
                message: "{{\(word)}} actions are not supported: use pipelines of functions, fields and literals",
                offset: first.offset)
        case .variable:
            throw TemplateSyntaxError(message: "variables are not supported", offset: first.offset)
        default:
            return try parsePipeline(closedBy: .rightDelimiter, context: "command")
        }
    }

    private mutating func parsePipeline(closedBy terminator: TemplateToken.Kind, context: String) throws(TemplateSyntaxError) -> TemplatePipeline {
        let start = peek().offset
        var commands: [TemplateCommand] = []
        while true {
            let command = try parseCommand(closedBy: terminator)
            commands.append(command)
            let token = next()
            if token.kind == .pipe { continue }
            if token.kind == terminator { break }
            if token.kind == .endOfInput {
                throw TemplateSyntaxError(message: "unclosed action", offset: token.offset)
            }
            throw unexpected(token, in: context)
        }
        for (stage, command) in commands.enumerated() where stage > 0 {
            if command.operands[0].isLiteral {
                throw TemplateSyntaxError(
                    message: "non executable command in pipeline stage \(stage + 1)", offset: command.offset)
            }
        }
        return TemplatePipeline(commands: commands, offset: start)
    }

    private mutating func parseCommand(closedBy terminator: TemplateToken.Kind) throws(TemplateSyntaxError) -> TemplateCommand {
        let start = peek().offset
        var operands: [TemplateOperand] = []
        while true {
            let token = peek()
            switch token.kind {
            case .pipe, .rightDelimiter, .rightParen, .endOfInput:
                guard !operands.isEmpty else {
                    throw TemplateSyntaxError(message: "missing value for command", offset: token.offset)
                }
                if case .null = operands[0], operands.count == 1 {
                    throw TemplateSyntaxError(message: "nil is not a command", offset: operands[0].offset)
                }
                return TemplateCommand(operands: operands, offset: start)
            default:
                // Operands must be separated by spaces: Go rejects `printf"%s"`.
                if !operands.isEmpty && !token.spaceBefore {
                    throw unexpected(token, in: "operand")
                }
                operands.append(try parseOperand())
            }
        }
    }

    private mutating func parseOperand() throws(TemplateSyntaxError) -> TemplateOperand {
        let token = next()
        switch token.kind {
        case .field(let names):
            return .field(names, offset: token.offset)
        case .dot:
            return .dot(offset: token.offset)
        case .identifier(let name):
            guard isFunction(name) else {
                throw TemplateSyntaxError(message: "function \"\(name)\" not defined", offset: token.offset)
            }
            return .function(name, offset: token.offset)
        case .string(let value):
            return .string(value, source: token.text, offset: token.offset)
        case .number(let value):
            return .number(value, source: token.text, offset: token.offset)
        case .bool(let value):
            return .bool(value, offset: token.offset)
        case .nil:
            return .null(offset: token.offset)
        case .leftParen:
            let pipeline = try parsePipeline(closedBy: .rightParen, context: "parenthesized pipeline")
            return .pipeline(pipeline, offset: token.offset)
        case .variable:
            throw TemplateSyntaxError(message: "variables are not supported", offset: token.offset)
        default:
            throw unexpected(token, in: "operand")
        }
    }

    private func unexpected(_ token: TemplateToken, in context: String) -> TemplateSyntaxError {
        switch token.kind {
        case .endOfInput:
            return TemplateSyntaxError(message: "unexpected EOF", offset: token.offset)
        case .rightDelimiter:
            return TemplateSyntaxError(message: "unexpected \"}}\" in \(context)", offset: token.offset)
        case .keyword(let word):
            return TemplateSyntaxError(message: "unexpected <\(word)> in \(context)", offset: token.offset)
        default:
            return TemplateSyntaxError(message: "unexpected \(GoStringLiteral.quote(token.text)) in \(context)", offset: token.offset)
        }
    }

    private func peek() -> TemplateToken { tokens[min(index, tokens.count - 1)] }

    private mutating func next() -> TemplateToken {
        let token = peek()
        if index < tokens.count - 1 { index += 1 }
        return token
    }
}
