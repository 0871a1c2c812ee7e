import Basics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Paths on disk as the typed text continues (`~` kept as typed): folders with a trailing
/// slash so completion can descend, and files unless only folders are wanted (`-state-dir`).
struct FileCandidates {
    let environment: [String: String]

    func matching(_ typed: String, folders onlyFolders: Bool) -> [String] {
        let slash = typed.lastIndex(of: "/")
        let typedFolder = slash.map { String(typed[...$0]) } ?? ""
        let namePrefix = slash.map { String(typed[typed.index(after: $0)...]) } ?? typed
        let folder = typedFolder.isEmpty ? "." : Self.expandTilde(typedFolder, environment: environment)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return entries.filter { $0.hasPrefix(namePrefix) && (!$0.hasPrefix(".") || namePrefix.hasPrefix(".")) }
            .sorted()
            .compactMap { entry in
                var isFolder = false
                guard FileManager.default.fileExists(atPath: folder.hasSuffix("/") ? folder + entry : folder + "/" + entry, isDirectory: &isFolder) else { return nil }
                if isFolder { return typedFolder + entry + "/" }
                return onlyFolders ? nil : typedFolder + entry
            }
    }

    /// Shells pass `~/x` unexpanded while a word is being completed.
    static func expandTilde(_ path: String, environment: [String: String]) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? passwordDatabaseHome()
        return home + path.dropFirst()
    }
}
