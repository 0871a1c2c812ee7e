/// MD5 (RFC 1321). Only for protocols that still require it (PostgreSQL's md5 authentication).
public enum MD5 {
    private static let s: [UInt32] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ]

    // floor(abs(sin(i + 1)) * 2^32), as RFC 1321 defines the table.
    private static let k: [UInt32] = (0..<64).map { i in
        var x = Double(i + 1)
        x = x < 0 ? -x : x
        return UInt32(truncatingIfNeeded: Int64((sinValue(x) < 0 ? -sinValue(x) : sinValue(x)) * 4294967296.0))
    }

    private static func sinValue(_ x: Double) -> Double {
        #if canImport(Glibc)
        return Glibc.sin(x)
        #else
        return Darwin.sin(x)
        #endif
    }

    public static func hash<D: Collection>(_ data: D) -> [UInt8] where D.Element == UInt8 {
        var a0: UInt32 = 0x67452301, b0: UInt32 = 0xefcdab89, c0: UInt32 = 0x98badcfe, d0: UInt32 = 0x10325476
        let message = merkleDamgardPad(data, bigEndianLength: false)
        var m = [UInt32](repeating: 0, count: 16)
        for chunk in stride(from: 0, to: message.count, by: 64) {
            for i in 0..<16 {
                let j = chunk + 4 * i
                m[i] = UInt32(message[j]) | UInt32(message[j + 1]) << 8
                    | UInt32(message[j + 2]) << 16 | UInt32(message[j + 3]) << 24
            }
            var a = a0, b = b0, c = c0, d = d0
            for i in 0..<64 {
                var f: UInt32
                let g: Int
                switch i {
                case 0..<16: f = (b & c) | (~b & d); g = i
                case 16..<32: f = (d & b) | (~d & c); g = (5 * i + 1) % 16
                case 32..<48: f = b ^ c ^ d; g = (3 * i + 5) % 16
                default: f = c ^ (b | ~d); g = (7 * i) % 16
                }
                f = f &+ a &+ k[i] &+ m[g]
                a = d; d = c; c = b
                b = b &+ rotateLeft(f, s[i])
            }
            a0 = a0 &+ a; b0 = b0 &+ b; c0 = c0 &+ c; d0 = d0 &+ d
        }
        return [a0, b0, c0, d0].flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * UInt32($0))) } }
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
