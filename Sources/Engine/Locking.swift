/// Per-object locks: `flock` on one file per object, released by the kernel when a process dies,
/// so a free lock proves that nobody is in the middle of changing the object. That is what lets
/// any command settle an intent it finds: its writer held the object's lock from before writing
/// the intent until after removing it.
///
/// Order, to rule out deadlocks: a role's name lock, then the static role's or lease's lock, then
/// the connection's. No lock is taken while holding one later in that order.
extension Engine {
    /// Runs `body` holding the lock of `name` of `kind`, waiting for it if another process has it.
    @discardableResult
    func withLock<T>(_ kind: RecordKind, _ name: String, _ body: () throws -> T) throws -> T {
        let lock = try state.lock(kind, name, files: sharedPlugins?.lockFiles)
        return try withExtendedLifetime(lock) { try body() }
    }

    /// Runs `body` holding the lock if it is free right now; nil (and `body` not run) if not.
    func withLockIfFree<T>(_ kind: RecordKind, _ name: String, _ body: () throws -> T) throws -> T? {
        guard let lock = try state.tryLock(kind, name, files: sharedPlugins?.lockFiles) else { return nil }
        return try withExtendedLifetime(lock) { try body() }
    }
}
