#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// URL percent-encoding, written out: Foundation's `addingPercentEncoding` and
/// `removingPercentEncoding` take or live beside CharacterSet, which FoundationEssentials lacks.
public enum PercentEncoding {
    /// `%XX` escapes (either case) decoded, and `+` as a space if asked; nil for a `%` without two
    /// hex digits after it or bytes that are not UTF-8, as `removingPercentEncoding` answers.
    public static func decoded<S: StringProtocol>(_ text: S, plusIsSpace: Bool = false) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case 0x25:
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            case 0x2b where plusIsSpace:
                bytes.append(0x20)
            default:
                bytes.append(byte)
            }
        }
        return String(bytes: bytes, encoding: .utf8)
    }

    /// Every scalar but the ASCII ones `kept` keeps, as its UTF-8 bytes in `%XX` (upper-case), as
    /// `addingPercentEncoding(withAllowedCharacters:)` writes them: it never keeps a non-ASCII
    /// scalar, whatever the set says.
    public static func encoded(_ text: String, keeping kept: (Unicode.Scalar) -> Bool) -> String {
        let digits = Array("0123456789ABCDEF".unicodeScalars)
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.isASCII && kept(scalar) {
                out.append(scalar)
                continue
            }
            for byte in String(scalar).utf8 {
                out.append("%")
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0x0f)])
            }
        }
        return String(out)
    }

    /// A-Z, a-z, 0-9: the ASCII part of CharacterSet.alphanumerics.
    public static func isASCIIAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9": return true
        default: return false
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }
}
