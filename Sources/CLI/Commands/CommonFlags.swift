/// Flags shared by several commands, declared once.
enum CommonFlags {
    static let format = FlagSpec(
        name: "format", kind: .string, group: "Output Options",
        usage: "Print the output in the given format. Valid formats are \"table\", \"json\", or \"yaml\". \"raw\" is allowed for 'dbsecrets read' operations only.",
        defaultValue: "table", values: ["table", "json", "yaml", "raw"],
        environmentVariable: "DBSECRETS_FORMAT")

    static let field = FlagSpec(
        name: "field", kind: .string, group: "Output Options",
        usage: "Print only the field with the given name. Specifying this option will take precedence over other formatting directives. The result will not have a trailing newline making it ideal for piping to other processes.")

    static let detailed = FlagSpec(
        name: "detailed", kind: .bool, group: "Output Options",
        usage: "Accepted for compatibility with Vault; list output is the same either way.")

    static let force = FlagSpec(
        name: "force", aliases: ["f"], kind: .bool, group: "Command Options",
        usage: "Allow the operation to continue with no key=value pairs. This allows writing to keys that do not need or expect data.")

    static let stateDir = FlagSpec(
        name: "state-dir", kind: .string, group: "Global Options",
        usage: "Folder holding dbsecrets' state (connections, roles, leases). The default is $XDG_STATE_HOME/dbsecrets, else ~/.local/state/dbsecrets.",
        environmentVariable: "DBSECRETS_STATE_DIR")

    static let outputCurlString = FlagSpec(
        name: "output-curl-string", kind: .bool, group: "Global Options",
        usage: "Instead of executing the request, print an equivalent cURL command string against Vault's HTTP API (VAULT_ADDR, else https://127.0.0.1:8200) and exit. Secret values in the body are replaced by a placeholder.")

    static let outputPolicy = FlagSpec(
        name: "output-policy", kind: .bool, group: "Global Options",
        usage: "Instead of executing the request, print an example HCL policy that a Vault token would need to run this command and exit.")

    /// Flags that `-format` and `-state-dir` style pre-scanning finds anywhere on the line.
    static let globalNames: Set<String> = ["format", "state-dir", "detailed", "output-curl-string", "output-policy"]
    /// Those that take no value.
    static let globalBoolNames: Set<String> = ["detailed", "output-curl-string", "output-policy"]

    /// What every command that sends a request takes.
    static let request = [stateDir, outputCurlString, outputPolicy]

    static func output(field: Bool) -> [FlagSpec] {
        (field ? [Self.field, format] : [format]) + request
    }
}
