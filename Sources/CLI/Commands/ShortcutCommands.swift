import Engine

/// Terminal shortcuts over the engine's paths: `config write pg …` is
/// `write database/config/pg …`, with the same output and exit codes.
enum ShortcutCommands {
    /// A group over one path family: `config`, `roles`, `static-roles`.
    private static func family(_ group: String, folder: String, what: String, kind: ObjectKind,
                               extraVerbs: [Command] = []) -> [Command] {
        let groupCommand = Command(
            path: [group], synopsis: "Manage \(what)s (database/\(folder)/NAME)",
            usage: "dbsecrets \(group) <subcommand> [options] [args]",
            description: "Shortcuts for the \(what)s at database/\(folder)/NAME.",
            examples: [("List them:", "dbsecrets \(group) list")],
            positional: .subcommands, run: { _ in throw CommandFailure.usage("") })
        let write = Command(
            path: [group, "write"], synopsis: "Create or update a \(what)",
            usage: "dbsecrets \(group) write [options] NAME [DATA K=V...]",
            description: "Same as 'dbsecrets write database/\(folder)/NAME [DATA K=V...]'.",
            examples: [("", "dbsecrets \(group) write NAME key=value")],
            flags: CommonFlags.output(field: true), positional: .names(kind),
            run: { inv in
                guard let name = inv.positionals.first else { throw CommandFailure.usage("Not enough arguments (expected 1, got 0)") }
                let data = try KeyValueData(terminal: inv.terminal).parse(Array(inv.positionals.dropFirst()))
                return try DataCommands.write(inv, path: "database/\(folder)/\(name)", data: data)
            })
        let read = Command(
            path: [group, "read"], synopsis: "Read a \(what)",
            usage: "dbsecrets \(group) read [options] NAME",
            description: "Same as 'dbsecrets read database/\(folder)/NAME'.",
            flags: CommonFlags.output(field: true), positional: .names(kind),
            run: { inv in
                try inv.expectArguments(1)
                return try DataCommands.read(inv, path: "database/\(folder)/\(inv.positionals[0])")
            })
        let list = Command(
            path: [group, "list"], synopsis: "List \(what)s",
            usage: "dbsecrets \(group) list [options]",
            description: "Same as 'dbsecrets list database/\(folder)'.",
            flags: CommonFlags.output(field: false),
            run: { inv in
                try inv.expectArguments(0)
                return try DataCommands.list(inv, path: "database/\(folder)")
            })
        let delete = Command(
            path: [group, "delete"], synopsis: "Delete a \(what)",
            usage: "dbsecrets \(group) delete [options] NAME",
            description: "Same as 'dbsecrets delete database/\(folder)/NAME'.",
            flags: CommonFlags.output(field: true), positional: .names(kind),
            run: { inv in
                try inv.expectArguments(1)
                return try DataCommands.delete(inv, path: "database/\(folder)/\(inv.positionals[0])")
            })
        return [groupCommand, write, read, list, delete] + extraVerbs
    }

    private static func action(_ path: [String], enginePath: String, synopsis: String, description: String,
                               kind: ObjectKind, isRead: Bool) -> Command {
        Command(
            path: path, synopsis: synopsis,
            usage: "dbsecrets \(path.joined(separator: " ")) [options] NAME",
            description: description + " Same as 'dbsecrets \(isRead ? "read" : "write -f") database/\(enginePath)/NAME'.",
            flags: CommonFlags.output(field: true), positional: .names(kind),
            run: { inv in
                try inv.expectArguments(1)
                let path = "database/\(enginePath)/\(inv.positionals[0])"
                return isRead ? try DataCommands.read(inv, path: path) : try DataCommands.write(inv, path: path, data: [:])
            })
    }

    static let all: [Command] =
        family("config", folder: "config", what: "connection", kind: .connection, extraVerbs: [
            action(["config", "reset"], enginePath: "reset", synopsis: "Reconnect a connection with its stored configuration",
                   description: "Connects and authenticates with the stored configuration.", kind: .connection, isRead: false),
        ])
        + family("roles", folder: "roles", what: "role", kind: .role)
        + family("static-roles", folder: "static-roles", what: "static role", kind: .staticRole)
        + [
            action(["creds"], enginePath: "creds", synopsis: "Create dynamic credentials for a role",
                   description: "Creates a database user for the role and returns its credentials with a lease.", kind: .role, isRead: true),
            action(["static-creds"], enginePath: "static-creds", synopsis: "Read the current credentials of a static role",
                   description: "Returns the static role's username and current password, rotating first if it is due.", kind: .staticRole, isRead: true),
            action(["rotate-root"], enginePath: "rotate-root", synopsis: "Rotate a connection's root credential",
                   description: "Changes the password of the connection's own user and stores the new one.", kind: .connection, isRead: false),
            action(["rotate-role"], enginePath: "rotate-role", synopsis: "Rotate a static role's password now",
                   description: "Rotates the static role's password immediately.", kind: .staticRole, isRead: false),
        ]
}
