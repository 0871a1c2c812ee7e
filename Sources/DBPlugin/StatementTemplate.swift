import Foundation

/// Vault's `dbutil.QueryHelper`: literal `{{key}}` replacement in statements.
public enum StatementTemplate {
    public static func render(_ statement: String, _ values: [String: String]) -> String {
        var out = statement
        for (key, value) in values {
            out = out.replacingOccurrences(of: "{{\(key)}}", with: value)
        }
        return out
    }

    /// Go layout "2006-01-02 15:04:05-0700", the `{{expiration}}` format of the SQL plugins.
    public static func expiration(_ date: Date, timeZone: TimeZone = .current) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ssZ"
        return formatter.string(from: date)
    }
}
