import Basics
import CryptoPrimitives
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where functions get the time and randomness from; tests substitute a fixed clock.
struct TemplateEnvironment: Sendable {
    var now: @Sendable () -> GoTime
    var randomBytes: @Sendable (Int) -> [UInt8]

    static let system = TemplateEnvironment(now: GoTime.now, randomBytes: SecureRandom.bytes)
}

/// A function failed; the evaluator reports it as Go does: `error calling <name>: <message>`.
struct TemplateFunctionFailure: Error {
    var message: String
}

/// A template function with Go's parameter types, so arity and type errors read like Go's.
struct TemplateFunction: Sendable {
    enum Parameter: Sendable {
        case string, int, any

        var goName: String {
            switch self {
            case .string: return "string"
            case .int: return "int"
            case .any: return "interface {}"
            }
        }
    }

    var parameters: [Parameter]
    var variadic: Parameter?
    var body: @Sendable ([TemplateValue], TemplateEnvironment) throws -> TemplateValue

    init(_ parameters: [Parameter], variadic: Parameter? = nil,
         _ body: @escaping @Sendable ([TemplateValue], TemplateEnvironment) throws -> TemplateValue) {
        self.parameters = parameters
        self.variadic = variadic
        self.body = body
    }
}

/// Vault's `sdk/helper/template` functions plus Go's `print`, `printf` and `println`.
enum TemplateFunctions {
    /// `random` with a larger count would only exhaust memory; Vault has no such limit.
    static let largestRandomLength = 1 << 16

    static let all: [String: TemplateFunction] = [
        "random": TemplateFunction([.int]) { args, environment in
            let length = int(args[0])
            guard length >= 0 else { throw TemplateFunctionFailure(message: "length must not be negative but was \(length)") }
            guard length <= largestRandomLength else {
                throw TemplateFunctionFailure(message: "length must be at most \(largestRandomLength) but was \(length)")
            }
            return .string(base62(length, environment))
        },
        "truncate": TemplateFunction([.int, .string]) { args, _ in
            let maxLength = int(args[0])
            guard maxLength > 0 else { throw TemplateFunctionFailure(message: "max length must be > 0 but was \(maxLength)") }
            return .string(utf8Prefix(string(args[1]), maxLength))
        },
        "truncate_sha256": TemplateFunction([.int, .string]) { args, _ in
            let maxLength = int(args[0])
            guard maxLength > 8 else { throw TemplateFunctionFailure(message: "max length must be > 8 but was \(maxLength)") }
            let text = string(args[1])
            let bytes = Array(text.utf8)
            guard bytes.count > maxLength else { return .string(text) }
            let cut = maxLength - 8
            let hash = SHA256.hash(bytes[cut...]).hexString.prefix(8)
            return .string(utf8Prefix(text, cut) + hash)
        },
        "uppercase": TemplateFunction([.string]) { args, _ in .string(simpleCaseMap(string(args[0]), upper: true)) },
        "lowercase": TemplateFunction([.string]) { args, _ in .string(simpleCaseMap(string(args[0]), upper: false)) },
        "replace": TemplateFunction([.string, .string, .string]) { args, _ in
            .string(replaceAll(in: string(args[2]), find: string(args[0]), with: string(args[1])))
        },
        "sha256": TemplateFunction([.string]) { args, _ in .string(SHA256.hash(Array(string(args[0]).utf8)).hexString) },
        "base64": TemplateFunction([.string]) { args, _ in .string(Data(string(args[0]).utf8).base64EncodedString()) },
        "unix_time": TemplateFunction([]) { _, environment in .string(String(environment.now().seconds)) },
        "unix_time_millis": TemplateFunction([]) { _, environment in .string(String(environment.now().unixMilliseconds)) },
        "timestamp": TemplateFunction([.string]) { args, environment in
            .string(GoTimeLayout.format(environment.now(), layout: string(args[0])))
        },
        "uuid": TemplateFunction([]) { _, environment in .string(uuid(environment)) },
        "printf": TemplateFunction([.string], variadic: .any) { args, _ in
            .string(GoFormatter.sprintf(string(args[0]), Array(args.dropFirst())))
        },
        "print": TemplateFunction([], variadic: .any) { args, _ in .string(GoFormatter.sprint(args)) },
        "println": TemplateFunction([], variadic: .any) { args, _ in .string(GoFormatter.sprintln(args)) },
    ]

    private static func string(_ value: TemplateValue) -> String {
        if case .string(let text) = value { return text }
        return value.printed
    }

    private static func int(_ value: TemplateValue) -> Int {
        if case .int(let number) = value { return number }
        return 0
    }

    static func base62(_ length: Int, _ environment: TemplateEnvironment) -> String {
        SecureRandom.base62(length, randomBytes: environment.randomBytes)
    }

    /// hashicorp/go-uuid: 16 random bytes as 8-4-4-4-12 hex, without version bits.
    static func uuid(_ environment: TemplateEnvironment) -> String {
        let hex = environment.randomBytes(16).hexString
        let characters = Array(hex)
        let groups = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }
        return groups.joined(separator: "-")
    }

    /// Go truncates on bytes. A cut inside a multi-byte character would leave invalid UTF-8,
    /// which Swift strings cannot hold, so the partial character is dropped instead.
    static func utf8Prefix(_ text: String, _ maxBytes: Int) -> String {
        let bytes = Array(text.utf8)
        guard bytes.count > maxBytes else { return text }
        var end = maxBytes
        while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    /// Go's `strings.ToUpper`/`ToLower` map each character on its own (no `ß` → `SS`).
    static func simpleCaseMap(_ text: String, upper: Bool) -> String {
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                let value = scalar.value
                if upper, value >= 0x61, value <= 0x7A {
                    result.append(Unicode.Scalar(value - 32)!)
                } else if !upper, value >= 0x41, value <= 0x5A {
                    result.append(Unicode.Scalar(value + 32)!)
                } else {
                    result.append(scalar)
                }
                continue
            }
            let mapped = upper ? scalar.properties.uppercaseMapping : scalar.properties.lowercaseMapping
            let mappedScalars = mapped.unicodeScalars
            if mappedScalars.count == 1, let single = mappedScalars.first {
                result.append(single)
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    /// Go's `strings.ReplaceAll`, including its rule for an empty `find`: insert between every character.
    static func replaceAll(in text: String, find: String, with replacement: String) -> String {
        if find.isEmpty {
            var result = replacement
            for scalar in text.unicodeScalars {
                result.unicodeScalars.append(scalar)
                result += replacement
            }
            return result
        }
        let haystack = Array(text.utf8)
        let needle = Array(find.utf8)
        let substitute = Array(replacement.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(haystack.count)
        var index = 0
        while index < haystack.count {
            if haystack[index] == needle[0], index + needle.count <= haystack.count,
               haystack[index..<(index + needle.count)].elementsEqual(needle)
            {
                output.append(contentsOf: substitute)
                index += needle.count
            } else {
                output.append(haystack[index])
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
