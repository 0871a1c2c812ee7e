import Foundation

/// A fresh folder under the system temp dir, removed by `remove()`.
public struct TemporaryFolder {
    public let url: URL

    public init(_ prefix: String = "dbsecrets-test") {
        url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public var path: String { url.path }

    public func remove() { try? FileManager.default.removeItem(at: url) }
}

/// The package root, found from this file's location.
public enum PackageRoot {
    public static var url: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The debug binary the test script builds before running the tests.
    public static var binary: URL { url.appendingPathComponent(".build/debug/dbsecrets") }
}
