/// HMAC (RFC 2104) over SHA-256 or SHA-1.
public enum HMAC {
    public static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        mac(key: key, message: message, blockSize: SHA256.blockSize, hash: { SHA256.hash($0) })
    }

    public static func sha1(key: [UInt8], message: [UInt8]) -> [UInt8] {
        mac(key: key, message: message, blockSize: SHA1.blockSize, hash: { SHA1.hash($0) })
    }

    private static func mac(key: [UInt8], message: [UInt8], blockSize: Int, hash: ([UInt8]) -> [UInt8]) -> [UInt8] {
        var block = key.count > blockSize ? hash(key) : key
        block += [UInt8](repeating: 0, count: blockSize - block.count)
        let inner = hash(block.map { $0 ^ 0x36 } + message)
        return hash(block.map { $0 ^ 0x5c } + inner)
    }
}
