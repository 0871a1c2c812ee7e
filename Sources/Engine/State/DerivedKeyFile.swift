import CryptoPrimitives
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `sys/derived-keys.json`: the state folder's `DerivedKeyStore` (SCRAM's salted passwords of the
/// connections' root users), the newest few. It sits under the same protection as the passwords
/// in `config/` it is derived from, which it is worth no more than. A cache: written without the
/// crash tests' step boundary, any failure to read or write it only costs a derivation, and a
/// file that does not parse is as good as none.
final class DerivedKeyFile: DerivedKeyStore {
    static let name = "derived-keys.json"
    /// A key per root password and server: a few connections, each possibly on a primary and a replica.
    static let capacity = 32
    private let state: StateDirectory

    init(state: StateDirectory) {
        self.state = state
    }

    func key(for digest: [UInt8]) -> [UInt8]? {
        let name = digest.hexString
        return entries().last { $0.digest == name }.flatMap { Data(base64Encoded: $0.key).map { Array($0) } }
    }

    func remember(_ key: [UInt8], for digest: [UInt8]) {
        let name = digest.hexString
        save(entries().filter { $0.digest != name }.suffix(Self.capacity - 1) + [(name, Data(key).base64EncodedString())])
    }

    func forget(_ digest: [UInt8]) {
        let name = digest.hexString
        let kept = entries()
        if kept.contains(where: { $0.digest == name }) { save(kept.filter { $0.digest != name }) }
    }

    private func entries() -> [(digest: String, key: String)] {
        guard let folder = try? state.openFolder(.system, create: false), let data = try? folder.read(Self.name),
              case .object(let file)? = try? JSONParser.parse(data), file["format_version"] == .int(StateCoding.formatVersion),
              case .array(let items)? = file["keys"] else { return [] }
        return items.compactMap { item in
            guard case .array(let pair) = item, pair.count == 2, let digest = pair[0].stringValue, let key = pair[1].stringValue else { return nil }
            return (digest, key)
        }
    }

    private func save(_ entries: [(digest: String, key: String)]) {
        let lines = entries.map { "    [\"\($0.digest)\", \"\($0.key)\"]" }
        let text = "{\n  \"format_version\" : \(StateCoding.formatVersion),\n  \"keys\" : [\n" + lines.joined(separator: ",\n") + "\n  ]\n}\n"
        guard let folder = try? state.openFolder(.system, create: true), let temporaries = try? state.temporaries() else { return }
        try? folder.replace(Self.name, with: Data(text.utf8), temporaries: temporaries, isStep: false)
    }
}
