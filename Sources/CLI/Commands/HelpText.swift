import Basics
/// Help in Vault's layout, from the command declarations.
enum HelpText {
    static func forCommand(_ command: Command, subcommands: [Command]) -> String {
        var text = "Usage: \(command.usage)\n\n"
        for paragraph in command.description.components(separatedBy: "\n\n") {
            text += TextWrap.wrapWithPadding(paragraph, pad: 2) + "\n\n"
        }
        for (title, example) in command.examples {
            if !title.isEmpty { text += TextWrap.wrapWithPadding(title, pad: 2) + "\n\n" }
            text += "      $ \(example.replacingEvery("\n", with: "\n      $ "))\n\n"
        }
        if !subcommands.isEmpty {
            text += "Subcommands:\n"
            let width = subcommands.map { $0.path.last!.count }.max() ?? 0
            for sub in subcommands.sorted(by: { $0.name < $1.name }) {
                let name = sub.path.last!
                text += "    \(name)\(String(repeating: " ", count: width - name.count + 4))\(sub.synopsis)\n"
            }
            text += "\n"
        }
        // Vault's groups first and last; a command's own groups (the server's limits) between.
        var groups = ["Output Options", "Command Options"]
        for flag in command.flags where !groups.contains(flag.group) && flag.group != "Global Options" { groups.append(flag.group) }
        for group in groups + ["Global Options"] {
            let flags = command.flags.filter { $0.group == group }.sorted { $0.name < $1.name }
            guard !flags.isEmpty else { continue }
            text += "\(group):\n\n"
            for flag in flags {
                text += flag.kind == .bool ? "  -\(flag.name)\n" : "  -\(flag.name)=<\(flag.placeholder)>\n"
                text += TextWrap.wrapWithPadding(usageSentence(flag), pad: 6) + "\n\n"
            }
        }
        return text.trimmingWhitespaceAndNewlines() + "\n"
    }

    /// A flag's usage with Vault's suffixes: alias, default, environment variable.
    static func usageSentence(_ flag: FlagSpec) -> String {
        var usage = flag.usage
        if let alias = flag.aliases.first { usage += " This is aliased as \"-\(alias)\"." }
        if flag.kind == .bool {
            usage += " The default is false."
        } else if !flag.defaultValue.isEmpty {
            usage += " The default is \(flag.defaultValue)."
        }
        if let env = flag.environmentVariable { usage += " This can also be specified via the \(env) environment variable." }
        return usage
    }

    static func topLevel(_ commands: [Command]) -> String {
        let common = ["read", "write", "list", "delete", "lease"]
        let visible = commands.filter { !$0.hidden && $0.path.count == 1 }
        let width = visible.map { $0.name.count }.max() ?? 0
        func line(_ c: Command) -> String {
            "    \(c.name)\(String(repeating: " ", count: width - c.name.count + 4))\(c.synopsis)\n"
        }
        var text = "Usage: dbsecrets <command> [args]\n\n"
        text += "dbsecrets is Vault's database secrets engine as a local command: it hands out short-lived\n"
        text += "database users with leases and rotates passwords, keeping its state in a local folder.\n\n"
        text += "Common commands:\n"
        for name in common { if let c = visible.first(where: { $0.name == name }) { text += line(c) } }
        text += "\nOther commands:\n"
        for c in visible.filter({ !common.contains($0.name) }).sorted(by: { $0.name < $1.name }) { text += line(c) }
        text += "\nRun 'dbsecrets <command> -h' for a command's flags and examples; 'man dbsecrets' for everything.\n"
        return text
    }
}
