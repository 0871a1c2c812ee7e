import Basics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The token `dbsecrets server` accepts when none is given to it: `server-token` in the state
/// folder, reached like every state file (descriptor-relative, no links, mode 0600), so whoever
/// may read the state folder may use the server, and nobody else.
extension StateDirectory {
    public static let serverTokenFile = "server-token"

    /// The path of the token file, for messages (`cat` it to get the token).
    public var serverTokenPath: String { root.appendingPathComponent(Self.serverTokenFile).path }

    /// The stored token, or the one `make` returns, stored first. Two servers starting at once
    /// store one token and both use it: the file is created whole or not at all, never replaced.
    public func serverToken(creatingWith make: () -> String) throws -> String {
        guard let root = try rootFolder(create: true) else {
            throw StateError.io("cannot open the state folder \(self.root.path)", ENOENT)
        }
        for _ in 0..<3 {
            if let data = try root.read(Self.serverTokenFile) {
                let token = String(decoding: data, as: UTF8.self).trimmingWhitespaceAndNewlines()
                guard !token.isEmpty, !token.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7f }) else {
                    throw EngineError.failed("\(root.pathOf(Self.serverTokenFile)) does not hold a token: remove it, and the next start makes a new one")
                }
                secrets.add(token)
                return token
            }
            let token = make()
            secrets.add(token)
            if try root.createOnce(Self.serverTokenFile, with: Data((token + "\n").utf8), temporaries: try temporaries()) {
                return token
            }
        }
        throw EngineError.failed("cannot create \(root.pathOf(Self.serverTokenFile)): it keeps appearing and disappearing")
    }
}
