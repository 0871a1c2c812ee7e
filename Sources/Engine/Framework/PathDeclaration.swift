import DBPlugin

/// One path family, declared once as Vault's `framework.Path` declares it: its pattern (relative to
/// the mount, so the same declaration serves the engine wherever it is mounted), its fields, its
/// operations and its help. From this value come routing, field parsing and type errors, the
/// unknown-field warning, `path-help`, the man page's path list and shell completion of data keys.
public struct PathDeclaration: Sendable {
    public typealias Handler = @Sendable (Engine, PathRequest) throws -> EngineResponse?

    /// The segments after the mount, e.g. `roles/` + a role name.
    public let pattern: [PathSegment]
    /// One line, Vault's `HelpSynopsis`.
    public let synopsis: String
    /// A paragraph or more, Vault's `HelpDescription`.
    public let description: String
    /// The fields a request may carry in its data, besides those the pattern captures.
    public let dataFields: [FieldDeclaration]
    /// Keys outside `dataFields` are not unknown but the path's own business (a connection's
    /// plugin parameters): no unrecognized-parameters warning, and `FieldData.others` has them.
    public let takesArbitraryInput: Bool
    /// A read that changes the mount's state (creds creates a user and its lease; static-creds
    /// may rotate): it holds the mount's lock like a write, so a disable never misses what it made.
    public let readChangesState: Bool
    let handlers: [EngineRequest.Operation: Handler]

    public init(_ pattern: [PathSegment], synopsis: String, description: String, fields: [FieldDeclaration] = [],
                takesArbitraryInput: Bool = false, readChangesState: Bool = false,
                operations: [EngineRequest.Operation: Handler]) {
        self.pattern = pattern
        self.synopsis = synopsis
        self.description = description
        self.dataFields = fields
        self.takesArbitraryInput = takesArbitraryInput
        self.readChangesState = readChangesState
        self.handlers = operations
    }

    /// Whether a request of `operation` may change what the mount holds.
    func changesState(_ operation: EngineRequest.Operation) -> Bool {
        operation == .write || operation == .delete || (operation == .read && readChangesState)
    }

    /// The operations the path serves, in Vault's order.
    public var operations: [EngineRequest.Operation] {
        [.read, .write, .delete, .list].filter { handlers[$0] != nil }
    }

    /// Every field, those the pattern captures first (Vault lists both in `path-help`).
    public var fields: [FieldDeclaration] {
        pattern.compactMap(\.capturedField) + dataFields
    }

    public func field(named name: String) -> FieldDeclaration? {
        fields.first { $0.name == name }
    }

    /// The pattern as the documentation writes it: `roles/NAME`, `leases/renew[/ID]`.
    public var documentedPattern: String {
        pattern.map(\.documented).joined()
    }

    /// The pattern as Vault's `path-help` prints its route: `^roles/(?P<name>\w(([\w-.]+)?\w)?)$`.
    public var routePattern: String {
        "^" + pattern.map(\.regex).joined() + "$"
    }

    /// The kind of object the last name segment names, if any (what completion offers there).
    public var objectKind: ObjectKind? {
        pattern.last.flatMap { segment in
            if case .name(_, let kind, _) = segment { return kind }
            return nil
        }
    }
}

/// A piece of a path pattern. A captured segment includes the slash before it: `roles` then a
/// name matches `roles/x`; `leases/renew` then an optional rest matches `leases/renew` and
/// `leases/renew/database/creds/ro/abc`.
public enum PathSegment: Sendable, Equatable {
    /// Fixed text, e.g. `roles` or `/generate`.
    case literal(String)
    /// `/` and one segment naming an object, checked against Vault's name rule; captured as `field`.
    case name(field: String, of: ObjectKind, description: String)
    /// `/` and the rest of the path, slashes included (a lease id, a prefix); when `optional`,
    /// the path may also end before the slash. Captured as `field` ("" when absent).
    case rest(field: String, placeholder: String, optional: Bool, description: String)

    var capturedField: FieldDeclaration? {
        switch self {
        case .literal: return nil
        case .name(let field, _, let description), .rest(let field, _, _, let description):
            return FieldDeclaration(field, .string, description)
        }
    }

    var documented: String {
        switch self {
        case .literal(let text): return text
        case .name: return "/NAME"
        case .rest(_, let placeholder, let optional, _): return optional ? "[/\(placeholder)]" : "/\(placeholder)"
        }
    }

    var regex: String {
        switch self {
        case .literal(let text): return text
        case .name(let field, _, _): return "/(?P<\(field)>\\w(([\\w-.]+)?\\w)?)"
        case .rest(let field, _, let optional, _): return optional ? "(/(?P<\(field)>.*))?" : "/(?P<\(field)>.+)"
        }
    }
}

/// What a name in a path names: what completion lists from the state directory there.
public enum ObjectKind: String, Sendable, CaseIterable {
    case connection, role, staticRole, passwordPolicy
    /// A `plugin_name` of the catalog (not a stored object).
    case pluginName
}

/// A request on its way to a handler: the names the pattern captured, and the data fields, parsed
/// and type-checked against the declaration before the handler runs.
public struct PathRequest: Sendable {
    public let operation: EngineRequest.Operation
    /// The path relative to the mount, as Vault's `req.Path`.
    public let path: String
    public let captures: [String: String]
    public let fields: FieldData

    /// The object name the pattern captured (already checked against Vault's name rule).
    public var name: String { captures["name"] ?? "" }
}

/// A set of path declarations served together, Vault's `framework.Backend`: the database
/// secrets engine, or the `sys/` paths it relies on.
public struct Backend: Sendable {
    public let name: String
    public let help: String
    /// Built when a request reaches the backend: a command on `database/` never builds the
    /// `sys/` declarations (the built-in backends are `static let`s, so theirs are built once).
    private let makePaths: @Sendable () -> [PathDeclaration]

    public var paths: [PathDeclaration] { makePaths() }

    public init(name: String, help: String, paths: @autoclosure @escaping @Sendable () -> [PathDeclaration]) {
        self.name = name
        self.help = help
        self.makePaths = paths
    }
}

/// Where a backend is reachable: `database/` for the engine, `sys/` for leases and policies.
public struct Mount: Sendable {
    /// With its trailing slash, e.g. `database/`.
    public let path: String
    public let backend: Backend

    public init(path: String, backend: Backend) {
        self.path = path.hasSuffix("/") ? path : path + "/"
        self.backend = backend
    }
}
