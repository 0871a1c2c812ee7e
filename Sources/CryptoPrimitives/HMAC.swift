/// HMAC (RFC 2104) over SHA-256 or SHA-1.
public enum HMAC {
    public static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        HMACSHA256(key: key).authenticate(message)
    }

    public static func sha1(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var block = key.count > SHA1.blockSize ? SHA1.hash(key) : key
        block += [UInt8](repeating: 0, count: SHA1.blockSize - block.count)
        let inner = SHA1.hash(block.map { $0 ^ 0x36 } + message)
        return SHA1.hash(block.map { $0 ^ 0x5c } + inner)
    }
}

/// HMAC-SHA-256 with the key's inner and outer pads hashed once, for repeated use (PBKDF2).
public struct HMACSHA256: Sendable {
    private let inner: SHA256
    private let outer: SHA256

    public init(key: [UInt8]) {
        var block = key.count > SHA256.blockSize ? SHA256.hash(key) : key
        block += [UInt8](repeating: 0, count: SHA256.blockSize - block.count)
        var inner = SHA256()
        inner.update(block.map { $0 ^ 0x36 })
        var outer = SHA256()
        outer.update(block.map { $0 ^ 0x5c })
        self.inner = inner
        self.outer = outer
    }

    /// The chaining values after the inner and outer pads (one whole block each).
    var padStates: (inner: SHA256.State, outer: SHA256.State) { (inner.state, outer.state) }

    public func authenticate(_ message: [UInt8]) -> [UInt8] {
        var i = inner
        i.update(message)
        var o = outer
        o.update(i.finalize())
        return o.finalize()
    }
}
