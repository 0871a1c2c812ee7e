/// Encodes commands the way every Redis client sends them: an array of bulk strings, so any
/// byte (spaces, CR/LF, NUL in a password) passes through unchanged.
public enum RESPEncoder {
    public static func command(_ arguments: [String]) -> [UInt8] {
        command(arguments.map { Array($0.utf8) })
    }

    public static func command(_ arguments: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16 + arguments.reduce(0) { $0 + $1.count + 16 })
        out.append(UInt8(ascii: "*"))
        out.append(contentsOf: String(arguments.count).utf8)
        out.append(contentsOf: crlf)
        for argument in arguments {
            out.append(UInt8(ascii: "$"))
            out.append(contentsOf: String(argument.count).utf8)
            out.append(contentsOf: crlf)
            out.append(contentsOf: argument)
            out.append(contentsOf: crlf)
        }
        return out
    }

    private static let crlf: [UInt8] = [13, 10]
}
