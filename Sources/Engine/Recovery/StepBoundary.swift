import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A step boundary of the engine (see `CrashPoint`): one that is to fail fails as a full disk.
func stepBoundary(_ label: @autoclosure () -> String) throws {
    let name = label()
    if CrashPoint.reached(name) {
        throw EngineError.failed("cannot write the state (failure injected at \(name)): \(String(cString: strerror(ENOSPC)))")
    }
}
