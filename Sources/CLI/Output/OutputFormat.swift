/// `-format`: table (default), json, yaml (or yml). `raw` is read-only.
enum OutputFormat: String, CaseIterable {
    case table, json, yaml, raw

    static let names = ["table", "json", "yaml", "yml", "raw"]
    /// What `export` prints by default (a shell script), as its table format.
    static let script = "script"

    init(parsing text: String) throws {
        switch text.lowercased() {
        case "table": self = .table
        case "json": self = .json
        case "yaml", "yml": self = .yaml
        case "raw": self = .raw
        case "pretty": throw CommandFailure.usage("Could not parse output: cannot use the pretty formatter for this type")
        default: throw CommandFailure.usage("Invalid output format: \(text)")
        }
    }
}
