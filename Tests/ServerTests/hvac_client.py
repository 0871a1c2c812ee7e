"""hvac, unchanged from PyPI, driving `dbsecrets server` as it drives Vault.

Run by ServerTests/HvacClientTests with VAULT_ADDR and VAULT_TOKEN set, the databases in
HVAC_PG_URL (a templated connection_url), HVAC_PG_ROOTS (one per mount, comma-separated:
hvac rotates each mount's root), HVAC_MARIADB_URL, HVAC_MARIADB_ROOT,
HVAC_REDIS_HOST, HVAC_REDIS_PORT, HVAC_REDIS_ROOT (each root as user:password, a user of its own,
so rotate-root changes nobody else's), HVAC_STATIC_USERS (one PostgreSQL user per mount) and
HVAC_MOUNTS (comma-separated: database, then mounts it enables first). Prints one JSON object:
per mount, the credentials it got (for the test to log in with) and what it checked.
"""
import json
import os
import sys

import hvac

client = hvac.Client(url=os.environ["VAULT_ADDR"], token=os.environ["VAULT_TOKEN"], timeout=60)
assert client.is_authenticated(), "lookup-self failed"
assert not client.sys.is_sealed()
db = client.secrets.database
results = {}


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def user_password(variable):
    user, password = os.environ[variable].split(":", 1)
    return user, password


policy = 'length = 24\nrule "charset" {\n  charset = "abcdefghijklmnopqrstuvwxyz0123456789"\n  min-chars = 1\n}\n'
client.write_data("sys/policies/password/hvac-policy", data={"policy": policy})
expect(client.read("sys/policies/password/hvac-policy")["data"]["policy"] == policy, "policy read back")
expect("hvac-policy" in client.list("sys/policies/password")["data"]["keys"], "policy listed")
generated = client.read("sys/policies/password/hvac-policy/generate")["data"]["password"]
expect(len(generated) == 24 and generated.isalnum(), "policy generates")

