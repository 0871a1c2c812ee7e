// STUB: the templates helper replaces this with Vault's template language.
public struct UsernameTemplate: Sendable {
    public struct Error: Swift.Error, Sendable, CustomStringConvertible {
        public var message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }
    public let source: String
    public init(_ source: String) throws { self.source = source }
    public func render(displayName: String, roleName: String) throws -> String { source }
}
