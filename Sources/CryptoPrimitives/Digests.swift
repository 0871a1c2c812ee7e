// STUB: the crypto helper replaces this file with real implementations (one file per primitive).
public enum SHA256 {
    public static func hash<D: Collection>(_ data: D) -> [UInt8] where D.Element == UInt8 { fatalError("unimplemented") }
}
public enum SHA1 {
    public static func hash<D: Collection>(_ data: D) -> [UInt8] where D.Element == UInt8 { fatalError("unimplemented") }
}
public enum MD5 {
    public static func hash<D: Collection>(_ data: D) -> [UInt8] where D.Element == UInt8 { fatalError("unimplemented") }
}
public enum HMAC {
    public static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] { fatalError("unimplemented") }
    public static func sha1(key: [UInt8], message: [UInt8]) -> [UInt8] { fatalError("unimplemented") }
}
public enum PBKDF2 {
    public static func sha256(password: [UInt8], salt: [UInt8], iterations: Int, keyLength: Int) -> [UInt8] { fatalError("unimplemented") }
}
extension Array where Element == UInt8 {
    /// Lower-case hex.
    public var hexString: String { map { String(format: "%02x", $0) }.joined() }
}
import Foundation
