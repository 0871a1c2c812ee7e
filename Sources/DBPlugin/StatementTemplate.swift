import Basics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Vault's `dbutil.QueryHelper`: literal `{{key}}` replacement in statements.
public enum StatementTemplate {
    /// Plain replacement, for text that is not SQL (a connection URL).
    public static func render(_ statement: String, _ values: [String: String]) -> String {
        var out = statement
        for (key, value) in values {
            out = out.replacingEvery("{{\(key)}}", with: value)
        }
        return out
    }

    /// Go layout "2006-01-02 15:04:05-0700", the `{{expiration}}` format of the SQL plugins.
    /// Written by hand: the DateFormatter it replaces cost each `creds` about a millisecond and
    /// 3 MiB of ICU data.
    /// `timeZone` nil: the process's local zone (TZ, /etc/localtime) as the C library reads it, for
    /// FoundationEssentials' TimeZone.current knows no named zone without ICU and says GMT.
    public static func expiration(_ date: Date, timeZone: TimeZone? = nil) -> String {
        let offset = Int64(timeZone?.secondsFromGMT(for: date)
                           ?? CivilDate.localUTCOffset(unixSeconds: Int64(date.timeIntervalSince1970.rounded(.down))))
        // Like ICU: to the nearest millisecond first, then whole seconds.
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let utcSeconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let (days, second) = CivilDate.split(seconds: utcSeconds + offset)
        let (year, month, day) = CivilDate.date(days: days)
        let zone = (offset < 0 ? "-" : "+") + CivilDate.pad(abs(offset) / 3600, 2) + CivilDate.pad(abs(offset) / 60 % 60, 2)
        return CivilDate.pad(year, 4) + "-" + CivilDate.pad(month, 2) + "-" + CivilDate.pad(day, 2) + " "
            + CivilDate.pad(second / 3600, 2) + ":" + CivilDate.pad(second / 60 % 60, 2) + ":"
            + CivilDate.pad(second % 60, 2) + zone
    }
}
