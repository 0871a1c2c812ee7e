import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The bodies of Vault's HTTP API, as its `http` package writes them with Go's `json.Encoder`
/// (compact, HTML characters escaped, a final newline): the response envelope and the error body.
/// The server answers with them, and `read -format=raw` prints the same envelope.
public enum ResponseBody {
    /// `logical.HTTPResponse` in its struct's key order. `wrap_info` is always null: nothing is
    /// wrapped here.
    public static func envelope(_ response: EngineResponse, requestID: String, mountType: String) -> String {
        GoJSON.compact(pairs: [
            ("request_id", .string(requestID)),
            ("lease_id", .string(response.leaseID)),
            ("renewable", .bool(response.renewable)),
            ("lease_duration", .int(response.leaseDuration)),
            ("data", response.data.map { .object($0) } ?? .null),
            ("wrap_info", .null),
            ("warnings", response.warnings.isEmpty ? .null : .array(response.warnings.map { .string($0) })),
            ("auth", response.auth.map { .object($0) } ?? .null),
            ("mount_type", .string(mountType)),
        ]) + "\n"
    }

    /// `{"errors":[…]}`: Vault's `logical.RespondError`; no message is `[]`, as for a 404 read.
    public static func errors(_ messages: [String]) -> String {
        GoJSON.compact(pairs: [("errors", .array(messages.map { .string($0) }))]) + "\n"
    }

    /// A request id as Vault makes them: a random UUID, lower case.
    public static func newRequestID() -> String {
        UUID().uuidString.lowercased()
    }
}
