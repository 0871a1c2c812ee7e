import Basics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Text made safe for mdoc(7) source.
enum Roff {
    /// A paragraph of running text: backslashes escaped, one sentence per line (roff's rule, so
    /// that sentence spacing is right), and no line that roff would read as a request.
    static func text(_ paragraph: String) -> String {
        let escaped = paragraph.replacingEvery("\\", with: "\\e")
        var lines: [String] = []
        var line = ""
        let characters = Array(escaped)
        var i = 0
        while i < characters.count {
            let c = characters[i]
            line.append(c)
            let endsSentence = ".?!".contains(c) && i + 2 < characters.count && characters[i + 1] == " "
                && characters[i + 2] != " " && !line.hasSuffix("e.g.") && !line.hasSuffix("i.e.")
            if endsSentence || c == "\n" {
                lines.append(line.trimmingWhitespace())
                line = ""
                i += endsSentence ? 2 : 1
                continue
            }
            i += 1
        }
        if !line.trimmingWhitespace().isEmpty { lines.append(line.trimmingWhitespace()) }
        return lines.filter { !$0.isEmpty }.map(minusInFlags).flatMap(wrap).map(safeLine).joined(separator: "\n")
    }

    /// Source lines of at most 80 bytes where spaces allow (mandoc's style check).
    static func wrap(_ line: String) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in line.split(separator: " ", omittingEmptySubsequences: true) {
            if !current.isEmpty && current.utf8.count + 1 + word.utf8.count > 80 {
                lines.append(current)
                current = ""
            }
            current += current.isEmpty ? String(word) : " " + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// A line of a literal display: escaped, and protected when it starts like a request.
    static func literal(_ line: String) -> String {
        safeLine(line.replacingEvery("\\", with: "\\e").replacingEvery("-", with: "\\-"))
    }

    /// Dashes of flags written in text are minus signs (`\-`), so they copy as typed and
    /// never hyphenate; other dashes stay hyphens.
    static func minusInFlags(_ line: String) -> String {
        line.split(separator: " ", omittingEmptySubsequences: false).map { word -> String in
            let start = word.firstIndex { $0 != "(" && $0 != "\"" && $0 != "'" } ?? word.startIndex
            guard word[start...].hasPrefix("-"), word[start...].count > 1 else { return String(word) }
            return String(word[..<start]) + word[start...].replacingEvery("-", with: "\\-")
        }.joined(separator: " ")
    }

    static func safeLine(_ line: String) -> String {
        line.hasPrefix(".") || line.hasPrefix("'") ? "\\&" + line : line
    }

    /// A macro argument, quoted when it holds spaces.
    static func argument(_ text: String) -> String {
        let escaped = text.replacingEvery("\\", with: "\\e")
        return escaped.contains(" ") ? "\"\(escaped)\"" : escaped
    }
}
