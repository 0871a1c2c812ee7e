import DBPlugin
import Foundation
import PasswordPolicy

/// `sys/policies/password/:name` (write, read, list, delete) and `…/:name/generate`.
extension Engine {
    func handlePasswordPolicyPath(_ parts: [String], _ op: EngineRequest.Operation,
                                  _ data: [String: JSONValue]) throws -> EngineResponse? {
        switch (parts.count, op) {
        case (0, .list):
            return .list(try passwordPolicies.list())
        case (1, .list):
            return parts[0].isEmpty ? .list(try passwordPolicies.list()) : nil
        case (1, .write):
            let name = try validName(parts[0])
            guard var text = data["policy"]?.textValue, !text.isEmpty else {
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
            let lock = try state.lock(.passwordPolicy, name)
            defer { withExtendedLifetime(lock) {} }
            try passwordPolicies.write(name, StoredPasswordPolicy(policy: text))
            return nil
        case (1, .read):
            guard let stored = try passwordPolicies.read(try validName(parts[0])) else { return nil }
            return EngineResponse(data: ["policy": .string(stored.policy)])
        case (1, .delete):
            let name = try validName(parts[0])
            let lock = try state.lock(.passwordPolicy, name)
            defer { withExtendedLifetime(lock) {} }
            try passwordPolicies.delete(name)
            return nil
        case (2, .read) where parts[1] == "generate":
            let name = try validName(parts[0])
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
        default:
            throw EngineError.invalid("unsupported operation")
        }
    }
}
