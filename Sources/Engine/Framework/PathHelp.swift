import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Vault's `help` operation (`vault path-help PATH`, `GET /v1/PATH?help=1`): the text its framework
/// renders from a path's declaration (`pathHelpTemplate`), or from a backend's for its mount root
/// (`rootHelpTemplate`).
extension Engine {
    public func help(_ path: String) throws -> String {
        guard let (resolved, relative) = Self.mount(of: path, in: try resolvedMounts()) else { throw Self.noRoute(path) }
        if relative.isEmpty { return Self.rootHelp(resolved.mount.backend) }
        guard let (declaration, _) = Self.route(relative, in: resolved.mount.backend) else { throw Self.noRoute(path) }
        return Self.pathHelp(declaration, request: relative)
    }

    static func pathHelp(_ declaration: PathDeclaration, request: String) -> String {
        var text = "Request:        \(request)\nMatching Route: \(declaration.routePattern)\n\n"
        text += orPlaceholder(declaration.synopsis, "<no synopsis>") + "\n\n"
        let fields = declaration.fields.sorted { $0.name < $1.name }
        if !fields.isEmpty {
            text += "## PARAMETERS\n"
            for field in fields {
                text += "\n" + indent(4, field.name) + " (\(field.type.vaultName))\n\n"
                text += indent(8, orPlaceholder(field.helpText, "<no description>")) + "\n"
            }
        }
        text += "\n## DESCRIPTION\n\n" + orPlaceholder(declaration.description, "<no description>")
        return text.trimmingWhitespaceAndNewlines() + "\n"
    }

    static func rootHelp(_ backend: Backend) -> String {
        var text = "## DESCRIPTION\n\n" + backend.help.trimmingWhitespaceAndNewlines() + "\n\n"
        text += """
        ## PATHS

        The following paths are supported by this backend. To view help for
        any of the paths below, use the help command with any route matching
        the path pattern. Note that depending on the policy of your auth token,
        you may or may not be able to access certain paths.


        """
        for declaration in backend.paths.sorted(by: { $0.routePattern < $1.routePattern }) {
            text += indent(4, declaration.routePattern) + "\n" + indent(8, declaration.synopsis) + "\n\n"
        }
        return text.trimmingWhitespaceAndNewlines() + "\n"
    }

    private static func orPlaceholder(_ text: String, _ placeholder: String) -> String {
        let trimmed = text.trimmingWhitespaceAndNewlines()
        return trimmed.isEmpty ? placeholder : trimmed
    }

    /// Vault's template function `indent`: every line prefixed, the last newline dropped.
    private static func indent(_ count: Int, _ text: String) -> String {
        let prefix = String(repeating: " ", count: count)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { prefix + $0 }.joined(separator: "\n")
    }
}
