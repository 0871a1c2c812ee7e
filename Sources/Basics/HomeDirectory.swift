#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The user's home folder from the password database, for when `HOME` is unset or empty: what
/// Foundation's NSHomeDirectory() falls back to (it is not in FoundationEssentials).
public func passwordDatabaseHome() -> String {
    guard let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir else { return "/" }
    return String(cString: directory)
}
