/// Foundation's `trimmingCharacters(in:)` for the character sets we trim, written out so that
/// the binary needs only FoundationEssentials (CharacterSet lives in the ICU-backed part).
extension StringProtocol {
    /// `trimmingCharacters(in: .whitespaces)`: tab, Unicode's space separators (Zs) and, as
    /// Foundation's set has it, ZERO WIDTH SPACE (U+200B).
    public func trimmingWhitespace() -> String {
        trimmingScalars(where: isWhitespace)
    }

    /// `trimmingCharacters(in: .whitespacesAndNewlines)`: the whitespace above and the newlines below.
    public func trimmingWhitespaceAndNewlines() -> String {
        trimmingScalars { isWhitespace($0) || isNewline($0) }
    }

    /// `trimmingCharacters(in: .newlines)`: U+000A through U+000D, U+0085, U+2028 and U+2029.
    public func trimmingNewlines() -> String {
        trimmingScalars(where: isNewline)
    }

    /// `trimmingCharacters(in: CharacterSet(charactersIn: scalars))`.
    public func trimming(scalarsIn scalars: String) -> String {
        let set = Set(scalars.unicodeScalars)
        return walkingScalars { set.contains($0) }
    }

    /// Trims by Unicode scalar, as CharacterSet does, not by Character: a combining mark after a
    /// trimmed space stays.
    /// `trimmed` never holds visible ASCII (whitespace, newlines), so text with visible ASCII at
    /// both ends, the common case, is kept as it is without a walk over its scalars.
    private func trimmingScalars(where trimmed: (Unicode.Scalar) -> Bool) -> String {
        if let first = unicodeScalars.first, let last = unicodeScalars.last,
           (0x21...0x7e).contains(first.value), (0x21...0x7e).contains(last.value) {
            return String(self)
        }
        return walkingScalars(where: trimmed)
    }

    /// On a String's own scalars, so the slice is concrete: appending a generic one would look up
    /// its witnesses at the first use, which costs more than the walk.
    private func walkingScalars(where trimmed: (Unicode.Scalar) -> Bool) -> String {
        let scalars = String(self).unicodeScalars
        guard let first = scalars.firstIndex(where: { !trimmed($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !trimmed($0) })!
        return String(scalars[first...last])
    }
}

private func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
    scalar == "\t" || scalar == "\u{200B}" || scalar.properties.generalCategory == .spaceSeparator
}

private func isNewline(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x0a...0x0d, 0x85, 0x2028, 0x2029: return true
    default: return false
    }
}
