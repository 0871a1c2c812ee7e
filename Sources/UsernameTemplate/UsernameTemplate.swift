/// Vault's username template language (`sdk/helper/template`): the part of Go's `text/template`
/// that username templates use, with Vault's functions.
///
/// Supported: literal text; `{{ … }}` actions with `{{-`/`-}}` trimming and `{{/* comments */}}`;
/// `.DisplayName`, `.RoleName` and `.`; pipelines `x | f a b` (the piped value is the last argument);
/// parenthesised sub-pipelines; string (`"…"`, `` `…` ``), integer and character literals, `true`,
/// `false`, `nil`; Vault's `random`, `truncate`, `truncate_sha256`, `uppercase`, `lowercase`,
/// `replace`, `sha256`, `base64`, `unix_time`, `unix_time_millis`, `timestamp`, `uuid`; and Go's
/// `printf`, `print`, `println`. Control actions (`if`, `range`, `with`, …) and variables are rejected.
///
/// Error texts follow Vault's: `unable to parse template: template: template:LINE:COL: …` from
/// `init`, and `unable to apply template: template: template:LINE:COL: executing "template" at <…>: …`
/// from `render`. COL is Go's zero-based byte offset within the line.
public struct UsernameTemplate: Sendable {
    public struct Error: Swift.Error, Sendable, CustomStringConvertible {
        public var message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    public let source: String
    private let nodes: [TemplateNode]

    public init(_ source: String) throws {
        guard !source.isEmpty else { throw Error("missing template") }
        self.source = source
        do {
            nodes = try TemplateParser.parse(source) { TemplateFunctions.all[$0] != nil }
        } catch {
            let location = TemplateLocation.describe(offset: error.offset, in: source)
            throw Error("unable to parse template: template: \(location): \(error.message)")
        }
    }

    /// Renders with the current time and the system's cryptographic random generator.
    public func render(displayName: String, roleName: String) throws -> String {
        try render(displayName: displayName, roleName: roleName, environment: .system)
    }

    func render(displayName: String, roleName: String, environment: TemplateEnvironment) throws -> String {
        let evaluator = TemplateEvaluator(
            source: source, metadata: .metadata(displayName: displayName, roleName: roleName), environment: environment)
        do {
            return try evaluator.render(nodes)
        } catch {
            throw Error("unable to apply template: \(error.message)")
        }
    }
}
