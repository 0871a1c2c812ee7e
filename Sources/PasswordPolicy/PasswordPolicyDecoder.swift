/// Turns the HCL document of a password policy into length and rules, with Vault's error wording
/// (`unable to decode: …`, `failed to decode configuration: …`, `unable to parse rules: …`).
/// As in Vault, unknown attributes are ignored and a repeated attribute keeps its last value.
enum PasswordPolicyDecoder {
    static func decode(_ text: String) throws(PasswordPolicy.Error) -> (length: Int, rules: [CharsetRule]) {
        let items: [HCLItem]
        do {
            items = try HCLParser.parse(text)
        } catch {
            throw PasswordPolicy.Error("unable to decode: At \(error.position): \(error.message)")
        }
        var length = 0
        var ruleBlocks: [RuleBlock] = []
        for item in items {
            switch item.keys[0] {
            case "length":
                guard item.keys.count == 1 else {
                    throw PasswordPolicy.Error("failed to decode configuration: At \(item.position): 'length' expected type 'int', got a block")
                }
                length = try integer(item.value, named: "length", context: "failed to decode configuration")
            case "rule":
                ruleBlocks += try ruleTypes(of: item)
            default:
                continue
            }
        }
        var rules: [CharsetRule] = []
        for block in ruleBlocks {
            guard block.type == "charset" else {
                throw PasswordPolicy.Error("unable to parse rules: unable to parse rule \(block.type): unrecognized rule type \(block.type)")
            }
            rules.append(try charsetRule(block.body))
        }
        return (length, rules)
    }

    private typealias RuleBlock = (type: String, body: HCLValue, position: HCLPosition)

    /// `rule "charset" { … }`, the equivalent nested form `rule { charset { … } }`, and the JSON
    /// form `"rule": [{"charset": [{…}]}]`, where lists stand for repeated blocks as in HCL v1.
    private static func ruleTypes(of item: HCLItem) throws(PasswordPolicy.Error) -> [RuleBlock] {
        let hint = "rules are written rule \"charset\" { charset = \"…\" min-chars = N }"
        func failure(_ position: HCLPosition) -> PasswordPolicy.Error {
            PasswordPolicy.Error("unable to parse rules: unable to get rule info: At \(position): \(hint)")
        }
        func objects(_ value: HCLValue) throws(PasswordPolicy.Error) -> [HCLValue] {
            switch value.kind {
            case .object: return [value]
            case .list(let elements):
                for element in elements {
                    guard case .object = element.kind else { throw failure(element.position) }
                }
                return elements
            default: throw failure(value.position)
            }
        }
        if item.keys.count == 2 {
            return try objects(item.value).map { (item.keys[1], $0, $0.position) }
        }
        guard item.keys.count == 1 else { throw failure(item.position) }
        var blocks: [RuleBlock] = []
        for container in try objects(item.value) {
            guard case .object(let entries) = container.kind, !entries.isEmpty else { throw failure(container.position) }
            for entry in entries {
                guard entry.keys.count == 1 else { throw failure(entry.position) }
                blocks += try objects(entry.value).map { (entry.keys[0], $0, $0.position) }
            }
        }
        return blocks
    }

    private static func charsetRule(_ body: HCLValue) throws(PasswordPolicy.Error) -> CharsetRule {
        let context = "unable to parse rules: unable to parse rule charset: failed to parse charset restriction"
        guard case .object(let items) = body.kind else {
            throw PasswordPolicy.Error("\(context): At \(body.position): expected a block")
        }
        var rule = CharsetRule(charset: "", minChars: 0)
        for item in items {
            switch item.keys[0] {
            case "charset":
                guard item.keys.count == 1, case .string(let text) = item.value.kind else {
                    throw PasswordPolicy.Error("\(context): At \(item.value.position): 'charset' expected a string, got unconvertible type '\(item.value.goTypeName)'")
                }
                rule.charset = text
            case "min-chars":
                rule.minChars = try integer(item.value, named: "min-chars", context: context)
            default:
                continue
            }
        }
        return rule
    }

    /// mapstructure without weak typing: integers, and floats truncated toward zero; nothing else.
    private static func integer(_ value: HCLValue, named name: String, context: String) throws(PasswordPolicy.Error) -> Int {
        if case .number(let number, _) = value.kind, number.magnitude < 9.0e18 {
            return Int(number)
        }
        throw PasswordPolicy.Error("\(context): At \(value.position): '\(name)' expected type 'int', got unconvertible type '\(value.goTypeName)', value: '\(value.goDescription)'")
    }
}
