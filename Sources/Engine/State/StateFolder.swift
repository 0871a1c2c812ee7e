#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// One folder of the state directory, held open as a descriptor. Every name is looked up
/// relative to it, one component at a time, and never through a symbolic link: whoever plants a
/// link, a FIFO or a device inside the state folder gets a refusal that names the path, and
/// nothing outside the state folder is ever opened, created or removed through it.
///
/// Names given to these methods are single components (the engine's names never hold `/`).
final class StateFolder: @unchecked Sendable {
    let fd: Int32
    /// For messages only: the folder is reached through `fd`, never through this path again.
    let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// The largest state file read; anything bigger is not something dbsecrets wrote.
    static let maximumFileSize = 64 << 20

    func pathOf(_ name: String) -> String { path + "/" + name }

    // MARK: Folders

    /// The sub-folder `name`: nil when absent, unless `create` makes it (mode 0700). An existing
    /// one must be a real folder that nobody else may write (unless `checked` is false: the caller
    /// checks it by its own rule).
    func folder(_ name: String, create: Bool, checked: Bool = true) throws -> StateFolder? {
        var created = false
        while true {
            switch try entryType(name) {
            case nil:
                guard create else { return nil }
                if mkdirat(fd, name, 0o700) != 0 && errno != EEXIST {
                    throw StateError.io("cannot create the folder \(pathOf(name))", errno)
                }
                created = true
                continue
            case S_IFDIR?:
                break
            case let other?:
                throw StateError.unexpected(pathOf(name), other, expected: "a folder")
            }
            let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard child >= 0 else {
                if errno == ENOENT { continue }
                if errno == ELOOP || errno == ENOTDIR { throw StateError.unexpected(pathOf(name), S_IFLNK, expected: "a folder") }
                throw StateError.io("cannot open the folder \(pathOf(name))", errno)
            }
            let folder = StateFolder(fd: child, path: pathOf(name))
            if created {
                // The umask may be permissive; the mode must not be.
                fchmod(child, 0o700)
                sync()
            }
            if checked { try StateFolderTrust.checkInnerFolder(folder) }
            return folder
        }
    }

    /// Removes the sub-folder `name` if it is empty; anything else is left as it is.
    func removeFolderIfEmpty(_ name: String) {
        guard (try? entryType(name)) == S_IFDIR else { return }
        unlinkat(fd, name, AT_REMOVEDIR)
    }

    /// Removes the sub-folder `name` and everything in it, depth first, each entry through the
    /// descriptor of its folder: a link is removed itself, never followed. Absent is fine.
    func removeTree(_ name: String) throws {
        switch try entryType(name) {
        case nil: return
        case S_IFDIR?:
            let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard child >= 0 else {
                if errno == ENOENT { return }
                throw StateError.io("cannot open the folder \(pathOf(name))", errno)
            }
            let folder = StateFolder(fd: child, path: pathOf(name))
            for entry in try folder.names() {
                if try folder.entryType(entry) == S_IFDIR {
                    try folder.removeTree(entry)
                } else if unlinkat(folder.fd, entry, 0) != 0 && errno != ENOENT {
                    throw StateError.io("cannot remove \(folder.pathOf(entry))", errno)
                }
            }
            if unlinkat(fd, name, AT_REMOVEDIR) != 0 && errno != ENOENT {
                throw StateError.io("cannot remove the folder \(pathOf(name))", errno)
            }
            sync()
        default:
            try remove(name)
        }
    }

    /// The names in this folder, `.` and `..` excepted, in no particular order.
    func names() throws -> [String] {
        var names: [String] = []
        try forEachEntry { name in
            if !name.elementsEqual(".".utf8) && !name.elementsEqual("..".utf8) { names.append(String(decoding: name, as: UTF8.self)) }
        }
        return names
    }

