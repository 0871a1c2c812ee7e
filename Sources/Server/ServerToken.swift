import Basics
import CryptoPrimitives
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The one token the server accepts, Vault's root token of a dev server: every request but
/// `sys/health` and `sys/seal-status` must present it in `X-Vault-Token` (or `Authorization:
/// Bearer`). Compared in constant time: both sides are hashed first, so neither the length nor a
/// prefix of the token can be learned from how long a refusal takes.
public final class ServerToken: Sendable {
    /// Where it came from, for the start-up line: never the token itself.
    public let source: String
    let value: String
    private let digest: [UInt8]
    /// Vault's accessor: names the token without being it (a hash of it, so it is stable).
    let accessor: String

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public init(_ value: String, source: String) throws(Invalid) {
        let token = value.trimmingWhitespaceAndNewlines()
        guard !token.isEmpty else { throw Invalid(description: "the token from \(source) is empty") }
        guard !token.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value > 0x7e }) else {
            throw Invalid(description: "the token from \(source) has a character a header cannot carry: use printable ASCII without spaces")
        }
        self.value = token
        self.source = source
        digest = SHA256.hash(Array(token.utf8))
        accessor = Array(digest.prefix(12)).hexString
    }

    /// A new token as Vault writes service tokens: `hvs.` and 24 base62 characters (142 bits).
    public static func generate() -> String {
        "hvs." + SecureRandom.base62(24)
    }

    func matches(_ presented: String) -> Bool {
        let other = SHA256.hash(Array(presented.utf8))
        var difference: UInt8 = 0
        for (a, b) in zip(digest, other) { difference |= a ^ b }
        return difference == 0
    }

    /// The token a request carries, as Vault reads it: `X-Vault-Token`, else the first
    /// `Authorization: Bearer`.
    static func presented(in request: HTTPRequest) -> String? {
        if let token = request.header("x-vault-token"), !token.isEmpty { return token }
        for header in request.headers where header.name == "authorization" && header.value.hasPrefix("Bearer ") {
            return header.value.dropFirst(7).trimmingWhitespace()
        }
        return nil
    }

    func admits(_ request: HTTPRequest) -> Bool {
        Self.presented(in: request).map(matches) ?? false
    }
}
