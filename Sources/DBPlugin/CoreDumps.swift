#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Every dbsecrets process holds root passwords in memory; a crash under `ulimit -c unlimited`
/// or systemd-coredump would write them to disk. Each executable calls this first thing.
public enum CoreDumps {
    public static func disable() {
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &none)
        #if os(Linux)
        // Also keeps other processes of the same user from attaching with ptrace or reading
        // /proc/PID/mem and /proc/PID/environ. prctl is variadic in C, so Swift cannot call it
        // directly; its arguments are plain integers, passed the same way either way.
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        let setDumpable: Int32 = 4 // PR_SET_DUMPABLE in <linux/prctl.h>, which Glibc does not export
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "prctl") {
            _ = unsafeBitCast(symbol, to: Prctl.self)(setDumpable, 0, 0, 0, 0)
        }
        #endif
    }
}
