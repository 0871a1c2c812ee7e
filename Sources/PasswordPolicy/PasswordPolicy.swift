import Basics

/// A Vault password policy (`sys/policies/password`): a length and charset rules, written in HCL:
///
///     length = 20
///     rule "charset" { charset = "abcdefghijklmnopqrstuvwxyz" min-chars = 1 }
///     rule "charset" { charset = "0123456789" min-chars = 1 }
///
/// Passwords are drawn uniformly from the sorted union of the rules' charsets; a candidate that
/// misses any rule is thrown away whole and drawn again, for at most one second.
public struct PasswordPolicy: Sendable, Equatable {
    public struct Error: Swift.Error, Sendable, CustomStringConvertible {
        public var message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    public var length: Int
    public var rules: [CharsetRule]
    /// The text this policy was parsed from, for storing and returning it unchanged as Vault does;
    /// the canonical rendering for policies built in code. It does not follow later changes to
    /// `length` or `rules`: `hcl` renders the current values.
    public var hclSource: String {
        switch source {
        case .text(let text): return text
        case .rendered(let length, let rules): return PasswordPolicy.render(length: length, rules: rules)
        }
    }

    /// Rendered when asked, from the values the policy was built with: rendering the default
    /// policy at its first use was a tenth of generating its password, and a `creds` never asks.
    private let source: Source

    private enum Source: Sendable {
        case text(String)
        case rendered(length: Int, rules: [CharsetRule])
    }

    /// Longer passwords are refused rather than allocated; Vault has no such bound.
    public static let maximumLength = 1 << 16

    /// Vault's `DefaultStringGenerator`: 20 characters from `-0-9A-Za-z` with at least one of each class.
    public static let vaultDefault = PasswordPolicy(
        unvalidatedLength: 20,
        rules: [
            CharsetRule(charset: "abcdefghijklmnopqrstuvwxyz", minChars: 1),
            CharsetRule(charset: "ABCDEFGHIJKLMNOPQRSTUVWXYZ", minChars: 1),
            CharsetRule(charset: "0123456789", minChars: 1),
            CharsetRule(charset: "-", minChars: 1),
        ])

    /// Parses and validates a policy; the errors carry Vault's messages, syntax errors with line:column.
    public init(hcl: String) throws {
        let (length, rules) = try PasswordPolicyDecoder.decode(hcl)
        self.length = length
        self.rules = rules
        source = .text(hcl)
        _ = try validatedCharset()
    }

    public init(length: Int, rules: [CharsetRule]) throws {
        self.init(unvalidatedLength: length, rules: rules)
        _ = try validatedCharset()
    }

    private init(unvalidatedLength length: Int, rules: [CharsetRule]) {
        self.length = length
        self.rules = rules
        source = .rendered(length: length, rules: rules)
    }

    public static func == (lhs: PasswordPolicy, rhs: PasswordPolicy) -> Bool {
        lhs.length == rhs.length && lhs.rules == rhs.rules
    }

    /// The sorted, de-duplicated union of all rule charsets: the alphabet of generated passwords.
    public var charset: [Unicode.Scalar] {
        // Sorted, then adjacent repeats dropped: a Set's hashing cost more than the sort.
        var scalars = rules.flatMap { $0.charset.unicodeScalars }
        scalars.sort { $0.value < $1.value }
        var unique: [Unicode.Scalar] = []
        unique.reserveCapacity(scalars.count)
        for scalar in scalars where unique.last != scalar { unique.append(scalar) }
        return unique
    }

    /// The policy in canonical HCL, one block per rule; parsing it gives back an equal policy.
    public var hcl: String { PasswordPolicy.render(length: length, rules: rules) }

    /// A new password from the system's cryptographic random generator.
    public func generate() throws -> String {
        try PasswordGenerator(policy: self, charset: validatedCharset()).generate()
    }

    func generate(randomBytes: @escaping (Int) -> [UInt8] = SecureRandom.bytes,
                  timeout: Duration) throws -> String {
        try generate(randomBytes: randomBytes, deadline: .now.advanced(by: timeout))
    }

    func generate(randomBytes: @escaping (Int) -> [UInt8] = SecureRandom.bytes,
                  deadline: ContinuousClock.Instant) throws -> String {
        try PasswordGenerator(policy: self, charset: validatedCharset(), randomBytes: randomBytes, deadline: deadline).generate()
    }

    /// Vault accepts a policy written to `sys/policies/password/:name` only if its length is between
    /// these bounds (`passwords must be between 4 and 100 characters`).
    public static let storableLengths = 4...100

    /// The checks Vault's `sys/policies/password/:name` write makes after parsing: the length bounds,
    /// then ten passwords generated within one shared second. Messages are Vault's.
    public func checkBeforeStoring() throws {
        guard Self.storableLengths.contains(length) else {
            throw Error("passwords must be between \(Self.storableLengths.lowerBound) and \(Self.storableLengths.upperBound) characters")
        }
        let attempts = 10
        let deadline = ContinuousClock.now.advanced(by: .seconds(1))
        var failed = 0
        for _ in 0..<attempts {
            do {
                _ = try generate(deadline: deadline)
            } catch {
                failed += 1
            }
        }
        if failed == attempts {
            throw Error("unable to generate password from provided policy in 1s: are the rules impossible?")
        }
        if failed > 0 {
            throw Error("failed to generate passwords \(failed) times out of \(attempts) attempts in 1s - is the policy too restrictive?")
        }
    }

    /// Vault's `validateConfig`, plus the charset size limit Vault checks when generating.
    /// Several problems are reported together, separated by `; `.
    func validatedCharset() throws(Error) -> [Unicode.Scalar] {
        var problems: [String] = []
        // Saturating, so that absurd minimums in a policy cannot trap on overflow.
        let required = rules.reduce(0) { sum, rule in
            let (total, overflow) = sum.addingReportingOverflow(rule.minChars)
            return overflow ? (rule.minChars > 0 ? Int.max : Int.min) : total
        }
        if length <= 0 {
            problems.append("length must be > 0")
        } else if length < required {
            problems.append("specified rules require at least \(required) characters but \(length) is specified")
        } else if length > Self.maximumLength {
            problems.append("length must be at most \(Self.maximumLength) but \(length) is specified")
        }
        let charset = self.charset
        if charset.isEmpty {
            problems.append("no charset specified")
        } else if charset.contains(where: { $0 != " " && !$0.isGoPrintable }) {
            problems.append("non-printable character in charset")
        } else if charset.count > PasswordGenerator.largestCharset {
            problems.append("charset is too long: limited to 255 characters")
        }
        guard problems.isEmpty else { throw Error(problems.joined(separator: "; ")) }
        return charset
    }

    private static func render(length: Int, rules: [CharsetRule]) -> String {
        var text = "length = \(length)\n"
        for rule in rules {
            text += "rule \"charset\" {\n  charset = \(quote(rule.charset))\n  min-chars = \(rule.minChars)\n}\n"
        }
        return text
    }

    private static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar == " " || scalar.isGoPrintable {
                    result.unicodeScalars.append(scalar)
                } else {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
                }
            }
        }
        return result + "\""
    }
}
