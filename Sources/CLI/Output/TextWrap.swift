/// `kr/text`'s `Wrap`: minimum-raggedness line breaking (not greedy), widths in bytes, as Vault
/// wraps warnings and help text. A line that fits from a word to the end is taken whole;
/// otherwise the cost of a line is (limit − length)², plus 100000 if it overflows.
enum TextWrap {
    static func wrap(_ text: String, width: Int) -> [String] {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        guard !words.isEmpty else { return [""] }
        let n = words.count
        let sizes = words.map { $0.utf8.count }
        // length(i, j): bytes of words i...j joined by single spaces.
        func length(_ i: Int, _ j: Int) -> Int { sizes[i...j].reduce(0, +) + (j - i) }
        var cost = [Int](repeating: Int(Int32.max), count: n)
        var breakAt = [Int](repeating: n, count: n)
        for i in stride(from: n - 1, through: 0, by: -1) {
            if length(i, n - 1) <= width {
                cost[i] = 0
                breakAt[i] = n
                continue
            }
            var running = sizes[i]
            for j in (i + 1)..<n {
                let d = width - running
                var c = d * d + cost[j]
                if running > width { c += 100_000 }
                if c < cost[i] {
                    cost[i] = c
                    breakAt[i] = j
                }
                running += 1 + sizes[j]
            }
        }
        var lines: [String] = []
        var i = 0
        while i < n {
            lines.append(words[i..<breakAt[i]].joined(separator: " "))
            i = breakAt[i]
        }
        return lines
    }

    /// Vault's `wrapAtLengthWithPadding`: wrap at 78 − pad, every line indented by pad spaces.
    static func wrapWithPadding(_ text: String, pad: Int) -> String {
        let indent = String(repeating: " ", count: pad)
        return wrap(text, width: 78 - pad).map { indent + $0 }.joined(separator: "\n")
    }
}