mounts = os.environ["HVAC_MOUNTS"].split(",")
static_users = os.environ["HVAC_STATIC_USERS"].split(",")
for index, mount in enumerate(mounts):
    if mount != "database":
        client.sys.enable_secrets_engine(backend_type="database", path=mount, description="hvac's own mount")
        expect(mount + "/" in client.sys.list_mounted_secrets_engines()["data"], "mount listed")
    out = results[mount] = {}

    pg_user, pg_password = os.environ["HVAC_PG_ROOTS"].split(",")[index].split(":", 1)
    db.configure(name="pg", plugin_name="postgresql-database-plugin", connection_url=os.environ["HVAC_PG_URL"],
                 username=pg_user, password=pg_password, allowed_roles=["ro", "app"], mount_point=mount,
                 password_policy="hvac-policy")
    connection = db.read_connection(name="pg", mount_point=mount)["data"]
    expect(connection["plugin_name"] == "postgresql-database-plugin", connection)
    expect(connection["allowed_roles"] == ["ro", "app"], connection)
    expect("password" not in connection["connection_details"], "the password is never read back")
    expect("pg" in db.list_connections(mount_point=mount)["data"]["keys"], "connection listed")
    db.reset_connection(name="pg", mount_point=mount)
    db.rotate_root_credentials(name="pg", mount_point=mount)

    db.create_role(name="ro", db_name="pg", mount_point=mount, default_ttl="1h", max_ttl="2h",
                   creation_statements=["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"])
    role = db.read_role(name="ro", mount_point=mount)["data"]
    expect(role["default_ttl"] == 3600 and role["max_ttl"] == 7200, role)
    expect(db.list_roles(mount_point=mount)["data"]["keys"] == ["ro"], "role listed")

    kept = db.generate_credentials(name="ro", mount_point=mount)
    expect(kept["lease_id"].startswith(mount + "/creds/ro/"), kept["lease_id"])
    expect(kept["lease_duration"] == 3600 and kept["renewable"], kept)
    expect(len(kept["data"]["password"]) == 24, "the connection's password policy")
    out["pg_kept"] = {"username": kept["data"]["username"], "password": kept["data"]["password"], "lease_id": kept["lease_id"]}

    revoked = db.generate_credentials(name="ro", mount_point=mount)
    lease = client.sys.read_lease(lease_id=revoked["lease_id"])["data"]
    expect(lease["id"] == revoked["lease_id"] and lease["renewable"], lease)
    renewed = client.sys.renew_lease(lease_id=revoked["lease_id"], increment=1800)
    expect(renewed["lease_id"] == revoked["lease_id"] and renewed["lease_duration"] == 1800, renewed)
    listed = client.sys.list_leases(prefix=mount + "/creds/ro")["data"]["keys"]
    expect(revoked["lease_id"].rsplit("/", 1)[1] in listed and kept["lease_id"].rsplit("/", 1)[1] in listed, listed)
    client.sys.revoke_lease(lease_id=revoked["lease_id"])
    out["pg_revoked"] = {"username": revoked["data"]["username"], "password": revoked["data"]["password"]}

    static_user = static_users[index]
    db.create_static_role(name="app", db_name="pg", username=static_user, mount_point=mount, rotation_period=3600,
                          rotation_statements=["ALTER USER \"{{name}}\" WITH PASSWORD '{{password}}';"])
    static = db.read_static_role(name="app", mount_point=mount)["data"]
    expect(static["username"] == static_user and static["rotation_period"] == 3600, static)
    expect(db.list_static_roles(mount_point=mount)["data"]["keys"] == ["app"], "static role listed")
    before = db.get_static_credentials(name="app", mount_point=mount)["data"]
    expect(before["username"] == static_user and 0 < before["ttl"] <= 3600, before)
    db.rotate_static_role_credentials(name="app", mount_point=mount)
    after = db.get_static_credentials(name="app", mount_point=mount)["data"]
    expect(after["password"] != before["password"], "rotated")
    out["pg_static"] = {"username": static_user, "before": before["password"], "after": after["password"]}

    maria_user, maria_password = user_password("HVAC_MARIADB_ROOT")
    db.configure(name="maria", plugin_name="mysql-database-plugin", connection_url=os.environ["HVAC_MARIADB_URL"],
                 username=maria_user, password=maria_password, allowed_roles="*", mount_point=mount)
    db.create_role(name="maria-ro", db_name="maria", mount_point=mount, default_ttl=600,
                   creation_statements=["CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}';",
                                        "GRANT SELECT ON *.* TO '{{name}}'@'%';"])
    maria = db.generate_credentials(name="maria-ro", mount_point=mount)
    out["maria"] = {"username": maria["data"]["username"], "password": maria["data"]["password"], "lease_id": maria["lease_id"]}

    redis_user, redis_password = user_password("HVAC_REDIS_ROOT")
    db.configure(name="redis", plugin_name="redis-database-plugin", host=os.environ["HVAC_REDIS_HOST"],
                 port=int(os.environ["HVAC_REDIS_PORT"]), username=redis_user, password=redis_password,
                 allowed_roles="*", mount_point=mount)
    db.create_role(name="redis-ro", db_name="redis", mount_point=mount, default_ttl=600,
                   creation_statements=['["~*", "+@read", "+ping"]'])
    red = db.generate_credentials(name="redis-ro", mount_point=mount)
    out["redis"] = {"username": red["data"]["username"], "password": red["data"]["password"], "lease_id": red["lease_id"]}

    third = db.generate_credentials(name="ro", mount_point=mount)
    client.sys.revoke_prefix(prefix=third["lease_id"])
    out["pg_prefix_revoked"] = {"username": third["data"]["username"], "password": third["data"]["password"]}

    db.delete_static_role(name="app", mount_point=mount)
    try:
        db.read_static_role(name="app", mount_point=mount)
        expect(False, "a deleted static role is read")
    except hvac.exceptions.InvalidPath:
        pass

json.dump(results, sys.stdout)
