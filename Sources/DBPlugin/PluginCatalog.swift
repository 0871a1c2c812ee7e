/// How a plugin offers itself to dbsecrets: the `plugin_name`s it answers to, and a fresh instance
/// for one of them. Every plugin registers this one way (`BuiltinPlugins` lists them).
public struct PluginRegistration: Sendable {
    public var names: [String]
    public var make: @Sendable (_ pluginName: String) -> DatabasePlugin

    public init(names: [String], make: @escaping @Sendable (_ pluginName: String) -> DatabasePlugin) {
        self.names = names
        self.make = make
    }
}

/// Maps a `plugin_name` to the registration that makes its instances.
public struct PluginCatalog: Sendable {
    private var registrations: [String: PluginRegistration] = [:]

    public init(_ registrations: [PluginRegistration] = []) {
        for registration in registrations { register(registration) }
    }

    public mutating func register(_ registration: PluginRegistration) {
        for name in registration.names { registrations[name] = registration }
    }

    public func makePlugin(named name: String) -> DatabasePlugin? {
        registrations[name].map { $0.make(name) }
    }

    public var names: [String] { registrations.keys.sorted() }
}
