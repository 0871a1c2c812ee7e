#!/usr/bin/env bash
# The CLI examples of Vault's database secrets engine pages, run against dbsecrets as a user
# would: each example's text is the documentation's, with `vault` replaced by the command name and
# the servers' addresses and credentials (`localhost:5432`, `vaultuser`/`vaultpass`, …) by those of
# the throwaway test servers. Each is checked for its exit code and the shape of its output (the
# lines or table keys Vault prints). With MOUNT=postgres the same examples run against a mount at
# postgres/ (`secrets enable -path=postgres database`, every database/ path under postgres/).
#
# Pages: secrets/databases (index), secrets/databases/postgresql, secrets/databases/mysql-maria,
# secrets/databases/redis, concepts/password-policies, commands/lease/*, commands/secrets/*.
#
# Environment: DBSECRETS (the binary), DBSECRETS_STATE_DIR (a fresh folder), MOUNT (database or
# postgres), and the DBSECRETS_TEST_* variables of Tests/servers/start-*.
# Prints one line per example; exits 1 if any example differed.
set -uo pipefail
: "${DBSECRETS:?}" "${DBSECRETS_STATE_DIR:?}"
MOUNT=${MOUNT:-database}
failures=0
count=0
LEASE=""
PAGE=""
BASE_STATE=$DBSECRETS_STATE_DIR

# Each page starts from its own fresh state, as each page's first step enables the engine.
page() {
    echo "# $1"
    PAGE=$1
    export DBSECRETS_STATE_DIR="$BASE_STATE/$1"
}

