/// Go's `flag` package as Vault's commands use it: one or two dashes, `-name=value` or
/// `-name value`, bools only as `-name` or `-name=bool`, and parsing stops at the first
/// argument that is not a flag (or after `--`).
struct FlagSpec: Sendable {
    /// `list`: the flag may be given again and again (`-options=a=b -options=c=d`).
    enum Kind: Sendable { case bool, string, duration, list }

    var name: String
    var aliases: [String] = []
    var kind: Kind
    var group: String
    var usage: String
    /// Shown after `=` in help (`-format=<string>`).
    var placeholder: String { kind == .duration ? "duration" : kind == .list ? "key=value" : "string" }
    var defaultValue: String = ""
    /// Values offered by shell completion.
    var values: [String] = []
    var environmentVariable: String?
}

struct ParsedArguments {
    var values: [String: String] = [:]
    /// Every value of a `list` flag, in order.
    var lists: [String: [String]] = [:]
    var positionals: [String] = []

    func bool(_ name: String) -> Bool { values[name] == "true" }
    func string(_ name: String) -> String? { values[name] }
}

enum FlagParser {
    static func parse(_ args: [String], specs: [FlagSpec]) throws -> ParsedArguments {
        var result = ParsedArguments()
        var index = 0
        func spec(named name: String) -> FlagSpec? {
            specs.first { $0.name == name || $0.aliases.contains(name) }
        }
        while index < args.count {
            let arg = args[index]
            if arg == "--" { index += 1; break }
            guard arg.hasPrefix("-"), arg != "-" else { break }
            var body = Substring(arg.dropFirst())
            if body.hasPrefix("-") { body = body.dropFirst() }
            if body.isEmpty || body.hasPrefix("-") || body.hasPrefix("=") {
                throw CommandFailure.usage("bad flag syntax: \(arg)")
            }
            var name = String(body)
            var inlineValue: String?
            if let eq = body.firstIndex(of: "=") {
                name = String(body[..<eq])
                inlineValue = String(body[body.index(after: eq)...])
            }
            guard let flag = spec(named: name) else { throw CommandFailure.usage("flag provided but not defined: -\(name)") }
            index += 1
            switch flag.kind {
            case .bool:
                if let inlineValue {
                    guard let b = parseBool(inlineValue) else {
                        throw CommandFailure.usage("invalid boolean value \"\(inlineValue)\" for -\(name): strconv.ParseBool: parsing \"\(inlineValue)\": invalid syntax")
                    }
                    result.values[flag.name] = b ? "true" : "false"
                } else {
                    result.values[flag.name] = "true"
                }
            case .string, .duration, .list:
                var value = inlineValue
                if value == nil {
                    guard index < args.count else { throw CommandFailure.usage("flag needs an argument: -\(name)") }
                    value = args[index]
                    index += 1
                }
                result.values[flag.name] = value!
                if flag.kind == .list { result.lists[flag.name, default: []].append(value!) }
            }
        }
        result.positionals = Array(args[index...])
        return result
    }

    static func parseBool(_ s: String) -> Bool? {
        switch s {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: return nil
        }
    }
}
