"""Writes dbsecrets state files directly, in the exact bytes the engine writes, so a state
directory with 100,000 leases takes seconds instead of 100,000 runs of dbsecrets.

The format is the engine's (Sources/Engine/State/RecordStore.swift, Sources/Engine/Model/*.swift,
Sources/Engine/Leases/LeaseStore.swift): one pretty-printed JSON object per file with sorted keys,
`"key" : value`, `format_version: 1`, times as RFC 3339 UTC with milliseconds, nil optionals left
out; lease files are `leases/ROLE.ID.json` (ID = the lease id's last segment) with an empty
marker `lease-expiry/MINUTE/ROLE.ID` in the bucket of the expiry minute (12 digits, zero
padded). Files are 0600 and folders 0700 like the engine's.
"""
import json
import os
import random
import string
import time

BASE62 = string.ascii_uppercase + string.ascii_lowercase + string.digits


def swift_json(value, indent=0):
    """Foundation's JSONEncoder with [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]."""
    pad = "  " * indent
    inner = "  " * (indent + 1)
    if isinstance(value, dict):
        if not value:
            return "{\n\n" + pad + "}"
        items = [inner + json.dumps(k) + " : " + swift_json(value[k], indent + 1) for k in sorted(value)]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list):
        if not value:
            return "[\n\n" + pad + "]"
        return "[\n" + ",\n".join(inner + swift_json(v, indent + 1) for v in value) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False)


def record_bytes(fields):
    return (swift_json(dict(fields, format_version=1)) + "\n").encode()


def timestamp(seconds):
    """`Timestamp.format`: 2026-11-23T16:04:20.123Z."""
    millis = int(seconds * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(millis // 1000)) + ".%03dZ" % (millis % 1000)


def bucket(seconds):
    return "%012d" % max(int(seconds // 60), 0)


def random_suffix(rng, n=24):
    return "".join(rng.choice(BASE62) for _ in range(n))


def write_private(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def folder(path):
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def lease_fields(lease_id, role, db_name, username, issued, expires):
    return {
        "id": lease_id, "role": role, "db_name": db_name, "username": username,
        "issue_time": timestamp(issued), "expire_time": timestamp(expires),
        "revoke_attempts": 0, "irrevocable": False,
    }


def write_lease(state, role, db_name, username, issued, expires, rng):
    """One lease and its expiry marker (marker first, as the engine does). Returns the lease id."""
    suffix = random_suffix(rng)
    lease_id = "database/creds/%s/%s" % (role, suffix)
    name = "%s.%s" % (role, suffix)  # Lease.fileName(forID:): ROLE.SUFFIX
    marker_folder = os.path.join(state, "lease-expiry", bucket(expires))
    if not os.path.isdir(marker_folder):
        folder(marker_folder)
    write_private(os.path.join(marker_folder, name), b"")
    write_private(os.path.join(state, "leases", name + ".json"),
                  record_bytes(lease_fields(lease_id, role, db_name, username, issued, expires)))
    return lease_id


def role_fields(db_name, statements):
    return {
        "db_name": db_name, "creation_statements": statements, "revocation_statements": [],
        "rollback_statements": [], "renew_statements": [], "default_ttl": 3600, "max_ttl": 86400,
        "credential_type": "password", "credential_config": {},
    }


def prepare(state):
    for kind in ("config", "roles", "leases", "lease-expiry", "intents", "locks"):
        folder(os.path.join(state, kind))
    os.chmod(state, 0o700)


def populate(state, db_name, statements, roles, leases, now, seed=1):
    """Adds `roles` dynamic roles (role-00000…) and `leases` leases spread over the next 1–24 h
    (so their markers fill ~1,400 minute buckets, as a day of real traffic would)."""
    rng = random.Random(seed)
    prepare(state)
    role_data = record_bytes(role_fields(db_name, statements))
    names = ["role-%05d" % i for i in range(roles)]
    for name in names:
        write_private(os.path.join(state, "roles", name + ".json"), role_data)
    for i in range(leases):
        role = names[i % len(names)] if names else "r"
        issued = now - rng.uniform(0, 3600)
        expires = now + rng.uniform(3600, 86400)
        username = "v-root-%s-%s-%d" % (role[:8], random_suffix(rng, 20), int(issued))
        write_lease(state, role, db_name, username, issued, expires, rng)


def copy_static_role(state, template, names):
    """Static roles `names`, each byte for byte the engine's file `template` (the same account and
    schedule). No index markers: the first pass reads and indexes them, as it does state written
    before the index existed."""
    with open(template, "rb") as f:
        data = f.read()
    for name in names:
        write_private(os.path.join(state, "static-roles", name + ".json"), data)


def add_due_leases(state, role, db_name, count, now, seed, usernames=None):
    """`count` leases that expired two minutes ago, for `usernames` or else for users that do not
    exist in the database (revoking an absent user is a success: only the existence check runs)."""
    rng = random.Random(seed)
    prepare(state)
    ids = []
    for i in range(count):
        username = usernames[i] if usernames else "bench-absent-%d-%d" % (seed, i)
        ids.append(write_lease(state, role, db_name, username, now - 3720, now - 120, rng))
    return ids
