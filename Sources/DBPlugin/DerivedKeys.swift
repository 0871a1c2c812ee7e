import Basics

/// Keys a client derives from a password at a deliberate cost, remembered between commands:
/// SCRAM-SHA-256's salted password is 4,096 rounds of PBKDF2, five sixths of a `creds` command's
/// CPU against PostgreSQL, for the same password and salt every time. Whoever runs the plugins
/// installs the store (the engine keeps it in the state folder, beside the passwords the keys come
/// from, under the same protection). A key is found by a digest of everything it is derived from,
/// so a new password, salt or count simply misses; a client remembers a key only after the server
/// proved it right, and forgets it when the server refuses it.
public protocol DerivedKeyStore: Sendable {
    func key(for digest: [UInt8]) -> [UInt8]?
    func remember(_ key: [UInt8], for digest: [UInt8])
    func forget(_ digest: [UInt8])
}

public enum DerivedKeys {
    private static let lock = Lock()
    nonisolated(unsafe) private static var installed: (any DerivedKeyStore)?

    /// nil: every key is derived afresh.
    public static var store: (any DerivedKeyStore)? {
        get { lock.withLock { installed } }
        set { lock.withLock { installed = newValue } }
    }
}
