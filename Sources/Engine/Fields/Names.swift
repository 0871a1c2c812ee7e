/// Vault's `framework.GenericNameRegex`: `\w(([\w-.]+)?\w)?`. Besides matching Vault, the rule is
/// what keeps every name inside the state directory: no `/`, no NUL, and no name made only of dots.
public enum ObjectName {
    /// File names are built from names and may not exceed 255 bytes: the longest is the temp file
    /// of a creds intent, `tmp/intents~creds-ROLE.ID.json~PID~RANDOM`, 61 bytes more than ROLE.
    /// 180 leaves room for more, and every name `write` accepts works for every later command.
    public static let maximumLength = 180

    public static func isValid(_ name: String) -> Bool {
        isValid(name[...])
    }

    public static func isValid(_ name: Substring) -> Bool {
        let bytes = name.utf8
        guard let first = bytes.first, let last = bytes.last, bytes.count <= maximumLength else { return false }
        guard isWordByte(first), isWordByte(last) else { return false }
        return bytes.allSatisfy { isWordByte($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
    }

    /// `\w` in Go's RE2 is ASCII only: `[0-9A-Za-z_]`.
    private static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == 0x5f
    }
}
