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
        // Candidates are drawn as positions in the charset, and each rule is a mask over those
        // positions: the Sets of scalars and the String built scalar by scalar this replaces were
        // most of a `creds` against Redis' time in the generator (0.3 M instructions).
        let ruleMasks = policy.rules.filter { $0.minChars > 0 }.map { rule in (rule.minChars, mask(of: rule)) }
        // As in Vault, the deadline is checked before each candidate, so a spent deadline fails at once.
        while clock.now < deadline {
            let candidate = randomCandidate()
            if ruleMasks.allSatisfy({ minChars, mask in Self.count(in: candidate, of: mask, atLeast: minChars) }) {
                return text(of: candidate)
            }
        }
        throw PasswordPolicy.Error("timed out generating string")
    }

    /// Bytes above the largest multiple of the charset size are discarded: taking them modulo the
    /// size would favour the first characters (for 63 characters, bytes 252–255 would pick `-0123`).
    private func randomCandidate() -> [UInt8] {
        let size = charset.count
        let largestAccepted = (Self.largestCharset / size) * size - 1
        var candidate: [UInt8] = []
        candidate.reserveCapacity(policy.length)
        while candidate.count < policy.length {
            // Half again as many bytes as needed covers the rejected ones in most rounds.
            let wanted = policy.length - candidate.count
            for byte in randomBytes(wanted + wanted / 2 + 1) where Int(byte) <= largestAccepted {
                candidate.append(size == Self.largestCharset ? byte : UInt8(Int(byte) % size))
                if candidate.count == policy.length { break }
            }
        }
        return candidate
    }

    /// Which positions of the charset (sorted by code point, as `validatedCharset` gives it) the
    /// rule's characters are.
    private func mask(of rule: CharsetRule) -> [Bool] {
        var mask = [Bool](repeating: false, count: charset.count)
        for scalar in rule.charset.unicodeScalars {
            var low = 0, high = charset.count
            while low < high {
                let middle = (low + high) / 2
                if charset[middle].value < scalar.value { low = middle + 1 } else { high = middle }
            }
            if low < charset.count && charset[low] == scalar { mask[low] = true }
        }
        return mask
    }

    private static func count(in candidate: [UInt8], of mask: [Bool], atLeast minChars: Int) -> Bool {
        var count = 0
        for position in candidate where mask[Int(position)] {
            count += 1
            if count >= minChars { return true }
        }
        return false
    }

    private func text(of candidate: [UInt8]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(candidate.count * 4)
        for position in candidate {
            let scalar = charset[Int(position)]
            if scalar.isASCII {
                bytes.append(UInt8(scalar.value))
            } else {
                UTF8.encode(scalar) { bytes.append($0) }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
