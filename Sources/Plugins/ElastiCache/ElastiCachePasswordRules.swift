import DBPlugin

/// ElastiCache's rules for user passwords: 16 to 128 printable ASCII characters, none of
/// space, `"`, `/` or `@`. Checked before any API call so a password policy that cannot produce
/// such passwords is refused with our sentence rather than AWS's, and nothing is half-changed.
public enum ElastiCachePasswordRules {
    public static let lengths = 16...128
    public static let forbidden: Set<Character> = [" ", "\"", "/", "@"]

    static let summary = "ElastiCache passwords must be 16 to 128 printable ASCII characters "
        + "without space, '\"', '/' or '@'; use a password_policy that produces such passwords"

    /// Nil when the password is acceptable, else why not (never quoting the password).
    public static func problem(with password: String) -> String? {
        let count = password.unicodeScalars.count
        if !lengths.contains(count) {
            return "the password is \(count) characters long"
        }
        for scalar in password.unicodeScalars {
            if forbidden.contains(Character(scalar)) {
                return scalar == " " ? "the password contains a space" : "the password contains '\(scalar)'"
            }
            if scalar.value < 0x21 || scalar.value > 0x7E {
                return "the password contains a character that is not printable ASCII"
            }
        }
        return nil
    }

    static func validate(_ password: String) throws {
        if let problem = problem(with: password) {
            throw PluginError(.invalidConfiguration, "\(problem): \(summary)")
        }
    }
}
