// STUB: the password-policy helper replaces this with the HCL parser and generator.
public struct PasswordPolicy: Sendable {
    public struct Error: Swift.Error, Sendable, CustomStringConvertible {
        public var message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }
    public init(hcl: String) throws {}
    public static let vaultDefault = PasswordPolicy()
    private init() {}
    public func generate() throws -> String {
        let chars = Array("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        return String((0..<20).map { _ in chars.randomElement()! })
    }
}
