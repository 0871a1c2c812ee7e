import Basics
import DBPlugin
import Engine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Prints an engine response the way `vault` prints a secret: table, JSON envelope, YAML, or
/// one `-field`. Data goes to stdout; warnings and diagnostics to stderr.
struct ResponsePrinter {
    let terminal: Terminal
    let format: OutputFormat

    // MARK: Secrets

    func printSecret(_ response: EngineResponse) {
        switch format {
        case .table, .raw:
            printWarnings(response.warnings)
            var rows: [(String, String)] = []
            if response.leaseDuration > 0 && !response.leaseID.isEmpty {
                rows.append(("lease_id", response.leaseID))
                rows.append(("lease_duration", DurationField.human(response.leaseDuration)))
                rows.append(("lease_renewable", response.renewable ? "true" : "false"))
            } else if response.leaseDuration > 0 {
                rows.append(("refresh_interval", DurationField.human(response.leaseDuration)))
            }
            for (key, value) in (response.data ?? [:]).sorted(by: { $0.key < $1.key }) {
                rows.append((key, GoValueText.tableCell(key: key, value)))
            }
            if !rows.isEmpty { terminal.out(Self.table(header: ("Key", "Value"), rows: rows)) }
        case .json:
            terminal.out(GoJSON.encode(pairs: envelope(response)) + "\n")
        case .yaml:
            terminal.out(YAMLText.encode(.object(Dictionary(uniqueKeysWithValues: envelope(response)))))
        }
    }

    func envelope(_ response: EngineResponse) -> [(String, JSONValue)] {
        [
            ("request_id", .string(UUID().uuidString.lowercased())),
            ("lease_id", .string(response.leaseID)),
            ("lease_duration", .int(response.leaseDuration)),
            ("renewable", .bool(response.renewable)),
            ("data", response.data.map { .object($0) } ?? .null),
            ("warnings", response.warnings.isEmpty ? .null : .array(response.warnings.map { .string($0) })),
            ("mount_type", .string(Self.mountType(response))),
        ]
    }

    /// `database` for what a database mount answered, `system` for `sys/`.
    static func mountType(_ response: EngineResponse) -> String {
        response.mountType.isEmpty ? "database" : response.mountType
    }

    /// `read -format=raw`: the body Vault's HTTP API answers (`dbsecrets server`'s own).
    func printRawBody(_ response: EngineResponse) {
        terminal.out(ResponseBody.envelope(response, requestID: ResponseBody.newRequestID(), mountType: Self.mountType(response)))
    }

    /// `-field=NAME`: the envelope's own fields, else `data[NAME]`. No trailing newline when
    /// stdout is not a terminal, so `$(dbsecrets read -field=password …)` is exact. Unlike
    /// Vault, `NO_COLOR` and `TERM=dumb` do not change it: they are about colour, not bytes.
    func printField(_ name: String, of response: EngineResponse) throws {
        let value: JSONValue?
        switch name {
        case "lease_id": value = .string(response.leaseID)
        case "lease_duration", "refresh_interval": value = .int(response.leaseDuration)
        case "renewable": value = .bool(response.renewable)
        case "request_id": value = .string(UUID().uuidString.lowercased())
        case "data": value = response.data.map { .object($0) }
        default: value = response.data?[name]
        }
        guard let value, value != .null else { throw CommandFailure.usage("Field \"\(name)\" not present in secret") }
        switch format {
        case .json:
            terminal.out(GoJSON.encode(value) + "\n")
        case .yaml:
            terminal.out(YAMLText.encode(value))
        case .table, .raw:
            printWarnings(response.warnings)
            terminal.out(GoValueText.render(value) + (terminal.stdoutIsTerminal ? "\n" : ""))
        }
    }

    // MARK: Lists

    /// Nothing to list is a failure (exit 2), as in Vault.
    func printList(_ response: EngineResponse?, path: String) throws {
        let keys = response?.data?["keys"]?.arrayValue?.compactMap(\.stringValue)
        switch format {
        case .json:
            guard let keys else { terminal.out("{}\n"); throw CommandFailure.noValue("") }
            terminal.out(GoJSON.encode(.array(keys.map { .string($0) })) + "\n")
        case .yaml:
            guard let keys else { terminal.out("{}\n"); throw CommandFailure.noValue("") }
            terminal.out(YAMLText.encode(.array(keys.map { .string($0) })))
        case .table, .raw:
            guard let response else { throw CommandFailure.noValue("No value found at \(path)") }
            printWarnings(response.warnings)
            guard let keys else {
                if !response.warnings.isEmpty { return }
                throw CommandFailure.noValue("No entries found at \(path)")
            }
            terminal.out(Self.table(header: nil, rows: [("Keys", ""), ("----", "")] + keys.sorted().map { ($0, "") }))
        }
    }

    // MARK: Pieces

    func printWarnings(_ warnings: [String]) {
        guard !warnings.isEmpty, format == .table || format == .raw else { return }
        var text = "WARNING! The following warnings were returned from Vault:\n\n"
        for warning in warnings {
            text += TextWrap.wrapWithPadding("* " + warning, pad: 2) + "\n\n"
        }
        terminal.err(terminal.coloredForStderr(text, code: "33"))
    }

    /// columnize: cells trimmed, empty cells `n/a`, first column padded to the widest (in
    /// characters) plus four spaces, no trailing spaces.
    static func table(header: (String, String)?, rows: [(String, String)]) -> String {
        var all = rows
        if let header {
            all.insert(("-" + String(repeating: "-", count: header.0.count - 1), String(repeating: "-", count: header.1.count)), at: 0)
            all.insert(header, at: 0)
        }
        let single = header == nil
        let cleaned = all.map { row -> (String, String) in
            let left = row.0.trimmingWhitespace()
            let right = row.1.trimmingWhitespace()
            return (left.isEmpty ? "n/a" : left, single ? "" : (right.isEmpty ? "n/a" : right))
        }
        let counts = cleaned.map(\.0.count)
        let width = counts.max() ?? 0
        // Written as bytes: `String(repeating:count:)` for the padding cost more than the rest.
        var text: [UInt8] = []
        for ((left, right), count) in zip(cleaned, counts) {
            text.append(contentsOf: left.utf8)
            if !single {
                text.append(contentsOf: repeatElement(UInt8(ascii: " "), count: width - count + 4))
                text.append(contentsOf: right.utf8)
            }
            text.append(UInt8(ascii: "\n"))
        }
        return String(decoding: text, as: UTF8.self)
    }
}
