import DBPlugin
import Engine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `read`, `write`, `list`, `delete`: the four verbs of `vault` on engine paths.
enum DataCommands {
    static let write = Command(
        path: ["write"], synopsis: "Write data, configuration, and secrets",
        usage: "dbsecrets write [options] PATH [DATA K=V...]",
        description: """
        Writes data to the engine at the given path: connections, roles, static roles, rotations, \
        password policies, lease operations.

        Data is specified as "key=value" pairs. If the value begins with an "@", then it is loaded \
        from a file. If the value is "-", it is read from stdin. A lone "@file.json" or "-" merges \
        a JSON object; repeating a key makes a list.
        """,
        examples: [
            ("Configure a PostgreSQL connection:",
             "dbsecrets write database/config/pg plugin_name=postgresql-database-plugin connection_url='postgresql://{{username}}:{{password}}@127.0.0.1:5432/postgres' username=vault password=- allowed_roles='*'"),
            ("Create a role:",
             "dbsecrets write database/roles/ro db_name=pg default_ttl=1h creation_statements=@create.sql"),
            ("Rotate the root credential:", "dbsecrets write -f database/rotate-root/pg"),
        ],
        flags: CommonFlags.output(field: true) + [CommonFlags.force],
        positional: .enginePath,
        run: { try runWrite($0) })

    static let read = Command(
        path: ["read"], synopsis: "Read data and retrieves secrets",
        usage: "dbsecrets read [options] PATH",
        description: "Reads data from the engine at the given path: connections, roles, and credentials.",
        examples: [
            ("Get dynamic credentials:", "dbsecrets read database/creds/ro"),
            ("Get only the password of a static role:", "dbsecrets read -field=password database/static-creds/app"),
        ],
        flags: CommonFlags.output(field: true),
        positional: .enginePath,
        run: { try runRead($0) })

    static let list = Command(
        path: ["list"], synopsis: "List data or secrets",
        usage: "dbsecrets list [options] PATH",
        description: "Lists the names at the given path: connections, roles, static roles, password policies.",
        examples: [("List the roles:", "dbsecrets list database/roles")],
        flags: [CommonFlags.detailed] + CommonFlags.output(field: false),
        positional: .enginePath,
        run: { try runList($0) })

    static let delete = Command(
        path: ["delete"], synopsis: "Delete secrets and configuration",
        usage: "dbsecrets delete [options] PATH",
        description: "Deletes the object at the given path. Deleting what does not exist succeeds.",
        examples: [("Delete a role:", "dbsecrets delete database/roles/ro")],
        flags: CommonFlags.output(field: true),
        positional: .enginePath,
        run: { try runDelete($0) })

    static func runWrite(_ inv: Invocation) throws -> Int32 {
        guard let rawPath = inv.positionals.first else { throw CommandFailure.usage("Not enough arguments (expected 1, got 0)") }
        let path = sanitizePath(rawPath)
        let data = try KeyValueData(terminal: inv.terminal).parse(Array(inv.positionals.dropFirst()))
        if inv.positionals.count == 1 && !inv.arguments.bool("force") {
            throw CommandFailure.usage("Must supply data or use -force")
        }
        return try write(inv, path: path, data: data)
    }

    static func write(_ inv: Invocation, path: String, data: [String: JSONValue]) throws -> Int32 {
        let response = try handle(inv, EngineRequest(.write, path, data: data), errorPrefix: "Error writing data to \(path): ")
        return try printWriteResult(inv, response, success: "Success! Data written to: \(path)")
    }

    /// Vault prints "Success!" only for an empty response in table format; anything else is shown.
    static func printWriteResult(_ inv: Invocation, _ response: EngineResponse?, success: String) throws -> Int32 {
        guard let response, response.data != nil || !response.warnings.isEmpty || !response.leaseID.isEmpty else {
            if inv.format == .table { inv.terminal.out(success + "\n") }
            return 0
        }
        try printResponse(inv, response)
        return 0
    }

    static func printResponse(_ inv: Invocation, _ response: EngineResponse) throws {
        if let field = inv.arguments.string("field") {
            try inv.printer.printField(field, of: response)
        } else {
            inv.printer.printSecret(response)
        }
    }

    static func runRead(_ inv: Invocation) throws -> Int32 {
        guard let rawPath = inv.positionals.first else { throw CommandFailure.usage("Not enough arguments (expected 1, got 0)") }
        let path = sanitizePath(rawPath)
        let data = try KeyValueData(terminal: inv.terminal).parse(Array(inv.positionals.dropFirst()))
        return try read(inv, path: path, data: data)
    }

    static func read(_ inv: Invocation, path: String, data: [String: JSONValue] = [:]) throws -> Int32 {
        let prefix = inv.format == .raw ? "Error reading: \(path): " : "Error reading \(path): "
        guard let response = try handle(inv, EngineRequest(.read, path, data: data), errorPrefix: prefix) else {
            throw CommandFailure.noValue("No value found at \(path)")
        }
        if inv.format == .raw {
            inv.printer.printRawBody(response)
        } else {
            try printResponse(inv, response)
        }
        return 0
    }

    static func runList(_ inv: Invocation) throws -> Int32 {
        try inv.expectArguments(1)
        return try list(inv, path: sanitizePath(inv.positionals[0]))
    }

    static func list(_ inv: Invocation, path: String) throws -> Int32 {
        let response = try handle(inv, EngineRequest(.list, path), errorPrefix: "Error listing \(path): ")
        try inv.printer.printList(response, path: path)
        return 0
    }

    static func runDelete(_ inv: Invocation) throws -> Int32 {
        guard let rawPath = inv.positionals.first else { throw CommandFailure.usage("Not enough arguments (expected at least 1, got 0)") }
        return try delete(inv, path: sanitizePath(rawPath))
    }

    static func delete(_ inv: Invocation, path: String) throws -> Int32 {
        let response = try handle(inv, EngineRequest(.delete, path), errorPrefix: "Error deleting \(path): ")
        return try printWriteResult(inv, response, success: "Success! Data deleted (if it existed) at: \(path)")
    }

    /// One request to the engine, as the verb sends it to Vault; its refusal becomes a failure
    /// with Vault's prefix for the verb.
    static func handle(_ inv: Invocation, _ request: EngineRequest, errorPrefix: String) throws -> EngineResponse? {
        try inv.send(.forVerb(request.operation, path: request.path, data: request.data), request, errorPrefix: errorPrefix)
    }
}
