import DBPlugin

/// `database/reload/:plugin_name` (Vault 1.16+): every connection of one plugin reconnected with
/// its stored configuration, as `reset` does for one.
extension Engine {
    static let reloadPath = PathDeclaration(
        [.literal("reload"), .name(field: "plugin_name", of: .pluginName, description: "The plugin_name whose connections to reload.")],
        synopsis: "Reloads all connections using a named database plugin.",
        description: """
        Connects and logs in again, with its stored configuration, every connection whose plugin_name \
        is the one given (or those of them named in connections). Returns the connections reloaded \
        and their count; stops at the first that fails, naming those done before it.
        """,
        fields: [
            FieldDeclaration("connections", .commaList,
                             "Only these connections (names, comma-separated or a list); all of the plugin's when not given.",
                             suggestions: .objects(.connection)),
        ],
        operations: [.write: { engine, request in
            try engine.reloadPlugin(request.captures["plugin_name"] ?? "", only: request.fields.strings("connections"))
        }])

    func reloadPlugin(_ pluginName: String, only: [String]?) throws -> EngineResponse? {
        guard !pluginName.isEmpty else { throw EngineError.invalid("plugin_name is required") }
        var reloaded: [String] = []
        for name in try connections.list() where only.map({ $0.contains(name) }) ?? true {
            guard let config = try connections.read(name), config.pluginName == pluginName else { continue }
            do {
                _ = try resetConnection(name)
            } catch let error as EngineError {
                let done = reloaded.isEmpty ? "" : "successfully reloaded \(reloaded.count) connection(s): \(reloaded.joined(separator: ", ")); "
                throw EngineError(error.kind, "\(done)failed to reload connection \"\(name)\": \(error.message)")
            }
            reloaded.append(name)
        }
        var response = EngineResponse(data: ["connections": .array(reloaded.map { .string($0) }), "count": .int(reloaded.count)])
        if reloaded.isEmpty { response.warnings = ["no connections were found with plugin_name \"\(pluginName)\""] }
        return response
    }
}
