/// Maps a `plugin_name` to a way of making a fresh plugin instance.
public struct PluginCatalog: Sendable {
    public typealias Factory = @Sendable () -> DatabasePlugin

    private var factories: [String: Factory]

    public init(_ factories: [String: Factory] = [:]) {
        self.factories = factories
    }

    public mutating func register(_ name: String, _ factory: @escaping Factory) {
        factories[name] = factory
    }

    public func makePlugin(named name: String) -> DatabasePlugin? {
        factories[name].map { $0() }
    }

    public var names: [String] { factories.keys.sorted() }
}
