import Foundation

/// Folders for `-state-dir`, offered as the typed text continues (`~` kept as typed), each
/// with a trailing slash so completion can descend.
struct DirectoryCandidates {
    let environment: [String: String]

    func matching(_ typed: String) -> [String] {
        let slash = typed.lastIndex(of: "/")
        let typedFolder = slash.map { String(typed[...$0]) } ?? ""
        let namePrefix = slash.map { String(typed[typed.index(after: $0)...]) } ?? typed
        let folder = typedFolder.isEmpty ? "." : Self.expandTilde(typedFolder, environment: environment)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return entries.filter { entry in
            guard entry.hasPrefix(namePrefix), !entry.hasPrefix(".") || namePrefix.hasPrefix(".") else { return false }
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(entry), isDirectory: &isFolder) && isFolder.boolValue
        }.sorted().map { typedFolder + $0 + "/" }
    }

    /// Shells pass `~/x` unexpanded while a word is being completed.
    static func expandTilde(_ path: String, environment: [String: String]) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + path.dropFirst()
    }
}
