/// PBKDF2 (RFC 8018) with HMAC-SHA-256, as SCRAM-SHA-256's `Hi()` uses it.
public enum PBKDF2 {
    public static func sha256(password: [UInt8], salt: [UInt8], iterations: Int, keyLength: Int) -> [UInt8] {
        precondition(iterations > 0 && keyLength > 0)
        let mac = HMACSHA256(key: password)
        let (innerPad, outerPad) = mac.padStates
        var derived = [UInt8]()
        var blockIndex: UInt32 = 1
        while derived.count < keyLength {
            let indexBytes = (0..<4).map { UInt8(truncatingIfNeeded: blockIndex >> (24 - 8 * UInt32($0))) }
            let first = mac.authenticate(salt + indexBytes)
            // Every later U is the HMAC of a 32-byte digest: both of its hashes are then one block
            // each, with the same padding and length. They run on words in place, with nothing
            // allocated per iteration: this loop is most of a SCRAM login's CPU.
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64 + 8) { scratch in
                let w = scratch.baseAddress!
                let sum = w + 64
                for i in 0..<8 { sum[i] = word(first, i) }
                var u = (sum[0], sum[1], sum[2], sum[3], sum[4], sum[5], sum[6], sum[7])
                for _ in 1..<iterations {
                    var inner = innerPad
                    loadDigestBlock(w, u)
                    SHA256.compress(&inner, schedule: w)
                    var outer = outerPad
                    loadDigestBlock(w, inner)
                    SHA256.compress(&outer, schedule: w)
                    u = outer
                    sum[0] ^= u.0; sum[1] ^= u.1; sum[2] ^= u.2; sum[3] ^= u.3
                    sum[4] ^= u.4; sum[5] ^= u.5; sum[6] ^= u.6; sum[7] ^= u.7
                }
                for i in 0..<8 {
                    let value = sum[i]
                    derived += [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                                UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
                }
            }
            blockIndex += 1
        }
        return Array(derived.prefix(keyLength))
    }

    private static func word(_ bytes: [UInt8], _ i: Int) -> UInt32 {
        let b0 = UInt32(bytes[4 * i]) << 24
        let b1 = UInt32(bytes[4 * i + 1]) << 16
        let b2 = UInt32(bytes[4 * i + 2]) << 8
        return b0 | b1 | b2 | UInt32(bytes[4 * i + 3])
    }

    /// SHA-256's final block for a 32-byte message after a 64-byte pad: the digest, 0x80, zeros,
    /// and the bit length 768.
    private static func loadDigestBlock(_ w: UnsafeMutablePointer<UInt32>, _ d: SHA256.State) {
        w[0] = d.0; w[1] = d.1; w[2] = d.2; w[3] = d.3; w[4] = d.4; w[5] = d.5; w[6] = d.6; w[7] = d.7
        w[8] = 0x8000_0000
        for i in 9..<15 { w[i] = 0 }
        w[15] = 768
    }
}
