import DBPlugin

/// Connection parameters of Vault's plugins that change how a connection authenticates or where
/// it goes, and that no built-in plugin here supports. Ignoring one would leave a connection that
/// logs in some other way than the user asked, or fails later with an unrelated message, so a
/// write that sets one is refused at once; the value that means "the usual way" is accepted.
extension Engine {
    static let unsupportedConnectionParameters: [(name: String, isHarmless: @Sendable (JSONValue) -> Bool, why: String)] = [
        ("auth_type", { $0.textValue?.isEmpty ?? ($0 == .null) },
         "only password authentication is supported (Vault's gcp_iam needs Google Cloud SQL's connector)"),
        ("service_account_json", { $0.textValue?.isEmpty ?? ($0 == .null) },
         "it is used only by auth_type=gcp_iam, which is not supported"),
        ("use_private_ip", { $0.boolValue == false || $0 == .null },
         "it selects Google Cloud SQL's private IP through its connector, which is not supported; put the address in connection_url"),
    ]

    /// Refuses a write that gives one of those parameters a value that would change anything.
    static func refuseUnsupportedConnectionParameters(_ parameters: [String: JSONValue]) throws {
        for parameter in unsupportedConnectionParameters {
            guard let value = parameters[parameter.name], !parameter.isHarmless(value) else { continue }
            let shown = parameter.name == "service_account_json" ? "" : "=\(value.textValue ?? "…")"
            throw EngineError.invalid("unsupported connection parameter \(parameter.name)\(shown): \(parameter.why)")
        }
    }
}
