/// SHA-256 (FIPS 180-4), one-shot or incremental. The incremental form lets HMAC and PBKDF2
/// hash the padded key once and reuse that state for thousands of iterations, which is what
/// makes a SCRAM login cheap.
public struct SHA256: Sendable {
    public static let blockSize = 64

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    private var h: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19)
    private var buffer: [UInt8] = []
    private var length: UInt64 = 0

    public init() {
        buffer.reserveCapacity(64)
    }

    public static func hash<D: Collection>(_ data: D) -> [UInt8] where D.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(data)
        return hasher.finalize()
    }

    public mutating func update<D: Collection>(_ data: D) where D.Element == UInt8 {
        length &+= UInt64(data.count)
        for byte in data {
            buffer.append(byte)
            if buffer.count == 64 {
                compress(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
    }

    public func finalize() -> [UInt8] {
        var copy = self
        let bitLength = length &* 8
        copy.buffer.append(0x80)
        if copy.buffer.count > 56 {
            while copy.buffer.count < 64 { copy.buffer.append(0) }
            copy.compress(copy.buffer)
            copy.buffer.removeAll(keepingCapacity: true)
        }
        while copy.buffer.count < 56 { copy.buffer.append(0) }
        for i in 0..<8 { copy.buffer.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(56 - 8 * i))) }
        copy.compress(copy.buffer)
        let words = [copy.h.0, copy.h.1, copy.h.2, copy.h.3, copy.h.4, copy.h.5, copy.h.6, copy.h.7]
        var out = [UInt8]()
        out.reserveCapacity(32)
        for word in words {
            out.append(UInt8(truncatingIfNeeded: word >> 24))
            out.append(UInt8(truncatingIfNeeded: word >> 16))
            out.append(UInt8(truncatingIfNeeded: word >> 8))
            out.append(UInt8(truncatingIfNeeded: word))
        }
        return out
    }

    typealias State = (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)

    /// The chaining value, for PBKDF2's loop; meaningful when whole blocks only were absorbed.
    var state: State { h }

    private mutating func compress(_ block: [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            block.withUnsafeBufferPointer { m in
                for i in 0..<16 {
                    w[i] = UInt32(m[4 * i]) << 24 | UInt32(m[4 * i + 1]) << 16 | UInt32(m[4 * i + 2]) << 8 | UInt32(m[4 * i + 3])
                }
            }
            Self.compress(&h, schedule: w.baseAddress!)
        }
    }

    /// One compression. `w` holds the block's 16 big-endian words and room for 48 more (the
    /// message schedule is expanded in place), so a caller with pre-padded blocks allocates nothing.
    /// The rounds are unrolled by eight with the working variables renamed instead of shifted,
    /// and `Ch` and `Maj` take their three-operation forms: PBKDF2's 8,192 compressions per
    /// SCRAM login were most of a `creds` command's CPU.
    static func compress(_ h: inout State, schedule w: UnsafeMutablePointer<UInt32>) {
        for i in 16..<64 {
            let x = w[i - 15], y = w[i - 2]
            let s0 = rotr(x, 7) ^ rotr(x, 18) ^ (x &>> 3)
            let s1 = rotr(y, 17) ^ rotr(y, 19) ^ (y &>> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var (a, b, c, d, e, f, g, hh) = h
        k.withUnsafeBufferPointer { k in
            let k = k.baseAddress!
            var i = 0
            while i < 64 {
                round(a, b, c, &d, e, f, g, &hh, k[i] &+ w[i])
                round(hh, a, b, &c, d, e, f, &g, k[i + 1] &+ w[i + 1])
                round(g, hh, a, &b, c, d, e, &f, k[i + 2] &+ w[i + 2])
                round(f, g, hh, &a, b, c, d, &e, k[i + 3] &+ w[i + 3])
                round(e, f, g, &hh, a, b, c, &d, k[i + 4] &+ w[i + 4])
                round(d, e, f, &g, hh, a, b, &c, k[i + 5] &+ w[i + 5])
                round(c, d, e, &f, g, hh, a, &b, k[i + 6] &+ w[i + 6])
                round(b, c, d, &e, f, g, hh, &a, k[i + 7] &+ w[i + 7])
                i += 8
            }
        }
        h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e, h.5 &+ f, h.6 &+ g, h.7 &+ hh)
    }

    /// One round on the variables in their current roles: `d` takes the new `e`, `h` the new `a`.
    @inline(__always)
    private static func round(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32,
                              _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32, _ kw: UInt32) {
        let t1 = h &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ (g ^ (e & (f ^ g))) &+ kw
        let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) | (c & (a | b)))
        d = d &+ t1
        h = t1 &+ t2
    }

    @inline(__always)
    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x &>> n) | (x &<< (32 &- n)) }
}
