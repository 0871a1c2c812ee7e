#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Whole-file replacement that a crash cannot tear: write a temp file, fsync it, rename it over
/// the target, fsync the folder. A reader sees the previous or the next content.
///
/// Temp files live in the state folder's `tmp/`, named `FOLDER~FILE~PID~RANDOM`, so that the
/// leftovers of a killed writer (which may hold old and new passwords) are found without listing
/// a folder of 100,000 leases: the next write or delete of the same object removes them, and so
/// does `tidy` once they are a minute old.
extension StateFolder {
    /// Temp files younger than this may belong to a writer that is still running.
    static let leftoverAge: TimeInterval = 60

    /// The folder's own name, which prefixes its temp files.
    /// Cut from the text (a folder's path never ends in `/`): `URL`'s `lastPathComponent` costs
    /// thousands of instructions a write.
    var tag: String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return String(path[path.utf8.index(after: slash)...])
    }

    /// `isStep`: a step of an operation, where the crash tests stop it (`stepBoundary`); a cache
    /// file, whose loss changes nothing, is not one.
    func replace(_ name: String, with data: Data, temporaries: StateFolder, isStep: Bool = true) throws {
        if try entryType(name) == S_IFDIR { throw StateError.unexpected(pathOf(name), S_IFDIR, expected: "a regular file") }
        removeLeftovers(of: name, in: temporaries)
        let temp = "\(tag)~\(name)~\(getpid())~\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        // O_EXCL|O_NOFOLLOW: a name planted in tmp/ (a link, anything) fails the create, never redirects it.
        let tempFD = openat(temporaries.fd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard tempFD >= 0 else { throw StateError.io("cannot create \(temporaries.pathOf(temp))", errno) }
        var renamed = false
        defer {
            if !renamed { unlinkat(temporaries.fd, temp, 0) }
        }
        // The umask may be permissive; the mode must not be.
        fchmod(tempFD, 0o600)
        let written = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(tempFD, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
        let synced = written && fsync(tempFD) == 0
        let code = errno
        close(tempFD)
        guard synced else { throw StateError.io("cannot write \(pathOf(name))", code) }
        if isStep { try stepBoundary("replace \(name)") }
        guard renameat(temporaries.fd, temp, fd, name) == 0 else { throw StateError.io("cannot replace \(pathOf(name))", errno) }
        renamed = true
        sync()
    }

    /// Creates `name` with `data`, whole (temp file, fsync, then a hard link, which fails when the
    /// name exists); false, changing nothing, when `name` already exists.
    func createOnce(_ name: String, with data: Data, temporaries: StateFolder) throws -> Bool {
        let temp = "\(tag)~\(name)~\(getpid())~\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        let tempFD = openat(temporaries.fd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard tempFD >= 0 else { throw StateError.io("cannot create \(temporaries.pathOf(temp))", errno) }
        defer { unlinkat(temporaries.fd, temp, 0) }
        fchmod(tempFD, 0o600)
        let written = data.withUnsafeBytes { Glibc.write(tempFD, $0.baseAddress, $0.count) == $0.count }
        let synced = written && fsync(tempFD) == 0
        let code = errno
        close(tempFD)
        guard synced else { throw StateError.io("cannot write \(pathOf(name))", code) }
        guard linkat(temporaries.fd, temp, fd, name, 0) == 0 else {
            if errno == EEXIST { return false }
            throw StateError.io("cannot create \(pathOf(name))", errno)
        }
        sync()
        return true
    }

    /// Removes the temp files of `name` left by writers that are gone: their process no longer
    /// exists, or they are older than any write takes.
    func removeLeftovers(of name: String, in temporaries: StateFolder) {
        let prefix = "\(tag)~\(name)~"
        guard let entries = try? temporaries.names() else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            let rest = entry.dropFirst(prefix.count)
            guard let pid = rest.split(separator: "~").first.flatMap({ pid_t($0) }), rest.split(separator: "~").count == 2 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH || temporaries.isOlder(entry, than: Self.leftoverAge) {
                unlinkat(temporaries.fd, entry, 0)
            }
        }
    }

    /// Removes every temp file older than `age` (tidy's sweep), and the leftovers of versions
    /// before `tmp/` existed (`.FILE.tmp-PID-RANDOM` beside the file) from `legacyFolders`.
    func removeLeftovers(olderThan age: TimeInterval, legacyFolders: [StateFolder]) {
        for entry in (try? names()) ?? [] where isOlder(entry, than: age) {
            unlinkat(fd, entry, 0)
        }
        for folder in legacyFolders {
            for entry in (try? folder.names()) ?? [] where entry.hasPrefix(".") && entry.contains(".tmp-") && folder.isOlder(entry, than: age) {
                unlinkat(folder.fd, entry, 0)
            }
        }
    }

    /// Removes the leftovers of `name` from versions before `tmp/` existed.
    func removeLegacyLeftovers(of name: String) {
        let prefix = "." + name + ".tmp-"
        for entry in (try? names()) ?? [] where entry.hasPrefix(prefix) {
            unlinkat(fd, entry, 0)
        }
    }

    /// True when the entry `name` (not what a link names) was last changed more than `age` ago.
    func isOlder(_ name: String, than age: TimeInterval) -> Bool {
        guard let status = try? entryStatus(name) else { return false }
        let changed = TimeInterval(status.st_mtim.tv_sec) + TimeInterval(status.st_mtim.tv_nsec) / 1e9
        return Date().timeIntervalSince1970 - changed > age
    }
}
