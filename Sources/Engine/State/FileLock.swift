#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on a lock file, held for one object's read-modify-write. flock locks are
/// released by the kernel when the process dies, so a killed writer never leaves a stale lock.
final class FileLock {
    private let fd: Int32
    private var held = true

    /// Locks `name` in `folder` (creating it 0600), waiting for it when `wait`; nil when `wait`
    /// is false and another process holds it (exclusively, for a `shared` lock). A link or a FIFO planted as the lock file is refused.
    init?(in folder: StateFolder, _ name: String, wait: Bool, shared: Bool = false) throws {
        guard let fd = try folder.openRegularFile(name, flags: O_RDWR | O_CREAT) else {
            throw StateError.io("cannot open lock \(folder.pathOf(name))", ENOENT)
        }
        // Only when the mode is wrong (a file just made under a permissive umask): a chmod always
        // changes the inode's ctime, a journal entry, and every creds opens a lock per intent
        // pending on its role, so under many concurrent processes these were fsyncs' cargo.
        var status = stat()
        if fstat(fd, &status) != 0 || status.st_mode & 0o7777 != 0o600 { fchmod(fd, 0o600) }
        let mode = shared ? LOCK_SH : LOCK_EX
        while flock(fd, wait ? mode : mode | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let code = errno
            close(fd)
            if !wait && code == EWOULDBLOCK { return nil }
            throw StateError.io("cannot lock \(folder.pathOf(name))", code)
        }
        self.fd = fd
    }

    /// Gives the lock up before the object goes (for one taken again in another mode).
    func release() {
        guard held else { return }
        held = false
        flock(fd, LOCK_UN)
        close(fd)
    }

    deinit { release() }
}
