/// Search and replace on the bytes of the text, as NSString's literal search does, never on
/// Characters. The standard library's `replacing(_:with:)` and `contains(_:)` compare Characters:
/// a quote followed by a combining mark (`'` U+0301) is one Character that is not a quote, so a
/// quoting function built on them leaves that quote undoubled, and a database, which reads
/// scalars, sees the quote end the literal. Both operands are valid UTF-8, so a byte-wise match
/// always starts and ends on scalar boundaries.
extension StringProtocol {
    /// Every occurrence of `target`, left to right and not overlapping, replaced. An empty
    /// `target` changes nothing.
    public func replacingEvery<Target: StringProtocol, Replacement: StringProtocol>(
        _ target: Target, with replacement: Replacement) -> String {
        let text = Array(utf8), pattern = Array(target.utf8)
        guard !pattern.isEmpty, text.count >= pattern.count else { return String(self) }
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var at = 0
        while at < text.count {
            if text[at] == pattern[0] && at + pattern.count <= text.count
                && text[at..<at + pattern.count].elementsEqual(pattern) {
                out.append(contentsOf: replacement.utf8)
                at += pattern.count
            } else {
                out.append(text[at])
                at += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `target` occurs in the text's bytes (an empty `target` always does).
    public func containsLiterally<Target: StringProtocol>(_ target: Target) -> Bool {
        let text = Array(utf8), pattern = Array(target.utf8)
        guard !pattern.isEmpty else { return true }
        guard text.count >= pattern.count else { return false }
        for start in 0...(text.count - pattern.count) where text[start] == pattern[0] {
            if text[start..<start + pattern.count].elementsEqual(pattern) { return true }
        }
        return false
    }
}

extension Array where Element == String {
    /// The standard library's `joined(separator:)`, for the arrays of strings every command joins.
    /// Its generic version looks up its witnesses at its first use in a process, a scan of every
    /// conformance in the binary that cost a twentieth of a short command's start-up; this one,
    /// on a concrete type, is resolved when compiled.
    public func joined(separator: String = "") -> String {
        var text = ""
        for (i, part) in enumerated() {
            if i > 0 { text += separator }
            text += part
        }
        return text
    }
}