# Address and credential substitutions: the documentation's placeholders → the test servers.
substitute() {
    local text=$1
    text=${text//vault /$DBSECRETS }
    text=${text//localhost:5432/$DBSECRETS_TEST_POSTGRES_HOST:$DBSECRETS_TEST_POSTGRES_PORT}
    text=${text//database-name/$DBSECRETS_TEST_POSTGRES_DATABASE}
    # Each page's examples log in as "vaultuser" with "vaultpass": its server's admin.
    if [ "$PAGE" = mysql-maria ]; then
        text=${text//vaultuser/$DBSECRETS_TEST_MARIADB_ADMIN_USER}
        text=${text//vaultpass/$DBSECRETS_TEST_MARIADB_ADMIN_PASSWORD}
    else
        text=${text//vaultuser/$PG_ADMIN}
        text=${text//vaultpass/$PG_ADMIN_PASSWORD}
    fi
    text=${text//127.0.0.1:3306/$DBSECRETS_TEST_MARIADB_HOST:$DBSECRETS_TEST_MARIADB_PORT}
    text=${text//host=\"localhost\"/host=\"$DBSECRETS_TEST_REDIS_TLS_HOST\"}
    text=${text//port=6379/port=$DBSECRETS_TEST_REDIS_TLS_PORT}
    text=${text//username=\"user\"/username=\"$DBSECRETS_TEST_REDIS_TLS_USERNAME\"}
    text=${text//password=\"pass\"/password=\"$DBSECRETS_TEST_REDIS_TLS_PASSWORD\"}
    text=${text//27e1b9a1-27b8-83d9-9fe0-d99d786bdc83/${LEASE##*/}}
    text=${text//database\/creds\/readonly\//database/creds/my-role/}
    if [ "$MOUNT" != database ]; then
        text=${text//secrets enable database/secrets enable -path=$MOUNT database}
        text=${text//database\//$MOUNT/}
    fi
    printf '%s' "$text"
}

# example NAME EXIT PATTERN... <<DOC: runs the documentation's text; every PATTERN (an extended
# regular expression, after the same substitutions) must match a line of its output.
example() {
    local name=$1 expected=$2
    shift 2
    local text command out err status
    text=$(cat)
    command=$(substitute "$text")
    out=$(mktemp) err=$(mktemp)
    (eval "$command") >"$out" 2>"$err"
    status=$?
    count=$((count + 1))
    local problem=""
    [ "$status" = "$expected" ] || problem="exit $status, expected $expected"
    for pattern in "$@"; do
        pattern=$(substitute "$pattern")
        grep -Eq -- "$pattern" "$out" || problem="${problem:+$problem; }no line matches /$pattern/"
    done
    if [ -n "$problem" ]; then
        failures=$((failures + 1))
        echo "FAIL $name: $problem"
        sed 's/^/    stdout: /' "$out"
        sed 's/^/    stderr: /' "$err"
    else
        echo "ok   $name"
    fi
    LAST_OUTPUT=$(cat "$out")
    rm -f "$out" "$err"
}

# --- secrets/databases: setup -------------------------------------------------------------
page databases
example "enable the engine" 0 '^Success! Enabled the database secrets engine at: database/$' <<'DOC'
vault secrets enable database
DOC
example "a second enable is refused" 2 <<'DOC'
vault secrets enable database
DOC
example "secrets list shows it" 0 '^Path +Type +Accessor +Description$' '^database/ +database +database_[0-9a-f]{8} +n/a$' \
    '^sys/ +system +system_' <<'DOC'
vault secrets list
DOC

# --- secrets/databases/postgresql ---------------------------------------------------------
page postgresql
example "postgresql: enable" 0 '^Success! Enabled the database secrets engine at: database/$' <<'DOC'
vault secrets enable database
DOC
example "postgresql: configure" 0 '^Success! Data written to: database/config/my-postgresql-database$' <<'DOC'
vault write database/config/my-postgresql-database \
    plugin_name="postgresql-database-plugin" \
    allowed_roles="my-role" \
    connection_url="postgresql://{{username}}:{{password}}@localhost:5432/database-name?sslmode=disable" \
    username="vaultuser" \
    password="vaultpass" \
    password_authentication="scram-sha-256"
DOC
example "postgresql: a role" 0 '^Success! Data written to: database/roles/my-role$' <<'DOC'
vault write database/roles/my-role \
    db_name="my-postgresql-database" \
    creation_statements="CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; \
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{{name}}\";" \
    default_ttl="1h" \
    max_ttl="24h"
DOC
example "postgresql: credentials" 0 '^Key +Value$' '^lease_id +database/creds/my-role/[A-Za-z0-9]+$' '^lease_duration +1h$' \
    '^lease_renewable +true$' '^password +[^ ]+$' '^username +v-root-my-role-' <<'DOC'
vault read database/creds/my-role
DOC
LEASE=$(printf '%s\n' "$LAST_OUTPUT" | awk '$1 == "lease_id" { print $2 }')

# --- commands/lease -----------------------------------------------------------------------
example "lease lookup" 0 '^expire_time ' '^id +database/creds/my-role/' '^issue_time ' '^last_renewal +<nil>$' '^renewable +true$' '^ttl ' <<'DOC'
vault lease lookup database/creds/readonly/27e1b9a1-27b8-83d9-9fe0-d99d786bdc83
DOC
example "lease renew" 0 '^lease_id +database/creds/my-role/' '^lease_duration +1h$' '^lease_renewable +true$' <<'DOC'
vault lease renew database/creds/readonly/27e1b9a1-27b8-83d9-9fe0-d99d786bdc83
DOC
example "lease renew with an increment" 0 '^lease_duration +5m$' <<'DOC'
vault lease renew -increment=5m database/creds/readonly/27e1b9a1-27b8-83d9-9fe0-d99d786bdc83
DOC
example "lease revoke" 0 '^Success! Revoked lease: database/creds/my-role/' <<'DOC'
vault lease revoke database/creds/readonly/27e1b9a1-27b8-83d9-9fe0-d99d786bdc83
DOC
example "lease lookup of a revoked lease" 2 <<'DOC'
vault lease lookup database/creds/readonly/27e1b9a1-27b8-83d9-9fe0-d99d786bdc83
DOC

# --- secrets/databases: static roles and rotation -------------------------------------------
# Not on the page: its connection allows only my-role, and a static role must be allowed too
# (Vault refuses it the same way, which the first example checks).
example "a static role the connection does not allow" 2 <<'DOC'
vault write database/static-roles/my-static-role db_name="my-postgresql-database" username="my-existing-user" rotation_period="1h"
DOC
example "allow it" 0 '^Success! Data written to: database/config/my-postgresql-database$' <<'DOC'
vault write database/config/my-postgresql-database allowed_roles="my-role,my-static-role"
DOC
example "static role" 0 '^Success! Data written to: database/static-roles/my-static-role$' <<'DOC'
vault write database/static-roles/my-static-role \
    db_name="my-postgresql-database" \
    username="my-existing-user" \
    rotation_period="1h"
DOC
example "static credentials" 0 '^last_vault_rotation +[0-9]{4}-' '^password +[^ ]+$' '^rotation_period +1h$' '^ttl +[0-9]' \
    '^username +my-existing-user$' <<'DOC'
vault read database/static-creds/my-static-role
DOC
example "rotate a static role" 0 '^Success! Data written to: database/rotate-role/my-static-role$' <<'DOC'
vault write -force database/rotate-role/my-static-role
DOC
example "rotate the root credential" 0 '^Success! Data written to: database/rotate-root/my-postgresql-database$' <<'DOC'
vault write -force database/rotate-root/my-postgresql-database
DOC
example "credentials after rotate-root" 0 '^lease_id +database/creds/my-role/' <<'DOC'
vault read database/creds/my-role
DOC

# --- secrets/databases/mysql-maria --------------------------------------------------------
page mysql-maria
example "mysql: enable" 0 '^Success! Enabled the database secrets engine at: database/$' <<'DOC'
vault secrets enable database
DOC
example "mysql: configure" 0 '^Success! Data written to: database/config/my-mysql-database$' <<'DOC'
vault write database/config/my-mysql-database \
    plugin_name=mysql-database-plugin \
    connection_url="{{username}}:{{password}}@tcp(127.0.0.1:3306)/" \
    allowed_roles="my-role" \
    username="vaultuser" \
    password="vaultpass"
DOC
example "mysql: a role" 0 '^Success! Data written to: database/roles/my-role$' <<'DOC'
vault write database/roles/my-role \
    db_name=my-mysql-database \
    creation_statements="CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}';GRANT SELECT ON *.* TO '{{name}}'@'%';" \
    default_ttl="1h" \
    max_ttl="24h"
DOC
example "mysql: credentials" 0 '^lease_id +database/creds/my-role/' '^lease_duration +1h$' '^username +v-root-my-role-' <<'DOC'
vault read database/creds/my-role
DOC
example "mysql: revoke its leases" 0 '^Success! Revoked any leases with prefix: database/creds/my-role$' <<'DOC'
vault lease revoke -prefix database/creds/my-role
DOC

# --- secrets/databases/redis ----------------------------------------------------------------
page redis
example "redis: enable" 0 '^Success! Enabled the database secrets engine at: database/$' <<'DOC'
vault secrets enable database
DOC
example "redis: configure" 0 '^Success! Data written to: database/config/my-redis-database$' <<'DOC'
vault write database/config/my-redis-database \
    plugin_name="redis-database-plugin" \
    host="localhost" \
    port=6379 \
    tls=true \
    ca_cert="$CACERT" \
    username="user" \
    password="pass" \
    allowed_roles="my-*-role"
DOC
example "redis: a dynamic role" 0 '^Success! Data written to: database/roles/my-dynamic-role$' <<'DOC'
vault write database/roles/my-dynamic-role \
    db_name="my-redis-database" \
    creation_statements='["+@admin"]' \
    default_ttl="5m" \
    max_ttl="1h"
DOC
example "redis: credentials" 0 '^lease_id +database/creds/my-dynamic-role/' '^lease_duration +5m$' '^password +[^ ]+$' \
    '^username +V_ROOT_MY-DYNAMIC-ROLE_' <<'DOC'
vault read database/creds/my-dynamic-role
DOC
example "redis: a static role" 0 '^Success! Data written to: database/static-roles/my-static-redis-role$' <<'DOC'
vault write database/static-roles/my-static-redis-role \
    db_name="my-redis-database" \
    username="my-existing-redis-user" \
    rotation_period=5m
DOC
example "redis: static credentials" 0 '^password +[^ ]+$' '^rotation_period +5m$' '^username +my-existing-redis-user$' <<'DOC'
vault read database/static-creds/my-static-redis-role
DOC
example "redis: revoke its leases" 0 '^Success! Revoked any leases with prefix: database/creds$' <<'DOC'
vault lease revoke -prefix database/creds
DOC

# --- concepts/password-policies ---------------------------------------------------------
page password-policies
policy=$(mktemp)
cat > "$policy" <<'HCL'
length=20

rule "charset" {
  charset = "abcdefghijklmnopqrstuvwxyz"
  min-chars = 1
}

rule "charset" {
  charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
  min-chars = 1
}

rule "charset" {
  charset = "0123456789"
  min-chars = 1
}

rule "charset" {
  charset = "!@#$%^&*"
  min-chars = 1
}
HCL
cd "$(mktemp -d)" && cp "$policy" example_policy.hcl
example "password policy" 0 '^Success! Data written to: sys/policies/password/example$' <<'DOC'
vault write sys/policies/password/example policy=@example_policy.hcl
DOC
example "generate from the policy" 0 '^password +[^ ]{20}$' <<'DOC'
vault read sys/policies/password/example/generate
DOC
rm -f "$policy" example_policy.hcl; cd - >/dev/null

# --- commands/lease revoke -prefix, commands/secrets disable ---------------------------------
page postgresql
example "revoke every lease of the engine" 0 '^Success! Revoked any leases with prefix: database/creds$' <<'DOC'
vault lease revoke -prefix database/creds
DOC
example "disable the engine" 0 '^Success! Disabled the secrets engine \(if it existed\) at: database/$' <<'DOC'
vault secrets disable database/
DOC

echo "$((count - failures)) of $count examples behaved as Vault's documentation shows"
[ "$failures" = 0 ]
