import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `sys/mounts` (the table), `sys/mounts/:path` (enable, read, disable), `sys/mounts/:path/tune`,
/// `sys/remount` and `sys/remount/status/:id`: the API paths behind `secrets enable|list|disable|
/// tune|move`.
extension Engine {
    static let mountPathSegment = PathSegment.rest(field: "path", placeholder: "PATH", optional: false,
                                                   description: "The path of the mount, e.g. database or team/pg.")

    static let mountTablePath = PathDeclaration(
        [.literal("mounts")],
        synopsis: "List the currently mounted backends.",
        description: "Every mount, keyed by its path: its type, description, accessor, UUID and lease TTLs (0 means the system's).",
        operations: [.read: { engine, _ in try engine.readMountTable() }])

    static let mountTunePath = PathDeclaration(
        [.literal("mounts"), mountPathSegment, .literal("/tune")],
        synopsis: "Tune backend configuration parameters for this mount.",
        description: """
        A read shows the mount's description and the lease TTLs in force (the system's 768h where it \
        has none). A write changes the TTLs (a duration, or system for the system's), the \
        description or the options; leases take the new TTLs when they are next renewed.
        """,
        fields: [
            FieldDeclaration("default_lease_ttl", .string, "The default lease TTL of the mount: a duration, or system."),
            FieldDeclaration("max_lease_ttl", .string, "The maximum lease TTL of the mount: a duration, or system."),
            FieldDeclaration("description", .string, "A human-friendly description of the mount."),
            FieldDeclaration("options", .keyPairs, "Options of the mount, as key=value pairs."),
            FieldDeclaration("plugin_version", .string, "The version of the engine; only the built-in one exists."),
            FieldDeclaration("force_no_cache", .bool, "Accepted for compatibility; nothing is cached."),
            FieldDeclaration("audit_non_hmac_request_keys", .commaList, "Accepted for compatibility; there are no audit devices."),
            FieldDeclaration("audit_non_hmac_response_keys", .commaList, "Accepted for compatibility; there are no audit devices."),
            FieldDeclaration("listing_visibility", .string, "Accepted for compatibility; there is no UI."),
            FieldDeclaration("passthrough_request_headers", .commaList, "Accepted for compatibility; there is no HTTP."),
            FieldDeclaration("allowed_response_headers", .commaList, "Accepted for compatibility; there is no HTTP."),
        ],
        operations: [
            .read: { engine, request in try engine.readMountTune(request.captures["path"] ?? "") },
            .write: { engine, request in try engine.tuneMount(request.captures["path"] ?? "", request.fields) },
        ])

    static let mountPath = PathDeclaration(
        [.literal("mounts"), mountPathSegment],
        synopsis: "Mount a new backend at a new path.",
        description: """
        A write enables the database secrets engine at PATH (type=database): its paths (config/, \
        roles/, creds/ and the others) are then served there, with objects of its own. A read shows the mount. A \
        delete disables it: every lease of the mount is revoked first, and if any cannot be, nothing \
        is deleted and the error lists them; then its connections, roles and static roles are gone.
        """,
        fields: [
            FieldDeclaration("type", .string, "The type of the backend: database.", suggestions: .choices(["database"])),
            FieldDeclaration("description", .string, default: "", "A human-friendly description of the mount."),
            FieldDeclaration("config", .json, "The mount's configuration: default_lease_ttl, max_lease_ttl (durations), force_no_cache."),
            FieldDeclaration("local", .bool, default: false, "Accepted and shown; there is no replication."),
            FieldDeclaration("seal_wrap", .bool, default: false, "Accepted and shown; there is no seal."),
            FieldDeclaration("external_entropy_access", .bool, default: false, "Accepted and shown."),
            FieldDeclaration("options", .keyPairs, "Options of the mount, as key=value pairs."),
            FieldDeclaration("plugin_name", .string, "With type=plugin: the plugin's name, database."),
            FieldDeclaration("plugin_version", .string, "The version of the engine; only the built-in one exists."),
        ],
        operations: [
            .write: { engine, request in try engine.enableMount(request.captures["path"] ?? "", request.fields) },
            .read: { engine, request in try engine.readMount(request.captures["path"] ?? "") },
            .delete: { engine, request in try engine.disableMount(request.captures["path"] ?? "") },
        ])

    static let remountPath = PathDeclaration(
        [.literal("remount")],
        synopsis: "Move the mount point of an already-mounted backend.",
        description: """
        Moves the mount at from to to: every lease of the mount is revoked first (if any cannot be, \
        nothing moves and the error lists them), then its configuration is served at the new path. \
        Returns the migration_id that sys/remount/status/ID reports on.
        """,
        fields: [
            FieldDeclaration("from", .string, "The previous mount point."),
            FieldDeclaration("to", .string, "The new mount point."),
        ],
        operations: [.write: { engine, request in
            try engine.moveMount(from: request.fields.string("from") ?? "", to: request.fields.string("to") ?? "")
        }])

    static let remountStatusPath = PathDeclaration(
        [.literal("remount/status"), .rest(field: "migration_id", placeholder: "ID", optional: false,
                                           description: "The migration id that sys/remount returned.")],
        synopsis: "Check the status of a mount move.",
        description: "The move's source and target mounts and its status: success or failure (moves finish before sys/remount returns).",
        operations: [.read: { engine, request in try engine.moveStatus(request.captures["migration_id"] ?? "") }])
}
