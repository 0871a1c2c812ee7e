import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on a lock file, held for one object's read-modify-write. flock locks are
/// released by the kernel when the process dies, so a killed writer never leaves a stale lock.
final class FileLock {
    private let fd: Int32

    /// Locks `name` in `folder` (creating it 0600), waiting for it when `wait`; nil when `wait`
    /// is false and another process holds it. A link or a FIFO planted as the lock file is refused.
    init?(in folder: StateFolder, _ name: String, wait: Bool) throws {
        guard let fd = try folder.openRegularFile(name, flags: O_RDWR | O_CREAT) else {
            throw StateError.io("cannot open lock \(folder.pathOf(name))", ENOENT)
        }
        fchmod(fd, 0o600)
        while flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let code = errno
            close(fd)
            if !wait && code == EWOULDBLOCK { return nil }
            throw StateError.io("cannot lock \(folder.pathOf(name))", code)
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