    /// Every entry's name as its bytes, `.` and `..` included, in no particular order.
    private func forEachEntry(_ body: (UnsafeRawBufferPointer.SubSequence) -> Void) throws {
        // A descriptor of its own, so the listing's read position is not shared with `fd`.
        let listing = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard listing >= 0, let dir = fdopendir(listing) else {
            let code = errno
            if listing >= 0 { close(listing) }
            throw StateError.io("cannot list \(path)", code)
        }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            withUnsafeBytes(of: entry.pointee.d_name) { raw in body(raw.prefix { $0 != 0 }) }
        }
    }

    /// The names in this folder that end in `suffix` (and do not start with a dot), without it,
    /// in byte order, held in one buffer: a listing of 100,000 files costs their bytes, not
    /// 100,000 strings (for ASCII names, byte order is `String` order).
    func sortedNames(endingIn suffix: String) throws -> NameList {
        let ending = Array(suffix.utf8)
        var list = NameList()
        try forEachEntry { name in
            guard name.count > ending.count, name.first != UInt8(ascii: "."), name.suffix(ending.count).elementsEqual(ending) else { return }
            list.append(name.dropLast(ending.count))
        }
        list.sort()
        return list
    }

    // MARK: Files

    /// The type of the entry `name` itself (`S_IFREG`, `S_IFDIR`, `S_IFLNK`, …), nil when absent.
    func entryType(_ name: String) throws -> mode_t? {
        try entryStatus(name).map { $0.st_mode & S_IFMT }
    }

    func entryStatus(_ name: String) throws -> stat? {
        var status = stat()
        guard fstatat(fd, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return nil }
            throw StateError.io("cannot inspect \(pathOf(name))", errno)
        }
        return status
    }

    /// The contents of the regular file `name`, nil when absent. A FIFO is refused at once, never
    /// waited on; a link is refused, never followed.
    func read(_ name: String) throws -> Data? {
        var status = stat()
        // Left non-blocking: reads of a regular file never block.
        guard let fileFD = try openRegularFile(name, flags: O_RDONLY, status: &status) else { return nil }
        defer { close(fileFD) }
        var data = Data()
        // Sized for the file as it is (a byte more, to see its end), not 64 KiB zeroed per read.
        var buffer = [UInt8](repeating: 0, count: min(max(Int(status.st_size) + 1, 512), 64 << 10))
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fileFD, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw StateError.io("cannot read \(pathOf(name))", errno)
            }
            if count == 0 { return data }
            data.append(contentsOf: buffer[..<count])
            if data.count > Self.maximumFileSize {
                throw EngineError.failed("state file \(pathOf(name)) is larger than \(Self.maximumFileSize >> 20) MiB, which dbsecrets never writes")
            }
        }
    }

    /// Opens the regular file `name` (nil when absent), creating it empty with mode 0600 when
    /// `O_CREAT` is in `flags`. The entry's type is checked before it is opened, so a device is
    /// never opened, and again on the descriptor, in case it changed in between.
    func openRegularFile(_ name: String, flags: Int32) throws -> Int32? {
        var status = stat()
        guard let fileFD = try openRegularFile(name, flags: flags, status: &status) else { return nil }
        // Blocking again for what follows (flock waits; reads of a regular file never block anyway).
        _ = fcntl(fileFD, F_SETFL, fcntl(fileFD, F_GETFL) & ~O_NONBLOCK)
        return fileFD
    }

    /// As `openRegularFile(_:flags:)`, with the descriptor's status, and still non-blocking.
    private func openRegularFile(_ name: String, flags: Int32, status: inout stat) throws -> Int32? {
        let type = try entryType(name)
        if let type, type != S_IFREG { throw StateError.unexpected(pathOf(name), type, expected: "a regular file") }
        if type == nil && flags & O_CREAT == 0 { return nil }
        let fileFD = openat(fd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0o600)
        guard fileFD >= 0 else {
            if errno == ENOENT { return nil }
            if errno == ELOOP { throw StateError.unexpected(pathOf(name), S_IFLNK, expected: "a regular file") }
            throw StateError.io("cannot open \(pathOf(name))", errno)
        }
        guard fstat(fileFD, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            let type = status.st_mode & S_IFMT
            close(fileFD)
            throw StateError.unexpected(pathOf(name), type, expected: "a regular file")
        }
        return fileFD
    }

    /// An empty regular file `name` (an index marker); an existing one is kept as it is.
    /// `durably` waits until the new entry survives a crash.
    func createEmptyFile(_ name: String, durably: Bool = true) throws {
        if try entryType(name) == S_IFREG { return }
        guard let fileFD = try openRegularFile(name, flags: O_WRONLY | O_CREAT) else {
            throw StateError.io("cannot create \(pathOf(name))", ENOENT)
        }
        fchmod(fileFD, 0o600)
        close(fileFD)
        if durably { sync() }
    }

    /// Removes the entry `name` (a link is removed itself, never its target); absent is fine. A
    /// folder is refused, never emptied. `durably` waits until the removal survives a crash.
    func remove(_ name: String, durably: Bool = true) throws {
        if unlinkat(fd, name, 0) != 0 {
            switch errno {
            case ENOENT: return
            case EISDIR:
                throw StateError.unexpected(pathOf(name), S_IFDIR, expected: "a regular file")
            default:
                throw StateError.io("cannot remove \(pathOf(name))", errno)
            }
        }
        if durably { sync() }
    }

    /// True once the folder itself has been removed (as a pass removes an empty index bucket).
    var isGone: Bool {
        var status = stat()
        return fstat(fd, &status) == 0 && status.st_nlink == 0
    }

    /// Makes the folder's entries (a rename, a new file) survive a crash.
    func sync() {
        fsync(fd)
    }
}

/// Failures of the state directory itself, with the file named.
enum StateError {
    static func io(_ what: String, _ code: Int32) -> EngineError {
        .failed("\(what): \(String(cString: strerror(code)))")
    }

    /// Something other than what dbsecrets keeps there: said plainly, with what to do about it.
    static func unexpected(_ path: String, _ type: mode_t, expected: String) -> EngineError {
        let found: String
        switch type {
        case S_IFLNK: found = "a symbolic link"
        case S_IFIFO: found = "a FIFO"
        case S_IFSOCK: found = "a socket"
        case S_IFCHR, S_IFBLK: found = "a device"
        case S_IFDIR: found = "a folder"
        case S_IFREG: found = "a regular file"
        default: found = "of an unknown type"
        }
        let why = type == S_IFLNK ? "dbsecrets never follows links inside the state folder" : "dbsecrets did not put it there"
        return .failed("\(path) is \(found), not \(expected): \(why); remove it")
    }
}

/// Names packed in one byte buffer, each a span of it (see `StateFolder.sortedNames`).
struct NameList: Sequence {
    private var bytes: [UInt8] = []
    private var spans: [(start: Int32, count: Int32)] = []

    var count: Int { spans.count }

    fileprivate mutating func append<Bytes: Collection>(_ name: Bytes) where Bytes.Element == UInt8 {
        spans.append((Int32(bytes.count), Int32(name.count)))
        bytes.append(contentsOf: name)
    }

    fileprivate mutating func sort() {
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!)
            spans.sort { a, b in
                let order = memcmp(base + Int(a.start), base + Int(b.start), Int(Swift.min(a.count, b.count)))
                return order != 0 ? order < 0 : a.count < b.count
            }
        }
    }

    func makeIterator() -> AnyIterator<String> {
        var index = 0
        return AnyIterator {
            guard index < spans.count else { return nil }
            let span = spans[index]
            index += 1
            return String(decoding: bytes[Int(span.start)..<Int(span.start + span.count)], as: UTF8.self)
        }
    }
}
