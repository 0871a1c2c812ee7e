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
    /// Where the unlocked descriptor goes (`LockFiles`); nil closes it.
    private let giveBack: ((Int32) -> Void)?

    /// Locks `name` in `folder` (creating it 0600), waiting for it when `wait`; nil when `wait`
    /// is false and another process holds it (exclusively, for a `shared` lock). A link or a FIFO planted as the lock file is refused.
    convenience init?(in folder: StateFolder, _ name: String, wait: Bool, shared: Bool = false) throws {
        try self.init(descriptor: try Self.open(name, in: folder), path: folder.pathOf(name), wait: wait, shared: shared, giveBack: nil)
    }

    /// Locks the open lock file `fd`; `giveBack` receives it unlocked, when the lock is released
    /// or could not be taken. It is never called with a descriptor that holds a lock.
    init?(descriptor fd: Int32, path: @autoclosure () -> String, wait: Bool, shared: Bool = false,
          giveBack: ((Int32) -> Void)?) throws {
        let mode = shared ? LOCK_SH : LOCK_EX
        while flock(fd, wait ? mode : mode | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let code = errno
            if let giveBack { giveBack(fd) } else { close(fd) }
            if !wait && code == EWOULDBLOCK { return nil }
            throw StateError.io("cannot lock \(path())", code)
        }
        self.fd = fd
        self.giveBack = giveBack
    }

    /// The lock file `name` in `folder`, opened (created 0600 if absent).
    static func open(_ name: String, in folder: StateFolder) throws -> Int32 {
        guard let fd = try folder.openRegularFile(name, flags: O_RDWR | O_CREAT) else {
            throw StateError.io("cannot open lock \(folder.pathOf(name))", ENOENT)
        }
        // Only when the mode is wrong (a file just made under a permissive umask): a chmod always
        // changes the inode's ctime, a journal entry, and every creds opens a lock per intent
        // pending on its role, so under many concurrent processes these were fsyncs' cargo.
        var status = stat()
        if fstat(fd, &status) != 0 || status.st_mode & 0o7777 != 0o600 { fchmod(fd, 0o600) }
        return fd
    }

    /// Gives the lock up before the object goes (for one taken again in another mode).
    func release() {
        guard held else { return }
        held = false
        flock(fd, LOCK_UN)
        if let giveBack { giveBack(fd) } else { close(fd) }
    }

    deinit { release() }
}

/// Lock files kept open between one lock and the next, for a pass that takes many locks on the
/// same few files (a tidy pass locks a lease slot twice per lease: opening the file was seven
/// system calls of the nine a lock cost). Lives as long as the pass (`SharedPlugins`).
///
/// A descriptor is taken out while its lock is held and put back unlocked, so two locks held at
/// once never share one: each still has its own open file, which `flock` excludes from every
/// other, in this process as in any other. One whose file was removed meanwhile (no link left)
/// is closed and the file opened again by name, so a lock is never taken on a file nobody else
/// can open.
final class LockFiles {
    private var idle: [String: Int32] = [:]

    deinit { idle.values.forEach { close($0) } }

    func lock(_ name: String, in folder: StateFolder, wait: Bool) throws -> FileLock? {
        var fd = idle.removeValue(forKey: name) ?? -1
        if fd >= 0 {
            var status = stat()
            if fstat(fd, &status) != 0 || status.st_nlink == 0 {
                close(fd)
                fd = -1
            }
        }
        if fd < 0 { fd = try FileLock.open(name, in: folder) }
        return try FileLock(descriptor: fd, path: folder.pathOf(name), wait: wait) { [weak self] fd in
            guard let self, self.idle[name] == nil else {
                close(fd)
                return
            }
            self.idle[name] = fd
        }
    }
}
