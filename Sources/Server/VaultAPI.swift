import Basics
import DBPlugin
import Engine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Vault's HTTP API over the engine, as Vault's `http` package turns requests into logical
/// requests and responses into HTTP: `/v1/PATH` with GET (read, or list with `?list=true`),
/// LIST, PUT/POST (write) and DELETE, each handed to the engine's one router, so every path,
/// field and error is the CLI's own.
///
/// Status codes come from one place, `status(of:)`, as the CLI's exit codes do.
struct VaultAPI: Sendable {
    let engine: Engine
    let token: ServerToken
    let identity: ServerIdentity
    /// Every secret the server has seen: redacted from every error body.
    let secrets: SecretRegistry

    /// The answer to one request, and the path the access log shows for it.
    func answer(_ request: HTTPRequest) -> (response: HTTPResponse, logged: String) {
        guard request.path.hasPrefix("/v1/") else { return (.plain(404, "404 page not found"), Self.visible(request.path)) }
        let path = EngineRequest.sanitizedPath(String(request.path.dropFirst(4)))
        let logged = "/v1/" + Self.visible(secrets.clean(path))
        switch path {
        case "sys/health": return (identity.health(request.method), logged)
        case "sys/seal-status": return (identity.sealStatus(request.method), logged)
        default: break
        }
        guard token.admits(request) else { return (.json(403, Self.errorBody(["permission denied"])), logged) }
        do {
            return (try logical(request, path: path), logged)
        } catch let refusal as Refusal {
            return (refusal.response, logged)
        } catch {
            return (.json(500, Self.errorBody([Self.multiError(secrets.clean(ErrorText.of(error)))])), logged)
        }
    }

    /// A request that is refused before it reaches the engine.
    struct Refusal: Error {
        var response: HTTPResponse
    }

    private func logical(_ request: HTTPRequest, path: String) throws -> HTTPResponse {
        let operation: EngineRequest.Operation
        var data: [String: JSONValue] = [:]
        switch request.method {
        case "GET":
            var query = request.query
            let list = try Self.listFlag(&query)
            if query.contains(where: { $0.name == "help" && !$0.value.isEmpty }) { return try help(path) }
            operation = list ? .list : .read
            data = Self.queryData(query)
        case "LIST":
            operation = .list
            data = Self.queryData(request.query)
        case "PUT", "POST":
            operation = .write
            data = try Self.bodyData(request)
        case "DELETE":
            operation = .delete
            data = Self.queryData(request.query)
        default:
            return .json(405, Self.errorBody([]))
        }
        secrets.add(requestData: data)
        let response: EngineResponse?
        do {
            response = try engine.handle(EngineRequest(operation, path, data: data))
        } catch let error as EngineError {
            return .json(Self.status(of: error.kind), Self.errorBody([Self.message(of: error, secrets: secrets)]))
        }
        return Self.success(response, operation: operation, mountType: Self.mountType(of: path))
    }

    // MARK: Responses

    /// Vault's `respondLogical` and `RespondErrorCommon`: nothing to read, or nothing to list, is a
    /// 404 with no message; a write or delete with nothing to say is a 204; anything else, even
    /// warnings alone, is the envelope.
    static func success(_ response: EngineResponse?, operation: EngineRequest.Operation, mountType: String) -> HTTPResponse {
        guard let response, operation == .read || operation == .list || !isEmpty(response) else {
            return operation == .read || operation == .list ? .json(404, errorBody([])) : .empty(204)
        }
        if operation == .list {
            let keys = response.data?["keys"]?.arrayValue ?? []
            let others = (response.data ?? [:]).filter { $0.key != "keys" }
            if keys.isEmpty && others.isEmpty && response.warnings.isEmpty { return .json(404, errorBody([])) }
        }
        return .json(200, ResponseBody.envelope(response, requestID: ResponseBody.newRequestID(), mountType: mountType))
    }

    /// A write's answer with nothing in it, which Vault's handlers return as nil (a 204).
    static func isEmpty(_ response: EngineResponse) -> Bool {
        response.data == nil && response.warnings.isEmpty && response.leaseID.isEmpty && response.auth == nil
    }

    /// The one map from the engine's error kinds to HTTP statuses, as Vault's
    /// `logical.RespondErrorCommon` maps its errors.
    static func status(of kind: EngineError.Kind) -> Int {
        switch kind {
        case .invalidRequest: return 400
        case .unsupportedPath: return 404
        case .unsupportedOperation: return 405
        case .operationFailed: return 500
        }
    }

