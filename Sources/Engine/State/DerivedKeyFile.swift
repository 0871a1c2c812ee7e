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
        return entries().last { $0.digest == name }.flatMap { bytes(fromHex: $0.key) }
    }

    func remember(_ key: [UInt8], for digest: [UInt8]) {
        let name = digest.hexString
        save(entries().filter { $0.digest != name }.suffix(Self.capacity - 1) + [(name, key.hexString)])
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

    private func bytes(fromHex text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ d: UInt8) -> UInt8? {
            switch d {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return d - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return d - UInt8(ascii: "a") + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[i]), let low = value(digits[i + 1]) else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }
}
