import DBPlugin

/// Every request goes through here, as through Vault's `framework.Backend.HandleRequest`: find the
/// mount, then the declaration whose pattern matches the rest of the path; check the captured
/// names and parse the data fields by the declaration; run the operation's handler; warn about
/// the keys the declaration does not know.
extension Engine {
    /// The engine's mounts when none are given: the database secrets engine at `database/` (the
    /// implicit mount, MountTable.swift; the mount table adds the others), and the `sys/` paths
    /// for mounts, leases and password policies. Each backend's list is the table of
    /// contents of its paths, in the order the documentation shows them; each declaration sits
    /// in its path family's file, beside its handlers.
    public static let builtinMounts = [
        Mount(path: "database/", backend: databaseBackend),
        Mount(path: "sys/", backend: systemBackend),
    ]

    static let databaseBackend = Backend(
        name: "database",
        help: """
        The database backend dynamically generates database users with leases, and rotates the \
        passwords of existing users (static roles) and of its own connection user (the root). \
        After mounting it, configure a connection with config/, then roles/ or static-roles/.
        """,
        paths: databasePaths)

    static let databasePaths = [
        connectionListPath, connectionPath, resetPath, reloadPath, rotateRootPath,
        roleListPath, rolePath, credsPath,
        staticRoleListPath, staticRolePath, staticCredsPath, rotateRolePath,
    ]

    static let systemBackend = Backend(
        name: "system",
        help: "The system paths dbsecrets serves beside the engine: mounts, leases, and password policies.",
        paths: systemPaths)

    static let systemPaths = [
        mountTablePath, mountTunePath, mountPath, remountPath, remountStatusPath,
        passwordPolicyListPath, passwordPolicyPath, passwordGeneratePath,
        leaseLookupPath, leaseRenewPath, leaseRevokePath, leaseRevokePrefixPath, leaseRevokeForcePath,
        leaseTidyPath, leaseCountPath, leasesPath,
    ]

    public func handle(_ request: EngineRequest) throws -> EngineResponse? {
        let mounts = try resolvedMounts()
        guard let (resolved, relative) = Self.mount(of: request.path, in: mounts),
              let (declaration, captures) = Self.route(relative, in: resolved.mount.backend) else {
            throw Self.noRoute(request.path)
        }
        // Names go through Vault's rule before any file is touched (the mount's lock included).
        for segment in declaration.pattern {
            if case .name(let field, _, _) = segment { _ = try validName(captures[field] ?? "") }
        }
        guard let entry = resolved.entry else {
            return try serve(request, relative: relative, declaration, captures, in: resolved)
        }
        // A request under a database mount runs on an engine scoped to that mount, holding the
        // mount's lock shared: a disable or a move waits for it, and it never sees one half done.
        return try onMount(entry, locking: declaration.changesState(request.operation), gone: { Self.noRoute(request.path) }) { engine in
            try engine.serve(request, relative: relative, declaration, captures, in: resolved)
        }
    }

    private func serve(_ request: EngineRequest, relative: String, _ declaration: PathDeclaration,
                       _ captures: [String: String], in resolved: ResolvedMount) throws -> EngineResponse? {
        guard let handler = declaration.handlers[request.operation] else {
            // LIST of `roles/x` is Vault's LIST of the folder `roles/x/`, which holds nothing.
            if request.operation == .list, Self.parentIsListable(declaration, in: resolved.mount.backend) { return nil }
            throw EngineError(.unsupportedOperation, "unsupported operation")
        }
        let fields = try FieldData(request.data, declaration: declaration)
        var response = try handler(self, PathRequest(operation: request.operation, path: relative, captures: captures, fields: fields))
        // Vault adds this only to a non-empty response; a typo such as `default_tll` in a write
        // that answers nothing deserves the word too.
        if !fields.unknownKeys.isEmpty {
            let warning = "Endpoint ignored these unrecognized parameters: [\(fields.unknownKeys.joined(separator: " "))]"
            if response == nil { response = EngineResponse(data: nil) }
            response?.warnings.append(warning)
        }
        response?.mountType = resolved.entry?.type ?? resolved.mount.backend.name
        return response
    }

    static func noRoute(_ path: String) -> EngineError {
        EngineError(.unsupportedPath, "no handler for route \"\(path)\". route entry not found.")
    }

    /// The mount a path is under (the longest match), and the path relative to it.
    static func mount(of path: String, in mounts: [ResolvedMount]) -> (ResolvedMount, String)? {
        mounts.filter { path.hasPrefix($0.mount.path) || path + "/" == $0.mount.path }
            .max { $0.mount.path.count < $1.mount.path.count }
            .map { ($0, String(path.dropFirst(min($0.mount.path.count, path.count)))) }
    }

    /// The first declaration whose pattern matches `path` (relative to the mount), with its captures.
    static func route(_ path: String, in backend: Backend) -> (PathDeclaration, [String: String])? {
        for declaration in backend.paths {
            if let captures = match(declaration.pattern, path) { return (declaration, captures) }
        }
        return nil
    }

    static func match(_ pattern: [PathSegment], _ path: String) -> [String: String]? {
        var rest = Substring(path)
        var captures: [String: String] = [:]
        for (index, segment) in pattern.enumerated() {
            switch segment {
            case .literal(let text):
                guard rest.hasPrefix(text) else { return nil }
                rest = rest.dropFirst(text.count)
            case .name(let field, _, _):
                guard rest.hasPrefix("/") else { return nil }
                let name = rest.dropFirst().prefix { $0 != "/" }
                guard !name.isEmpty else { return nil }
                captures[field] = String(name)
                rest = rest.dropFirst(1 + name.count)
            case .rest(let field, _, let optional, _):
                if rest.isEmpty && optional {
                    captures[field] = ""
                    continue
                }
                guard rest.hasPrefix("/"), rest.count > 1 else { return nil }
                // What literals follow the rest must end the path (`mounts/` PATH `/tune`).
                let suffix = pattern[(index + 1)...].map { segment -> String in
                    if case .literal(let text) = segment { return text }
                    return ""
                }.joined()
                guard rest.count > suffix.count + 1, rest.hasSuffix(suffix) else { return nil }
                captures[field] = String(rest.dropFirst().dropLast(suffix.count))
                rest = Substring(suffix)
            }
        }
        return rest.isEmpty ? captures : nil
    }

    static func parentIsListable(_ declaration: PathDeclaration, in backend: Backend) -> Bool {
        guard case .name? = declaration.pattern.last else { return false }
        let parent = Array(declaration.pattern.dropLast())
        return backend.paths.contains { $0.pattern == parent && $0.handlers[.list] != nil }
    }

    /// Names go through Vault's regex before any file is touched, which also keeps every name
    /// inside the state directory.
    func validName(_ name: String) throws -> String {
        guard name.utf8.count <= ObjectName.maximumLength else {
            throw EngineError.invalid("invalid name \"\(Self.printable(name))\": names are at most \(ObjectName.maximumLength) bytes long, this one has \(name.utf8.count)")
        }
        guard ObjectName.isValid(name) else {
            throw EngineError.invalid("invalid name \"\(Self.printable(name))\": names must start and end with a letter, digit or underscore and contain only those, '-' and '.'")
        }
        return name
    }

    /// A name echoed in an error, with control characters made visible.
    static func printable(_ s: String) -> String {
        let clipped = s.count > 80 ? String(s.prefix(80)) + "…" : s
        return clipped.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined()
    }
}

extension Backend {
    /// The declaration that serves `path` (relative to the mount), as the router finds it.
    public func declaration(matching path: String) -> PathDeclaration? {
        Engine.route(path, in: self)?.0
    }
}
