import Engine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Answers "what can come next" for a partial command line, from the command declarations and
/// the names in the state directory. Every shell's script asks this one place, so the shells
/// cannot disagree.
///
/// Candidates that end in `/` or `=` are meant to be continued: scripts add no space after them.
struct Completer {
    let commands: [Command]
    /// Where the engine's paths are: their declarations give the paths, names and data keys.
    let mounts: [Mount]
    let environment: [String: String]

    /// `words` are the words after the program name; the last one is the word being completed
    /// (empty after a space).
    func candidates(_ words: [String]) -> [String] {
        let current = words.last ?? ""
        let before = Array(words.dropLast())
        let visible = commands.filter { !$0.hidden }
        let command = visible.filter { $0.path.count <= before.count && Array(before.prefix($0.path.count)) == $0.path }
            .max { $0.path.count < $1.path.count }
        guard let command else {
            return before.isEmpty ? matching(visible.filter { $0.path.count == 1 }.map(\.name).sorted(), current) : []
        }
        let line = CompletedLine(command: command, words: Array(before.dropFirst(command.path.count)))
        if let flag = line.pendingFlag {
            return matching(values(of: flag, command: command, typed: current, line: line), current)
        }
        if current.hasPrefix("-") && !line.afterDashes {
            return matching(flagCandidates(command, typed: current, line: line), current)
        }
        let names = StateNames(environment: environment, stateDirFlag: line.stateDir, mounts: mounts)
        // Paths under the mounts the state directory has (secrets enable -path=…), not only database/.
        let mounts = names.mountsInForce
        switch command.positional {
        case .subcommands:
            guard line.positionals.isEmpty else { return [] }
            return matching(subcommands(of: command.path), current)
        case .commands:
            return matching(subcommands(of: line.positionals), current)
        case .shells:
            return line.positionals.isEmpty ? matching(CompletionScripts.shells, current) : []
        case .names(let kind):
            if line.positionals.isEmpty { return matching(names.names(kind), current) }
            guard command.path.last == "write", let home = DeclaredPath.home(of: kind, in: mounts) else { return [] }
            return matching(dataCandidates(home.declaration, in: home.mount, given: Array(line.positionals.dropFirst()), names, current), current)
        case .leaseID:
            return line.positionals.isEmpty ? leaseSegments(names, current) : []
        case .enginePath:
            guard let operation = EngineRequest.Operation(rawValue: command.path[0]) else { return [] }
            if line.positionals.isEmpty { return enginePaths(operation, names, current, mounts: mounts) }
            let path = sanitizePath(line.positionals[0])
            guard operation == .write, let target = DeclaredPath.matching(path, in: mounts),
                  target.declaration.operations.contains(.write) else { return [] }
            return matching(dataCandidates(target.declaration, in: target.mount, given: Array(line.positionals.dropFirst()), names, current), current)
        case .helpPath:
            return line.positionals.isEmpty ? enginePaths(nil, names, current, mounts: mounts) : []
        case .none:
            return []
        }
    }

    private func matching(_ candidates: [String], _ typed: String) -> [String] {
        var seen: Set<String> = []
        return candidates.filter { $0.hasPrefix(typed) && seen.insert($0).inserted }
    }

    private func subcommands(of path: [String]) -> [String] {
        commands.filter { !$0.hidden && $0.path.count == path.count + 1 && Array($0.path.prefix(path.count)) == path }
            .map { $0.path.last! }
            .sorted()
    }

    /// Flag names with one dash; flags that take a value are offered as `-name=` so the value
    /// follows without a space. After `-name=`, the flag's values.
    private func flagCandidates(_ command: Command, typed: String, line: CompletedLine) -> [String] {
        if let eq = typed.firstIndex(of: "=") {
            let written = String(typed[..<eq])
            guard let flag = CompletedLine.flag(named: String(written.drop { $0 == "-" }), in: command), flag.kind != .bool else { return [] }
            let value = String(typed[typed.index(after: eq)...])
            return values(of: flag, command: command, typed: value, line: line).map { written + "=" + $0 }
        }
        return command.flags.sorted { $0.name < $1.name }.map { $0.kind == .bool ? "-\($0.name)" : "-\($0.name)=" }
    }

    private func values(of flag: FlagSpec, command: Command, typed: String, line: CompletedLine) -> [String] {
        if flag.name == CommonFlags.stateDir.name { return FileCandidates(environment: environment).matching(typed, folders: true) }
        if flag.name == CommonFlags.format.name && command.path != ["read"] {
            return flag.values.filter { $0 != "raw" }
        }
        return flag.values
    }

