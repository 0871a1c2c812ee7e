/// The padding shared by MD5, SHA-1 and SHA-256: a 0x80 byte, zeros to 56 mod 64, then the
/// message length in bits, big-endian for the SHA family and little-endian for MD5.
func merkleDamgardPad<D: Collection>(_ data: D, bigEndianLength: Bool) -> [UInt8] where D.Element == UInt8 {
    var message = Array(data)
    let bitLength = UInt64(message.count) &* 8
    message.append(0x80)
    while message.count % 64 != 56 { message.append(0) }
    for i in 0..<8 {
        let shift = bigEndianLength ? UInt64(56 - 8 * i) : UInt64(8 * i)
        message.append(UInt8(truncatingIfNeeded: bitLength >> shift))
    }
    return message
}

@inline(__always) func rotateLeft(_ x: UInt32, _ n: UInt32) -> UInt32 { (x << n) | (x >> (32 - n)) }

extension Array where Element == UInt8 {
    /// Lower-case hex.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
