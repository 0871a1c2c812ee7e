#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Opens the state folder only if nobody but the user and root can change it, or any folder
/// above it: whoever can write the state folder or a parent can swap a sub-folder and have the
/// next `creds` run their statements with the root password.
///
/// The path is walked from `/` one component at a time through descriptors, each folder checked
/// on the descriptor that is then used (no window between check and use). A symbolic link on the
/// way (`/var/run` → `/run`) is followed by hand: its own folder was checked, so nobody else
/// could have planted it, and its target is walked and checked the same way.
///
/// - Every folder above: owned by the user or root, and not writable by group or others, unless
///   it has the sticky bit (as `/tmp`), which keeps others from renaming what is not theirs.
///   `DBSECRETS_ALLOW_INSECURE_PARENTS=1` skips this check.
/// - The state folder itself, always: owned by the user or root, not writable by group or others.
/// - Folders created on the way (missing parents included) are made 0700.
enum StateFolderTrust {
    /// The environment variable that skips the check of the folders above the state folder.
    static let allowInsecureParentsVariable = "DBSECRETS_ALLOW_INSECURE_PARENTS"

    /// The state folder at `path`, opened and checked; nil when it does not exist and `create` is false.
    static func open(_ path: String, create: Bool, allowInsecureParents: Bool) throws -> StateFolder? {
        let rootFD = Glibc.open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw StateError.io("cannot open /", errno) }
        var stack = [StateFolder(fd: rootFD, path: "")]
        var remaining = components(path)
        var linksFollowed = 0
        let statePath = "/" + components(path).joined(separator: "/")
        if !allowInsecureParents { try checkParent(stack[0], displayPath: "/", statePath: statePath) }
        if remaining.isEmpty { throw EngineError.failed("the state folder cannot be / itself") }

