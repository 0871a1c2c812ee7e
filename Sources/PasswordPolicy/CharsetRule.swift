/// Vault's `rule "charset"`: every password must contain at least `minChars` characters from `charset`,
/// and the characters of all rules together form the alphabet passwords are drawn from.
public struct CharsetRule: Sendable, Equatable {
    /// The characters, as written in the policy (Vault compares Unicode code points, not grapheme clusters).
    public var charset: String
    /// Zero or less means the rule only contributes characters.
    public var minChars: Int

    public init(charset: String, minChars: Int = 0) {
        self.charset = charset
        self.minChars = minChars
    }

    /// Whether `candidate` holds at least `minChars` code points from the charset.
    func isSatisfied(by candidate: [Unicode.Scalar], members: Set<Unicode.Scalar>) -> Bool {
        guard minChars > 0 else { return true }
        var count = 0
        for scalar in candidate where members.contains(scalar) {
            count += 1
            if count >= minChars { return true }
        }
        return false
    }
}
