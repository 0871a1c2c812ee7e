/// Go's `time.ParseDuration` for the units a timeout uses: `5s`, `500ms`, `1m30s`, `0`.
public enum GoDuration {
    public static func seconds(_ text: String) -> Double? {
        if text == "0" { return 0 }
        var total = 0.0
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60),
                                         ("h", 3600)]
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            total += value * unit.1
            rest = rest.dropFirst(unit.0.count)
        }
        return total
    }
}
