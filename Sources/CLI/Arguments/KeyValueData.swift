import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Vault's `kv-builder`: turns `k=v`, `k=@file`, `k=-`, `@file.json`, `-` and repeated keys into
/// one JSON object. Values from `k=v` are always strings.
struct KeyValueData {
    let terminal: Terminal

    func parse(_ args: [String]) throws -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for arg in args where !arg.isEmpty {
            do {
                try add(arg, to: &result)
            } catch let error as KeyValueError {
                throw CommandFailure.usage("Failed to parse K=V data: invalid key/value pair \"\(arg)\": \(error.reason)")
            }
        }
        return result
    }

    struct KeyValueError: Error { var reason: String }

    private func add(_ arg: String, to result: inout [String: JSONValue]) throws {
        if arg == "-" {
            try merge(try stdin(), into: &result)
            return
        }
        guard let eq = arg.firstIndex(of: "=") else {
            if arg.hasPrefix("@") {
                let path = String(arg.dropFirst())
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw KeyValueError(reason: "open \(path): no such file or directory")
                }
                try merge(data, into: &result)
                return
            }
            throw KeyValueError(reason: "format must be key=value")
        }
        let key = String(arg[..<eq])
        var value = String(arg[arg.index(after: eq)...])
        if value == "-" {
            value = try Self.text(try stdin(), from: "stdin")
        } else if value.hasPrefix("@") {
            let path = String(value.dropFirst())
            guard let data = FileManager.default.contents(atPath: path) else {
                throw KeyValueError(reason: "error reading file: open \(path): no such file or directory")
            }
            value = try Self.text(data, from: path)
        } else if value.hasPrefix("\\@") {
            value = String(value.dropFirst())
        }
        switch result[key] {
        case nil: result[key] = .string(value)
        case .array(let items)?: result[key] = .array(items + [.string(value)])
        case let existing?: result[key] = .array([existing, .string(value)])
        }
    }

    /// A value read from a file or stdin, which must be UTF-8: replacing what is not (U+FFFD)
    /// would store a different password than the one in the file.
    private static func text(_ data: Data, from source: String) throws -> String {
        guard let text = String(data: data, encoding: .utf8) else {
            throw KeyValueError(reason: "the contents of \(source) are not valid UTF-8")
        }
        return text
    }

    private func stdin() throws -> Data {
        do {
            return try terminal.readStdin()
        } catch let error as CommandFailure {
            throw KeyValueError(reason: error.message)
        }
    }

    private func merge(_ data: Data, into result: inout [String: JSONValue]) throws {
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) { throw KeyValueError(reason: "EOF") }
        let parsed: JSONValue
        do {
            // Go's decoder, as Vault's CLI reads it: of a key given twice, the last one counts.
            parsed = try JSONParser.parse(data)
        } catch {
            throw KeyValueError(reason: error.description)
        }
        guard case .object(let object) = parsed else {
            throw KeyValueError(reason: "json: cannot unmarshal array into Go value of type map[string]interface {}")
        }
        result.merge(object) { _, new in new }
    }
}
