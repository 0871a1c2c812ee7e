import Foundation

extension String {
    /// This text with every occurrence of each secret replaced by `placeholder`, as Vault's error
    /// sanitizer does. Longer secrets go first, so a password that contains another is hidden whole.
    public func redacting(_ secrets: [String], as placeholder: String = "[password]") -> String {
        secrets.filter { !$0.isEmpty }.sorted { $0.count > $1.count }.reduce(self) {
            $0.replacingOccurrences(of: $1, with: placeholder)
        }
    }
}
