import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Whole-file replacement that a crash cannot tear: write a temp file in the same folder, fsync it,
/// rename it over the target, fsync the folder. A reader sees the previous or the next content.
///
/// Temp files start with `.` so listings never mistake them for state.
enum AtomicFile {
    static func write(_ data: Data, to url: URL) throws {
        let folder = url.deletingLastPathComponent().path
        let temp = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StateError.io("cannot create \(temp)", errno) }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        // The umask may be permissive; the mode must not be.
        fchmod(fd, 0o600)
        let written = data.withUnsafeBytes { buffer -> Int in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return -1
                }
                offset += n
            }
            return offset
        }
        let syncResult = fsync(fd)
        close(fd)
        guard written == data.count, syncResult == 0 else { throw StateError.io("cannot write \(url.path)", errno) }
        try stepBoundary("replace \(url.lastPathComponent)")
        guard rename(temp, url.path) == 0 else { throw StateError.io("cannot replace \(url.path)", errno) }
        ok = true
        syncFolder(folder)
    }

    static func remove(_ url: URL) throws {
        try stepBoundary("remove \(url.lastPathComponent)")
        if unlink(url.path) != 0 && errno != ENOENT {
            throw StateError.io("cannot remove \(url.path)", errno)
        }
        syncFolder(url.deletingLastPathComponent().path)
    }

    static func syncFolder(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}

/// Failures of the state directory itself, with the file named.
enum StateError {
    static func io(_ what: String, _ code: Int32) -> EngineError {
        .failed("\(what): \(String(cString: strerror(code)))")
    }
}