        while !remaining.isEmpty {
            let name = remaining.removeFirst()
            if name == "." { continue }
            if name == ".." {
                if stack.count > 1 { stack.removeLast() }
                continue
            }
            let parent = stack[stack.count - 1]
            let isStateFolder = remaining.isEmpty
            guard let status = try parent.entryStatus(name) else {
                guard create else { return nil }
                guard mkdirat(parent.fd, name, 0o700) == 0 else {
                    guard errno == EEXIST else { throw StateError.io("cannot create the folder \(parent.pathOf(name))", errno) }
                    // Someone made it meanwhile (in /tmp, anyone may): checked like any other.
                    remaining.insert(name, at: 0)
                    continue
                }
                // Made by us, so trusted; the umask may be permissive, the mode must not be.
                guard let made = try parent.folder(name, create: false, checked: false) else {
                    throw StateError.io("cannot create the folder \(parent.pathOf(name))", ENOENT)
                }
                fchmod(made.fd, 0o700)
                parent.sync()
                stack.append(made)
                continue
            }
            switch status.st_mode & S_IFMT {
            case S_IFLNK:
                linksFollowed += 1
                guard linksFollowed <= 40 else { throw StateError.io("cannot open the state folder \(statePath)", ELOOP) }
                if !allowInsecureParents && isShared(parent) && !isTrustedOwner(status.st_uid) {
                    throw EngineError.failed("\(parent.pathOf(name)), on the way to the state folder \(statePath), is a symbolic link owned by \(describeOwner(status.st_uid)) in a folder others can write: use a state folder whose path only you and root control, or set \(allowInsecureParentsVariable)=1 if you trust them")
                }
                let target = try readLink(parent, name)
                if target.hasPrefix("/") { stack = [stack[0]] }
                remaining = components(target) + remaining
            case S_IFDIR:
                guard let folder = try parent.folder(name, create: false, checked: false) else {
                    throw StateError.io("cannot open \(parent.pathOf(name))", ENOENT)
                }
                if isStateFolder {
                    try checkStateFolder(folder)
                } else if !allowInsecureParents {
                    try checkParent(folder, displayPath: folder.path, statePath: statePath)
                }
                stack.append(folder)
            default:
                throw StateError.unexpected(parent.pathOf(name), status.st_mode & S_IFMT, expected: "a folder")
            }
        }
        let opened = stack[stack.count - 1]
        // The folder reached under the given name, for messages, whatever links led there.
        return StateFolder(fd: dup(opened.fd), path: statePath)
    }

    /// The rule for the state folder itself, which no variable relaxes.
    static func checkStateFolder(_ folder: StateFolder) throws {
        try checkOwnFolder(folder, chown: "chown")
    }

    /// Folders inside the state folder follow the state folder's rule: a folder made writable by
    /// others since is refused, not used.
    static func checkInnerFolder(_ folder: StateFolder) throws {
        try checkOwnFolder(folder, chown: "chown -R")
    }

    private static func checkOwnFolder(_ folder: StateFolder, chown: String) throws {
        let status = try status(of: folder)
        guard isTrustedOwner(status.st_uid) else {
            throw EngineError.failed("the state folder \(folder.path) belongs to \(describeOwner(status.st_uid)), not to you (\(userName(geteuid()))): run \(chown) \(userName(geteuid())) \(folder.path), or use a state folder of your own")
        }
        guard status.st_mode & 0o022 == 0 else {
            throw EngineError.failed("the state folder \(folder.path) is writable by \(writers(status.st_mode)): run chmod 700 \(folder.path)")
        }
    }

    /// A state file is read only if nobody else could have written it: owned by the user or
    /// root, and writable by neither group nor others. The folders already keep others out; this
    /// is for a file that came with a copied state folder, or was made writable since, whose
    /// revocation statements would otherwise run with the root password.
    static func checkStateFile(_ status: stat, path: String) throws {
        guard isTrustedOwner(status.st_uid) else {
            throw EngineError.failed("state file \(path) belongs to \(describeOwner(status.st_uid)), not to you (\(userName(geteuid()))): dbsecrets did not write it; check it and run chown \(userName(geteuid())) \(path), or remove it")
        }
        guard status.st_mode & 0o022 == 0 else {
            throw EngineError.failed("state file \(path) is writable by \(writers(status.st_mode)): check it and run chmod 600 \(path), or remove it")
        }
    }

    static func checkParent(_ folder: StateFolder, displayPath: String, statePath: String) throws {
        let status = try status(of: folder)
        let relax = "or set \(allowInsecureParentsVariable)=1 if you trust them"
        guard isTrustedOwner(status.st_uid) else {
            throw EngineError.failed("\(displayPath), above the state folder \(statePath), belongs to \(describeOwner(status.st_uid)), who could replace the state folder: use a state folder whose parents only you and root control, \(relax)")
        }
        guard status.st_mode & 0o022 == 0 || status.st_mode & S_ISVTX != 0 else {
            throw EngineError.failed("\(displayPath), above the state folder \(statePath), is writable by \(writers(status.st_mode)), who could replace the state folder: run chmod go-w \(displayPath) (or chmod +t \(displayPath) if it is shared like /tmp), \(relax)")
        }
    }

    // MARK: Helpers

    static func components(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    private static func status(of folder: StateFolder) throws -> stat {
        var status = stat()
        guard fstat(folder.fd, &status) == 0 else { throw StateError.io("cannot inspect \(folder.path)", errno) }
        return status
    }

    /// A folder others may write, which only its sticky bit makes safe.
    private static func isShared(_ folder: StateFolder) -> Bool {
        var status = stat()
        return fstat(folder.fd, &status) == 0 && status.st_mode & 0o022 != 0
    }

    private static func isTrustedOwner(_ uid: uid_t) -> Bool {
        uid == 0 || uid == effectiveUser
    }

    /// Asked once: a listing checks the owner of every file it reads.
    private static let effectiveUser = geteuid()

    private static func writers(_ mode: mode_t) -> String {
        switch (mode & 0o020 != 0, mode & 0o002 != 0) {
        case (true, true): return "group and others"
        case (true, false): return "its group"
        default: return "others"
        }
    }

    static func userName(_ uid: uid_t) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return String(uid) }
        return String(cString: name)
    }

    /// `nobody (uid 65534)`, or `uid 1234` for a uid without a name.
    static func describeOwner(_ uid: uid_t) -> String {
        let name = userName(uid)
        return name == String(uid) ? "uid \(uid)" : "\(name) (uid \(uid))"
    }

    private static func readLink(_ folder: StateFolder, _ name: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(folder.fd, name, &buffer, buffer.count - 1)
        guard count >= 0 else { throw StateError.io("cannot read the link \(folder.pathOf(name))", errno) }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