    /// The error's sentence as Vault's body carries it: as it is for a request the engine refused
    /// (a `logical.ErrorResponse`) or a path it does not have; in go-multierror's words for an
    /// operation that failed, as Vault's core wraps every error a backend returns.
    static func message(of error: EngineError, secrets: SecretRegistry) -> String {
        let text = secrets.clean(error.message)
        switch error.kind {
        case .invalidRequest, .unsupportedPath: return text
        case .unsupportedOperation, .operationFailed: return multiError(text)
        }
    }

    static func multiError(_ text: String) -> String {
        "1 error occurred:\n\t* \(text)\n\n"
    }

    static func errorBody(_ messages: [String]) -> String {
        ResponseBody.errors(messages)
    }

    /// Vault's `mount_type`: the type of the mount that answered.
    static func mountType(of path: String) -> String {
        if path == "sys" || path.hasPrefix("sys/") { return "system" }
        if path.hasPrefix("auth/token/") { return "token" }
        return "database"
    }

    /// `?help=1`: the path's help, as `vault path-help` prints it, in Vault's help body.
    private func help(_ path: String) throws -> HTTPResponse {
        do {
            return .json(200, GoJSON.compact(pairs: [("help", .string(try engine.help(path))), ("see_also", .null)]) + "\n")
        } catch let error as EngineError {
            return .json(Self.status(of: error.kind), Self.errorBody([Self.message(of: error, secrets: secrets)]))
        }
    }

    // MARK: Request data

    /// `list=` as Go's `strconv.ParseBool` reads it; anything else is a 400 without a message.
    static func listFlag(_ query: inout [(name: String, value: String)]) throws -> Bool {
        guard let value = query.first(where: { $0.name == "list" })?.value else { return false }
        query.removeAll { $0.name == "list" }
        switch value {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: throw Refusal(response: .json(400, errorBody([])))
        }
    }

    /// Vault's `parseQuery`: one value is a string, a repeated key a list; `help` is reserved.
    static func queryData(_ query: [(name: String, value: String)]) -> [String: JSONValue] {
        var grouped: [String: [String]] = [:]
        for (name, value) in query where name != "help" { grouped[name, default: []].append(value) }
        return grouped.mapValues { $0.count == 1 ? .string($0[0]) : .array($0.map { .string($0) }) }
    }

    /// The body of a write: a JSON object, or a form when it says it is one and does not start
    /// like JSON (Vault's `isForm`); empty is no data, as `vault write -f` sends.
    static func bodyData(_ request: HTTPRequest) throws -> [String: JSONValue] {
        let body = request.body
        guard let first = body.firstIndex(where: { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }) else { return [:] }
        let mediaType = request.header("content-type")?.split(separator: ";").first?
            .trimmingWhitespace().lowercased()
        if mediaType == "application/x-www-form-urlencoded" && body[first] != UInt8(ascii: "{") && body[first] != UInt8(ascii: "[") {
            return try formData(body)
        }
        let value: JSONValue
        do {
            value = try RequestJSON.parse(body)
        } catch {
            throw Refusal(response: .json(400, errorBody(["failed to decode JSON input: \(error)"])))
        }
        if value == .null { return [:] }
        guard case .object(let object) = value else {
            throw Refusal(response: .json(400, errorBody(["failed to decode JSON input: json: cannot unmarshal \(RequestJSON.kind(of: value)) into Go value of type map[string]interface {}"])))
        }
        return object
    }

    /// Vault's `parseFormRequest`: a repeated key's values joined with commas.
    static func formData(_ body: [UInt8]) throws -> [String: JSONValue] {
        var grouped: [String: [String]] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") where !pair.isEmpty {
            let name = pair.prefix { $0 != "=" }
            guard let key = PercentEncoding.decoded(name, plusIsSpace: true),
                  let value = PercentEncoding.decoded(pair.dropFirst(name.count).dropFirst(), plusIsSpace: true) else {
                throw Refusal(response: .json(400, errorBody(["error parsing form data"])))
            }
            grouped[key, default: []].append(value)
        }
        return grouped.mapValues { .string($0.joined(separator: ",")) }
    }

    /// A path as the access log shows it: control characters made visible, so a request cannot
    /// forge log lines.
    static func visible(_ text: String) -> String {
        text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f || $0 == " " ? "%" + cFormat("%02X", $0.value) : String($0) }.joined()
    }
}
