/// PBKDF2 (RFC 8018) with HMAC-SHA-256, as SCRAM-SHA-256's `Hi()` uses it.
public enum PBKDF2 {
    public static func sha256(password: [UInt8], salt: [UInt8], iterations: Int, keyLength: Int) -> [UInt8] {
        precondition(iterations > 0 && keyLength > 0)
        let mac = HMACSHA256(key: password)
        var derived = [UInt8]()
        var blockIndex: UInt32 = 1
        while derived.count < keyLength {
            let indexBytes = (0..<4).map { UInt8(truncatingIfNeeded: blockIndex >> (24 - 8 * UInt32($0))) }
            var u = mac.authenticate(salt + indexBytes)
            var block = u
            for _ in 1..<iterations {
                u = mac.authenticate(u)
                for i in 0..<block.count { block[i] ^= u[i] }
            }
            derived += block
            blockIndex += 1
        }
        return Array(derived.prefix(keyLength))
    }
}
