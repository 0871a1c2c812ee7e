import Basics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What `lease revoke -prefix P` (`sys/leases/revoke-prefix/P`, `revoke-force/P`) selects, as
/// Vault's expiration manager has it: P ending in `/` selects every lease under it; otherwise the
/// lease whose id is exactly P, or those under `P/`, so `database/creds/ro` never reaches the
/// leases of `database/creds/ro2`.
///
/// An empty prefix is refused as Vault refuses it (no route matches `revoke-prefix/`), instead of
/// revoking every lease: an empty `$PREFIX` in a script must not wipe everything. A prefix that
/// reaches no mount selects nothing that could exist and is refused too (`Engine.revokeLeases`).
struct LeasePrefix {
    let text: String

    init(_ raw: String) throws {
        let text = raw.trimmingWhitespace()
        guard !text.isEmpty else {
            throw EngineError.invalid("unsupported path: a prefix is required (an empty one would revoke every lease), such as database/creds/ROLE")
        }
        self.text = text
    }

    /// Every lease of the mount at `mountPath` (with its trailing slash).
    init(mountPath: String) {
        text = mountPath
    }

    /// The string every selected id starts with, for listing by file name.
    var listingPrefix: String { text }

    func selects(_ id: String) -> Bool {
        text.hasSuffix("/") ? id.hasPrefix(text) : id == text || id.hasPrefix(text + "/")
    }

    /// Whether a lease of the mount at `mountPath` can be selected: the prefix is inside the
    /// mount, or the mount inside what the prefix selects.
    func reaches(mountPath: String) -> Bool {
        let folder = text.hasSuffix("/") ? text : text + "/"
        return folder.hasPrefix(mountPath) || mountPath.hasPrefix(folder)
    }
}
