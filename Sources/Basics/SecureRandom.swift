#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The operating system's CSPRNG (getrandom on Linux), for every random value that guards
/// something: passwords, lease ids, usernames, SCRAM nonces and salts.
public enum SecureRandom {
    /// One `getrandom` for the whole buffer (glibc's `arc4random_buf`, 2.36 and later): drawn
    /// eight bytes at a time through `SystemRandomNumberGenerator`, a `creds` made 90 system calls.
    public static func bytes(_ count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
        return bytes
    }

    /// go-secure-stdlib's `base62.Random`, as Vault makes lease ids and random name parts: bytes at or
    /// above 248 (4 × 62) are discarded so every character is equally likely. `randomBytes` lets the
    /// template language's tests fix the bytes.
    public static func base62(_ length: Int, randomBytes: (Int) -> [UInt8] = SecureRandom.bytes) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(length)
        while output.count < length {
            for byte in randomBytes(length - output.count + 8) where byte < 248 {
                output.append(base62Alphabet[Int(byte % 62)])
                if output.count == length { break }
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static let base62Alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
}
