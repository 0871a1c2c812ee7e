import DBPlugin
import PasswordPolicy

/// Where a new password comes from: the role's `credential_config.password_policy`, else the
/// connection's `password_policy`, else Vault's default generator.
extension Engine {
    func generatePassword(rolePolicy: String?, config: DatabaseConfig) throws -> String {
        let name = (rolePolicy?.isEmpty == false ? rolePolicy : nil) ?? (config.passwordPolicy.isEmpty ? nil : config.passwordPolicy)
        do {
            guard let name else { return try PasswordPolicy.vaultDefault.generate() }
            return try namedPasswordPolicy(name).generate()
        } catch let error as EngineError {
            throw EngineError.failed("failed to generate password: \(error.message)")
        } catch {
            throw EngineError.failed("failed to generate password: \(error)")
        }
    }

    func namedPasswordPolicy(_ name: String) throws -> PasswordPolicy {
        guard ObjectName.isValid(name), let stored = try passwordPolicies.read(name) else {
            throw EngineError.failed("no password policy found")
        }
        do {
            return try PasswordPolicy(hcl: stored.policy)
        } catch {
            throw EngineError.failed("stored password policy is invalid: \(error)")
        }
    }

    static func rolePasswordPolicy(_ credentialConfig: [String: JSONValue]) -> String? {
        credentialConfig["password_policy"]?.textValue
    }
}
