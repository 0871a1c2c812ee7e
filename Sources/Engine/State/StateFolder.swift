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
        try forEachEntry { name, _ in
            if !name.elementsEqual(".".utf8) && !name.elementsEqual("..".utf8) { names.append(String(decoding: name, as: UTF8.self)) }
        }
        return names
    }

    /// Every entry's name as its bytes and its type as the listing gives it (`DT_REG`, `DT_LNK`,
    /// … or `DT_UNKNOWN`), `.` and `..` included, in no particular order.
    func forEachEntry(_ body: (UnsafeRawBufferPointer.SubSequence, UInt8) -> Void) throws {
        // A descriptor of its own, so the listing's read position is not shared with `fd`.
        let listing = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard listing >= 0, let dir = fdopendir(listing) else {
            let code = errno
            if listing >= 0 { close(listing) }
            throw StateError.io("cannot list \(path)", code)
        }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let type = entry.pointee.d_type
            withUnsafeBytes(of: entry.pointee.d_name) { raw in body(raw.prefix { $0 != 0 }, type) }
        }
    }

    /// The names in this folder that end in `suffix` (and do not start with a dot), without it,
    /// in byte order (for ASCII names, `String` order), given to `body` one at a time with their
    /// type from the listing. Memory is bounded whatever the folder holds: at most about `budget`
    /// bytes of names are held at once, packed (`NameList`); past that, only the smaller half is
    /// kept, the rest waits for another listing of the folder, after the last name given.
    func forEachSortedName(endingIn suffix: String, budget: Int = NameList.defaultBudget,
                           _ body: (NameList.Entry) throws -> Void) throws {
        let ending = Array(suffix.utf8)
        var after: [UInt8]?
        while true {
            let list = NameList()
            // Names from here on are for a later listing.
            var cutoff: [UInt8]?
            try forEachEntry { name, type in
                guard name.count > ending.count, name.first != UInt8(ascii: "."), name.suffix(ending.count).elementsEqual(ending) else { return }
                let stem = name.dropLast(ending.count)
                if let after, !NameList.precedes(after, stem) { return }
                if let cutoff, !NameList.precedes(stem, cutoff) { return }
                list.append(stem, type: type)
                if list.bytesHeld > budget && list.count > 1 { cutoff = list.keepSmallerHalf() }
            }
            list.sort()
            for entry in list.entries { try body(entry) }
            guard cutoff != nil, let last = list.lastName else { return }
            after = last
        }
    }

    /// `forEachSortedName`'s names, all of them.
    func sortedNames(endingIn suffix: String) throws -> [String] {
        var names: [String] = []
        try forEachSortedName(endingIn: suffix) { names.append($0.name) }
        return names
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
        var buffer: [UInt8] = []
        guard let count = try read(name, listedType: nil, into: &buffer) else { return nil }
        return Data(buffer[..<count])
    }

    /// As `read(_:)`, into `buffer` (grown as needed, reused from file to file): the number of
    /// bytes read, nil when absent. `listedType` is the entry's type from a listing of this
    /// folder: a regular file is then opened without another lookup of its name first, since
    /// the descriptor's own type and owner are checked before anything is read (a listing of
    /// 100,000 leases makes 100,000 fewer `fstatat`s); anything else is looked at as it is now.
    func read(_ name: String, listedType: UInt8?, into buffer: inout [UInt8]) throws -> Int? {
        var status = stat()
        // Left non-blocking: reads of a regular file never block.
        guard let fileFD = try openRegularFile(name, flags: O_RDONLY, status: &status, checkedType: listedType == UInt8(DT_REG))
        else { return nil }
        defer { close(fileFD) }
        return try readAll(fileFD, status, name, into: &buffer)
    }

    /// As `read(_:)`, with the file left open and its status as it was read: while it is open,
    /// its inode cannot be freed, so no file written later can have its number (`RecordCache`
    /// tells files apart by it).
    func readKeepingOpen(_ name: String) throws -> (data: Data, file: OpenFile)? {
        var status = stat()
        guard let fileFD = try openRegularFile(name, flags: O_RDONLY, status: &status) else { return nil }
        let file = OpenFile(fd: fileFD, status: status)
        var buffer: [UInt8] = []
        let count = try readAll(fileFD, status, name, into: &buffer)
        return (Data(buffer[..<count]), file)
    }

    /// The open state file `fileFD` (of `status`) into `buffer`, once its owner and mode pass.
    private func readAll(_ fileFD: Int32, _ status: stat, _ name: String, into buffer: inout [UInt8]) throws -> Int {
        try StateFolderTrust.checkStateFile(status, path: pathOf(name))
        // Room for the file as it is and a byte more: a read that stops short of it, at the size
        // `fstat` gave, is the end (no second read to see it), and one that fills it is read on.
        let expected = Int(status.st_size)
        if buffer.count < expected + 1 { buffer = [UInt8](repeating: 0, count: min(max(expected + 1, 4096), Self.maximumFileSize + 1)) }
        var count = 0
        while true {
            if count == buffer.count {
                guard count <= Self.maximumFileSize else {
                    throw EngineError.failed("state file \(pathOf(name)) is larger than \(Self.maximumFileSize >> 20) MiB, which dbsecrets never writes")
                }
                buffer += [UInt8](repeating: 0, count: min(buffer.count, Self.maximumFileSize + 1 - buffer.count))
            }
            let got = buffer.withUnsafeMutableBytes { Glibc.read(fileFD, $0.baseAddress! + count, $0.count - count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw StateError.io("cannot read \(pathOf(name))", errno)
            }
            count += got
            if got == 0 || (count == expected && count < buffer.count) { return count }
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
    /// `checkedType`: a listing of the folder just said the entry is a regular file, and that is
    /// the check before the open; an entry swapped since (only its owner or root can: the folder
    /// is private) is still refused on the descriptor, before anything is read.
    private func openRegularFile(_ name: String, flags: Int32, status: inout stat, checkedType: Bool = false) throws -> Int32? {
        if !checkedType {
            let type = try entryType(name)
            if let type, type != S_IFREG { throw StateError.unexpected(pathOf(name), type, expected: "a regular file") }
            if type == nil && flags & O_CREAT == 0 { return nil }
        }
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

/// A state file held open, with its status when it was opened.
final class OpenFile {
    let fd: Int32
    let status: stat

    init(fd: Int32, status: stat) {
        self.fd = fd
        self.status = status
    }

    deinit { close(fd) }
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

/// Names packed in one byte buffer, each with its type from the listing, and sorted by an array
/// of their offsets (see `StateFolder.sortedNames`): 100,000 lease names cost ~40 bytes each.
struct NameList {
    private let storage = Storage()

    var count: Int { storage.count }

    fileprivate func append<Bytes: Collection>(_ name: Bytes, type: UInt8) where Bytes.Element == UInt8 {
        storage.append(name, type: type)
    }

    fileprivate func sort() {
        storage.sort()
    }

    /// The bytes of names a listing holds at most (about), for `StateFolder.forEachSortedName`:
    /// 100,000 lease names (~41 bytes each) in one listing; each listing more costs ~35 ms for
    /// 100,000 entries (ext4 lists a large folder in hash order, through a tree it builds).
    static let defaultBudget = 4 << 20

    /// What the names take: their bytes and their offsets.
    var bytesHeld: Int { storage.used + storage.count * MemoryLayout<UInt32>.stride }

    /// Sorts, keeps the smaller half, and returns the smallest name dropped: the names from it
    /// on are left for a later listing.
    fileprivate func keepSmallerHalf() -> [UInt8] {
        storage.sort()
        return storage.keepFirst(Swift.max(1, storage.count / 2))
    }

    /// The last name, once sorted.
    fileprivate var lastName: [UInt8]? {
        storage.count == 0 ? nil : Array(storage.bytes(storage.count - 1))
    }

    /// Byte order, the order of the listing.
    fileprivate static func precedes(_ a: [UInt8], _ b: UnsafeRawBufferPointer.SubSequence) -> Bool {
        compare(a, b) < 0
    }

    fileprivate static func precedes(_ a: UnsafeRawBufferPointer.SubSequence, _ b: [UInt8]) -> Bool {
        compare(b, a) > 0
    }

    private static func compare(_ a: [UInt8], _ b: UnsafeRawBufferPointer.SubSequence) -> Int32 {
        let common = Swift.min(a.count, b.count)
        let order = common == 0 ? 0 : a.withUnsafeBytes { memcmp($0.baseAddress!, b.base.baseAddress! + b.startIndex, common) }
        return order != 0 ? order : a.count < b.count ? -1 : a.count > b.count ? 1 : 0
    }

    struct Entry {
        let name: String
        /// `d_type`: `DT_REG` for a regular file, `DT_UNKNOWN` when the file system does not say.
        let type: UInt8
    }

    var entries: AnyIterator<Entry> {
        var index = 0
        return AnyIterator { [storage] in
            guard index < storage.count else { return nil }
            defer { index += 1 }
            return storage.entry(index)
        }
    }

    /// Each name as its length, its type and its bytes, in one block grown with `realloc`: a
    /// block this large is moved by remapping its pages, so growing it never holds the names
    /// twice, as growing an `Array` (a new block, a copy, then the old one freed) would.
    private final class Storage {
        var bytes: UnsafeMutablePointer<UInt8>?
        var used = 0, capacity = 0
        var offsets: UnsafeMutablePointer<UInt32>?
        var count = 0, offsetCapacity = 0

        deinit {
            free(bytes)
            free(offsets)
        }

        func append<Bytes: Collection>(_ name: Bytes, type: UInt8) where Bytes.Element == UInt8 {
            // A file name is at most NAME_MAX (255) bytes.
            precondition(name.count <= 255)
            if used + 2 + name.count > capacity {
                capacity = Swift.max(used + 2 + name.count, capacity * 2, 4096)
                guard let grown = realloc(bytes, capacity) else { fatalError("out of memory listing a folder") }
                bytes = grown.assumingMemoryBound(to: UInt8.self)
            }
            if count == offsetCapacity {
                offsetCapacity = Swift.max(offsetCapacity * 2, 1024)
                guard let grown = realloc(offsets, offsetCapacity * MemoryLayout<UInt32>.stride) else {
                    fatalError("out of memory listing a folder")
                }
                offsets = grown.assumingMemoryBound(to: UInt32.self)
            }
            offsets![count] = UInt32(used)
            count += 1
            bytes![used] = UInt8(name.count)
            bytes![used + 1] = type
            _ = UnsafeMutableBufferPointer(start: bytes! + used + 2, count: name.count).initialize(from: name)
            used += 2 + name.count
        }

        func sort() {
            guard let bytes, let offsets else { return }
            var sorted = UnsafeMutableBufferPointer(start: offsets, count: count)
            sorted.sort { a, b in
                let countA = Int(bytes[Int(a)]), countB = Int(bytes[Int(b)])
                let order = memcmp(bytes + Int(a) + 2, bytes + Int(b) + 2, Swift.min(countA, countB))
                return order != 0 ? order < 0 : countA < countB
            }
        }

        func bytes(_ index: Int) -> UnsafeBufferPointer<UInt8> {
            let at = Int(offsets![index])
            return UnsafeBufferPointer(start: bytes! + at + 2, count: Int(bytes![at]))
        }

        /// Keeps the first `kept` names (in their order now) and returns the next one's bytes.
        func keepFirst(_ kept: Int) -> [UInt8] {
            let next = Array(bytes(kept))
            let old = bytes!, oldOffsets = offsets!
            bytes = nil
            offsets = nil
            used = 0
            capacity = 0
            count = 0
            offsetCapacity = 0
            for index in 0..<kept {
                let at = Int(oldOffsets[index])
                append(UnsafeBufferPointer(start: old + at + 2, count: Int(old[at])), type: old[at + 1])
            }
            free(old)
            free(oldOffsets)
            return next
        }

        func entry(_ index: Int) -> Entry {
            let at = Int(offsets![index])
            let name = UnsafeBufferPointer(start: bytes! + at + 2, count: Int(bytes![at]))
            return Entry(name: String(decoding: name, as: UTF8.self), type: bytes![at + 1])
        }
    }
}
