import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on a lock file, held for one object's read-modify-write. flock locks are
/// released by the kernel when the process dies, so a killed writer never leaves a stale lock.
final class FileLock {
    private let fd: Int32

    init(path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StateError.io("cannot open lock \(path)", errno) }
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let code = errno
            close(fd)
            throw StateError.io("cannot lock \(path)", code)
        }
        self.fd = fd
    }

    /// A lock taken only if free right now; nil when another process holds it.
    init?(tryPath path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StateError.io("cannot open lock \(path)", errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            close(fd)
            return nil
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