    /// Before a known prefix, the prefixes the verb can use (every one, and the mounts, for
    /// `path-help`); after one, the prefix followed by each name of the right kind (list only
    /// descends into lease ids).
    private func enginePaths(_ operation: EngineRequest.Operation?, _ names: StateNames, _ typed: String, mounts: [Mount]) -> [String] {
        let paths = DeclaredPath.all(mounts).filter { path in operation.map(path.takes) ?? true }
        let prefixes = (operation == nil ? mounts.map(\.path) : []) + paths.map(\.prefix)
        let mountPaths = Set(mounts.map(\.path))
        guard let prefix = prefixes.filter({ typed.hasPrefix($0) && !mountPaths.contains($0) }).max(by: { $0.count < $1.count }),
              let path = paths.first(where: { $0.prefix == prefix && $0.capturesSomething }) ?? paths.first(where: { $0.prefix == prefix }) else {
            return matching(prefixes, typed)
        }
        switch path.names {
        case .objects(let kind):
            guard operation != .list else { return [] }
            return matching(names.names(kind, in: path.mount).map { prefix + $0 }, typed)
        case .leaseIDs:
            let segments = leaseSegments(names, String(typed.dropFirst(prefix.count)))
            return segments.filter { operation != .list || $0.hasSuffix("/") }.map { prefix + $0 }
        case .none:
            return []
        }
    }

    /// `write` data: `key=` for the fields of the path not given yet, then the values the
    /// declaration suggests (a connection for db_name, a plugin for plugin_name), and files after `@`.
    private func dataCandidates(_ path: PathDeclaration, in mount: Mount, given: [String], _ names: StateNames, _ typed: String) -> [String] {
        let files = FileCandidates(environment: environment)
        guard let eq = typed.firstIndex(of: "=") else {
            if typed.hasPrefix("@") { return files.matching(String(typed.dropFirst()), folders: false).map { "@" + $0 } }
            let usedKeys = Set(given.compactMap { word in word.firstIndex(of: "=").map { String(word[..<$0]) } })
            return path.dataFields.map(\.name).filter { !usedKeys.contains($0) }.map { $0 + "=" }
        }
        let key = String(typed[..<eq])
        let value = String(typed[typed.index(after: eq)...])
        if value.hasPrefix("@") {
            return files.matching(String(value.dropFirst()), folders: false).map { key + "=@" + $0 }
        }
        let values: [String]
        switch path.field(named: key)?.suggestions ?? .none {
        case .objects(let kind): values = names.names(kind, in: mount)
        case .pluginNames: values = BuiltinPlugins.catalog.names
        case .choices(let choices): values = choices
        case .none: values = []
        }
        return values.map { key + "=" + $0 }
    }

    /// Lease ids one segment at a time, as paths complete: `database/creds/` offers
    /// `database/creds/ro/`, which offers the ids under it.
    private func leaseSegments(_ names: StateNames, _ typed: String) -> [String] {
        let ids = names.leaseIDs(prefix: typed)
        var seen: Set<String> = []
        return ids.compactMap { id -> String? in
            let tail = id.dropFirst(typed.count)
            let segment = tail.firstIndex(of: "/").map { String(id.prefix(typed.count)) + tail[...$0] } ?? id
            return seen.insert(segment).inserted ? segment : nil
        }.sorted()
    }
}

/// The words between the command and the word being completed, read as the parser would: flags
/// until the first positional (or `--`), and `-format`/`-state-dir` anywhere, as the pre-scan
/// honours them.
struct CompletedLine {
    var positionals: [String] = []
    var stateDir: String?
    /// A flag written without `=` that still waits for its value.
    var pendingFlag: FlagSpec?
    var afterDashes = false

    init(command: Command, words: [String]) {
        var flagsEnded = false
        for word in words {
            if let flag = pendingFlag {
                if flag.name == CommonFlags.stateDir.name { stateDir = word }
                pendingFlag = nil
                continue
            }
            if afterDashes {
                positionals.append(word)
                continue
            }
            if word == "--" {
                afterDashes = true
                continue
            }
            if word.hasPrefix("-"), word != "-" {
                let body = word.drop { $0 == "-" }
                let name = String(body.prefix { $0 != "=" })
                let isGlobal = CommonFlags.globalNames.contains(name)
                guard !flagsEnded || isGlobal, let flag = Self.flag(named: name, in: command) else {
                    if flagsEnded { positionals.append(word) }
                    continue
                }
                if let eq = body.firstIndex(of: "=") {
                    if flag.name == CommonFlags.stateDir.name { stateDir = String(body[body.index(after: eq)...]) }
                } else if flag.kind != .bool {
                    pendingFlag = flag
                }
                continue
            }
            flagsEnded = true
            positionals.append(word)
        }
    }

    /// The command's flag by name or alias; the global flags are known to every command.
    static func flag(named name: String, in command: Command) -> FlagSpec? {
        command.flags.first { $0.name == name || $0.aliases.contains(name) }
            ?? [CommonFlags.format, CommonFlags.stateDir].first { $0.name == name }
    }
}
