import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PasswordPolicy

/// `sys/policies/password/:name` (write, read, list, delete) and `…/:name/generate`.
extension Engine {
    static let policyName = PathSegment.name(field: "name", of: .passwordPolicy, description: "The name of the password policy.")

    static let passwordPolicyListPath = PathDeclaration(
        [.literal("policies/password")],
        synopsis: "List the existing password policies.",
        description: "Lists the names of the password policies at policies/password/NAME.",
        operations: [.list: { engine, _ in try engine.listPasswordPolicies() }])

    static let passwordPolicyPath = PathDeclaration(
        [.literal("policies/password"), policyName],
        synopsis: "Read, write and delete password policies.",
        description: """
        A password policy in Vault's HCL form: length = N and one or more rule "charset" blocks with \
        charset and min-chars. Connections and roles name it in password_policy; the passwords they \
        generate follow it.
        """,
        fields: [
            FieldDeclaration("policy", .string, "The policy's HCL text, or that text base64-encoded."),
        ],
        operations: [
            .write: { engine, request in try engine.writePasswordPolicy(request.name, request.fields) },
            .read: { engine, request in try engine.readPasswordPolicy(request.name) },
            .delete: { engine, request in try engine.deletePasswordPolicy(request.name) },
        ])

    static let passwordGeneratePath = PathDeclaration(
        [.literal("policies/password"), policyName, .literal("/generate")],
        synopsis: "Generate a password from an existing password policy.",
        description: "Returns a password made by the policy, as the engine would generate one.",
        operations: [.read: { engine, request in try engine.generateFromPolicy(request.name) }])

    func listPasswordPolicies() throws -> EngineResponse? {
        .list(try passwordPolicies.list())
    }

    func writePasswordPolicy(_ name: String, _ fields: FieldData) throws -> EngineResponse? {
        guard var text = fields.string("policy"), !text.isEmpty else {
            throw EngineError.invalid("missing policy")
        }
        // Vault accepts the policy base64-encoded too.
        if let decoded = Data(base64Encoded: text), let decodedText = String(data: decoded, encoding: .utf8) {
            text = decodedText
        }
        let policy: PasswordPolicy
        do {
            policy = try PasswordPolicy(hcl: text)
        } catch {
            throw EngineError.invalid("invalid password policy: \(error)")
        }
        do {
            try policy.checkBeforeStoring()
        } catch {
            throw EngineError.invalid("\(error)")
        }
        try withLock(.passwordPolicy, name) { try passwordPolicies.write(name, StoredPasswordPolicy(policy: text)) }
        return nil
    }

    func readPasswordPolicy(_ name: String) throws -> EngineResponse? {
        guard let stored = try passwordPolicies.read(name) else { return nil }
        return EngineResponse(data: ["policy": .string(stored.policy)])
    }

    func deletePasswordPolicy(_ name: String) throws -> EngineResponse? {
        try withLock(.passwordPolicy, name) { try passwordPolicies.delete(name) }
        return nil
    }

    func generateFromPolicy(_ name: String) throws -> EngineResponse? {
        guard try passwordPolicies.read(name) != nil else {
            throw EngineError.invalid("policy does not exist")
        }
        do {
            return EngineResponse(data: ["password": .string(try namedPasswordPolicy(name).generate())])
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError.failed("failed to generate password from policy: \(error)")
        }
    }
}
