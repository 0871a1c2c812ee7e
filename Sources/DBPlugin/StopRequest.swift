#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Set from a signal handler when the process must stop (the agent's SIGTERM or SIGINT). Every
/// socket wait checks it at least every `BlockingSocket.waitSlice` seconds and gives up with
/// `SocketError.Kind.stopped`, so a hung database cannot hold a stop for its statement timeout:
/// the operation in progress fails like any lost connection, which the engine already recovers.
public enum StopRequest {
    /// Written only with 1, from a signal handler: a plain `sig_atomic_t` is what POSIX allows there.
    nonisolated(unsafe) public static var flag: sig_atomic_t = 0

    public static var isRequested: Bool { flag != 0 }
}
