/// An execution error, already worded like Go's: `template: template:1:11: executing "template" at <truncate 0>: …`.
struct TemplateExecutionError: Error {
    var message: String
}

/// Runs a parsed template against the username metadata, with Go's evaluation order and type checks.
struct TemplateEvaluator {
    let source: String
    let metadata: TemplateValue
    let environment: TemplateEnvironment

    func render(_ nodes: [TemplateNode]) throws(TemplateExecutionError) -> String {
        var output = ""
        for node in nodes {
            switch node {
            case .text(let text): output += text
            case .action(let pipeline): output += try evaluate(pipeline).printed
            }
        }
        return output
    }

    private func evaluate(_ pipeline: TemplatePipeline) throws(TemplateExecutionError) -> TemplateValue {
        var value: TemplateValue?
        for command in pipeline.commands {
            value = try evaluate(command, final: value)
        }
        return value ?? .null
    }

    private func evaluate(_ command: TemplateCommand, final: TemplateValue?) throws(TemplateExecutionError) -> TemplateValue {
        let first = command.operands[0]
        let arguments = Array(command.operands.dropFirst())
        switch first {
        case .function(let name, let offset):
            return try call(name, at: offset, arguments: arguments, final: final, command: command)
        case .field(let names, let offset):
            if !arguments.isEmpty || final != nil {
                throw failure(at: offset, context: first.description, "\(names.last ?? "") is not a method but has arguments")
            }
            return try field(names, at: offset)
        default:
            if !arguments.isEmpty || final != nil {
                throw failure(at: command.offset, context: command.description,
                              "can't give argument to non-function \(first.description)")
            }
            return try value(of: first, as: .any)
        }
    }

    private func field(_ names: [String], at offset: Int) throws(TemplateExecutionError) -> TemplateValue {
        var current = metadata
        for name in names {
            switch (current, name) {
            case (.metadata(let displayName, _), "DisplayName"): current = .string(displayName)
            case (.metadata(_, let roleName), "RoleName"): current = .string(roleName)
            default:
                throw failure(at: offset, context: names.map { "." + $0 }.joined(),
                              "can't evaluate field \(name) in type \(current.goTypeName)")
            }
        }
        return current
    }

    private func call(_ name: String, at offset: Int, arguments: [TemplateOperand], final: TemplateValue?,
                      command: TemplateCommand) throws(TemplateExecutionError) -> TemplateValue {
        guard let function = TemplateFunctions.all[name] else {
            throw failure(at: offset, context: name, "\"\(name)\" is not a defined function")
        }
        let count = arguments.count + (final == nil ? 0 : 1)
        if function.variadic != nil {
            if count < function.parameters.count {
                throw failure(at: offset, context: name,
                              "wrong number of args for \(name): want at least \(function.parameters.count) got \(count)")
            }
        } else if count != function.parameters.count {
            throw failure(at: offset, context: name,
                          "wrong number of args for \(name): want \(function.parameters.count) got \(count)")
        }
        func parameter(_ index: Int) -> TemplateFunction.Parameter {
            index < function.parameters.count ? function.parameters[index] : (function.variadic ?? .any)
        }
        var values: [TemplateValue] = []
        for (index, argument) in arguments.enumerated() {
            values.append(try value(of: argument, as: parameter(index)))
        }
        if let final {
            try check(final, as: parameter(values.count), at: offset, context: name)
            values.append(final)
        }
        do {
            return try function.body(values, environment)
        } catch let error as TemplateFunctionFailure {
            throw failure(at: command.offset, context: command.description, "error calling \(name): \(error.message)")
        } catch {
            throw failure(at: command.offset, context: command.description, "error calling \(name): \(error)")
        }
    }

    /// An argument as Go's `evalArg` sees it: literals must already have the parameter's type;
    /// computed values are checked after evaluation.
    private func value(of operand: TemplateOperand, as parameter: TemplateFunction.Parameter) throws(TemplateExecutionError) -> TemplateValue {
        switch operand {
        case .string(let text, let source, let offset):
            guard parameter != .int else { throw failure(at: offset, context: source, "expected integer; found \(source)") }
            return .string(text)
        case .number(let number, let source, let offset):
            guard parameter != .string else { throw failure(at: offset, context: source, "expected string; found \(source)") }
            return .int(number)
        case .bool(let flag, let offset):
            guard parameter == .any else {
                throw failure(at: offset, context: operand.description,
                              "expected \(parameter == .int ? "integer" : "string"); found \(operand.description)")
            }
            return .bool(flag)
        case .null(let offset):
            guard parameter == .any else {
                throw failure(at: offset, context: "nil", "cannot assign nil to \(parameter.goName)")
            }
            return .null
        case .dot(let offset):
            try check(metadata, as: parameter, at: offset, context: ".")
            return metadata
        case .field(let names, let offset):
            let result = try field(names, at: offset)
            try check(result, as: parameter, at: offset, context: operand.description)
            return result
        case .function(let name, let offset):
            let result = try call(name, at: offset, arguments: [], final: nil,
                                  command: TemplateCommand(operands: [operand], offset: offset))
            try check(result, as: parameter, at: offset, context: name)
            return result
        case .pipeline(let pipeline, let offset):
            let result = try evaluate(pipeline)
            try check(result, as: parameter, at: offset, context: operand.description)
            return result
        }
    }

    private func check(_ value: TemplateValue, as parameter: TemplateFunction.Parameter, at offset: Int,
                       context: String) throws(TemplateExecutionError) {
        switch (parameter, value) {
        case (.any, _), (.string, .string), (.int, .int): return
        default:
            throw failure(at: offset, context: context,
                          "wrong type for value; expected \(parameter.goName); got \(value.goTypeName)")
        }
    }

    private func failure(at offset: Int, context: String, _ message: String) -> TemplateExecutionError {
        // Go shortens the node text to 20 characters.
        let shown = context.unicodeScalars.count > 20 ? String(String.UnicodeScalarView(context.unicodeScalars.prefix(20))) + "..." : context
        let location = TemplateLocation.describe(offset: offset, in: source)
        return TemplateExecutionError(message: "template: \(location): executing \"template\" at <\(shown)>: \(message)")
    }
}

/// Go's `name:line:column` for a byte offset; the column is Go's zero-based byte count within the line.
enum TemplateLocation {
    static func describe(offset: Int, in source: String) -> String {
        let bytes = Array(source.utf8)
        let end = min(offset, bytes.count)
        var line = 1
        var lineStart = 0
        for index in 0..<end where bytes[index] == 0x0A {
            line += 1
            lineStart = index + 1
        }
        return "template:\(line):\(end - lineStart)"
    }
}
