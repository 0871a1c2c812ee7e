import Engine

/// `path-help`, Vault's help for a path: what the engine's declaration of it says.
enum PathHelpCommands {
    static let pathHelp = Command(
        path: ["path-help"], synopsis: "Retrieve API help for paths",
        usage: "dbsecrets path-help PATH",
        description: """
        Prints the help of the path, as vault path-help does: its synopsis, its parameters with their \
        types and descriptions, and what it does. For a mount (database/, sys/) it lists the paths \
        there. The text comes from the same declaration that routes and checks requests.
        """,
        examples: [
            ("Show the fields of a role:", "dbsecrets path-help database/roles/my-role"),
            ("List the paths of the engine:", "dbsecrets path-help database/"),
        ],
        flags: CommonFlags.request,
        positional: .helpPath,
        run: { inv in
            try inv.expectArguments(1)
            try inv.printInstead(VaultAPIRequest(method: "GET", path: sanitizePath(inv.positionals[0]), query: [("help", "1")]))
            do {
                inv.terminal.out(try inv.makeEngine().help(sanitizePath(inv.positionals[0])))
            } catch let error as EngineError {
                throw CommandFailure.engine("Error retrieving help: ", error)
            }
            return 0
        })

    static let all = [pathHelp]
}
