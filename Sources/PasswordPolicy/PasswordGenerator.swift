import Basics

/// Vault's `StringGenerator`: unbiased random code points from the charset, whole candidates
/// redrawn until every rule holds, and a deadline so that impossible rules fail instead of spinning.
struct PasswordGenerator {
    /// One random byte picks one character, so the charset holds at most 256 code points.
    static let largestCharset = 256

    let policy: PasswordPolicy
    let charset: [Unicode.Scalar]
    var randomBytes: (Int) -> [UInt8] = SecureRandom.bytes
    var deadline: ContinuousClock.Instant = .now.advanced(by: .seconds(1))

    func generate() throws -> String {
        let clock = ContinuousClock()
        let ruleMembers = policy.rules.map { Set($0.charset.unicodeScalars) }
        // As in Vault, the deadline is checked before each candidate, so a spent deadline fails at once.
        while clock.now < deadline {
            let candidate = randomCandidate()
            if zip(policy.rules, ruleMembers).allSatisfy({ $0.isSatisfied(by: candidate, members: $1) }) {
                var text = String.UnicodeScalarView()
                text.append(contentsOf: candidate)
                return String(text)
            }
        }
        throw PasswordPolicy.Error("timed out generating string")
    }

    /// Bytes above the largest multiple of the charset size are discarded: taking them modulo the
    /// size would favour the first characters (for 63 characters, bytes 252–255 would pick `-0123`).
    private func randomCandidate() -> [Unicode.Scalar] {
        let size = charset.count
        let largestAccepted = (Self.largestCharset / size) * size - 1
        var candidate: [Unicode.Scalar] = []
        candidate.reserveCapacity(policy.length)
        while candidate.count < policy.length {
            // Half again as many bytes as needed covers the rejected ones in most rounds.
            let wanted = policy.length - candidate.count
            for byte in randomBytes(wanted + wanted / 2 + 1) where Int(byte) <= largestAccepted {
                candidate.append(charset[size == Self.largestCharset ? Int(byte) : Int(byte) % size])
                if candidate.count == policy.length { break }
            }
        }
        return candidate
    }
}
