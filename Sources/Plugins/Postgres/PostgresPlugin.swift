import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import TLS
import UsernameTemplate

/// The name under which the CLI registers this plugin.
public enum PostgresPluginInfo {
    public static let name = "postgresql-database-plugin"
}

extension PostgresPlugin {
    public static let registration = PluginRegistration(names: [PostgresPluginInfo.name]) { _ in PostgresPlugin() }
}

/// Vault's `postgresql-database-plugin` over our own wire client.
///
/// Connection parameters: `connection_url` (URL or key=value form, with `{{username}}` and
/// `{{password}}`, and libpq's TLS and authentication parameters: `PostgresTransportSecurity`,
/// `PostgresAuthenticationPolicy`), `username`, `password`, `disable_escaping`, `username_template`,
/// `password_authentication` (`password` or `scram-sha-256`), `self_managed` (Vault Enterprise's: no
/// root credential; only self-managed static roles use the connection), Vault 1.18's inline PEM fields
/// `tls_ca`, `tls_certificate`, `private_key` (they force TLS), `statement_timeout` (ours: bounds
/// each statement, default 10s), and Vault's pool settings (`max_open_connections`,
/// `max_idle_connections`, `max_connection_lifetime`), which are accepted and ignored: a command
/// opens at most one connection.
public final class PostgresPlugin: DatabasePlugin {
    public let type = "pgx"

    /// PostgreSQL truncates longer identifiers (NAMEDATALEN − 1 bytes), so the user it creates
    /// would not be the one the lease names.
    static let maximumUsernameLength = 63

    /// What PostgreSQL can hold as a role name, checked before any statement runs.
    static func checkUsername(_ username: String) throws {
        guard username.utf8.count <= maximumUsernameLength else {
            throw PluginError(.invalidConfiguration,
                              "username template produced a name of \(username.utf8.count) bytes; PostgreSQL allows at most \(maximumUsernameLength)")
        }
        guard !username.isEmpty, !username.contains("\u{0}") else {
            throw PluginError(.invalidConfiguration, "username template produced a name PostgreSQL cannot hold (empty, or with a NUL character)")
        }
    }

    /// How values are written into statements on this connection: a backslash in '…' escapes
    /// only when the server has standard_conforming_strings off.
    static func sql(_ connection: PostgresConnection) -> SQLTemplate {
        SQLTemplate(dialect: .postgres, backslashEscapes: connection.serverParameters["standard_conforming_strings"] == "off",
                    doubleQuotesAreIdentifiers: true)
    }

    static let defaultRenewStatement = #"ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';"#
    static let defaultRotationStatement = #"ALTER ROLE "{{username}}" WITH PASSWORD '{{password}}';"#
    /// What any role may run on itself: a self-managed account changes its own password.
    static let selfManagedRotationStatement = "ALTER ROLE CURRENT_USER WITH PASSWORD '{{password}}';"
    /// The user name a self-managed connection's URL is rendered with: it never logs in as root.
    static let selfManagedPlaceholderUser = "self-managed"

    /// How `{{password}}` reaches the server: as typed, or as a SCRAM-SHA-256 verifier computed here
    /// so the plaintext never appears in statements or server logs.
    enum PasswordAuthentication: String {
        case password
        case scramSHA256 = "scram-sha-256"
    }

    private var settings: PostgresConnection.Configuration?
    private var usernameTemplate: UsernameTemplate?
    private var passwordAuthentication = PasswordAuthentication.password
    private var connection: PostgresConnection?
    /// No root credential: every operation but a self-managed rotation is refused.
    private var selfManaged = false
    /// A connection_url whose `{{username}}` has no `username` yet (accepted unverified, as Vault
    /// accepts it): no session can be opened until a later write gives one.
    private var usernameMissing = false
    /// The configured secrets, scrubbed from every error text.
    private var secrets: [String] = []

    public init() {}

    deinit { close() }

    // MARK: initialize

    public func initialize(_ request: InitializeRequest) throws -> InitializeResponse {
        let config = ConnectionConfig(request.config)
        let rawURL = config.string("connection_url") ?? ""
        guard !rawURL.isEmpty else {
            throw PluginError(.invalidConfiguration, "connection_url cannot be empty")
        }
        var username = config.string("username") ?? ""
        let password = config.string("password") ?? ""
        for value in [username, password] where value.contains("{{username}}") || value.contains("{{password}}") {
            throw PluginError(.invalidConfiguration, "username and/or password cannot contain the template variables")
        }
        let selfManaged = try config.bool("self_managed", default: false)
        if selfManaged {
            guard username.isEmpty && password.isEmpty else {
                throw PluginError(.invalidConfiguration, "self_managed is mutually exclusive with username and password: a self-managed connection has no root credential")
            }
            username = Self.selfManagedPlaceholderUser
        }
        let inlineTLS = PostgresTransportSecurity.InlineFields(
            ca: config.string("tls_ca"), certificate: config.string("tls_certificate"), privateKey: config.string("private_key"))
        secrets = [password, PostgresConnectionURL.pathEscape(password), inlineTLS.privateKey ?? ""].filter { !$0.isEmpty }
        let statementTimeout = try config.statementTimeout()
        let disableEscaping = try config.bool("disable_escaping", default: false)
        for key in ["max_open_connections", "max_idle_connections"] {
            _ = try config.int(key, default: 4)
        }

        let (template, sample): (UsernameTemplate, String)
        do {
            (template, sample) = try UsernameTemplate.forConnection(config.string("username_template"),
                                                                    default: DefaultUsernameTemplates.postgres)
        } catch let error as UsernameTemplate.Error {
            throw PluginError(.invalidConfiguration, error.message)
        }
        try Self.checkUsername(sample)

        let authentication = config.string("password_authentication") ?? ""
        guard let mode = authentication.isEmpty ? .password : PasswordAuthentication(rawValue: authentication) else {
            throw PluginError(.invalidConfiguration, "'\(authentication)' is not a valid password authentication type")
        }

        // Vault parses the URL only when it connects: without verification, a `{{username}}` with
        // no username yet is accepted (a later write may merge one in); the rest is checked now,
        // with a stand-in name.
        let missingUsername = username.isEmpty && rawURL.contains("{{username}}") && !request.verifyConnection
        let url = PostgresConnectionURL.substitute(rawURL, username: missingUsername ? "username" : username, password: password,
                                                   disableEscaping: disableEscaping)
        let parsed: PostgresConnection.Configuration
        do {
            let fields = try PostgresConnectionURL(parsing: url)
            if !fields.password.isEmpty { secrets.append(fields.password) }
            if let keyPassword = fields.sslPassword { secrets.append(keyPassword) }
            parsed = try fields.configuration(inlineTLS: inlineTLS, passwordAuthenticationSCRAM: mode == .scramSHA256,
                                              statementTimeout: statementTimeout)
            if parsed.security.mode == .require { try TLSStream.check(parsed.security.tls) }
        } catch let error as PostgresClientError {
            throw PluginError(.invalidConfiguration, error.message.redacting(secrets))
        } catch let error as TLSError {
            throw PluginError(error.kind == .unavailable ? .unsupported : .invalidConfiguration, error.message.redacting(secrets))
        }

        close()
        settings = parsed
        usernameTemplate = template
        passwordAuthentication = mode
        self.selfManaged = selfManaged
        usernameMissing = missingUsername
        if missingUsername {
            return InitializeResponse(config: request.config, warnings: [
                "connection_url has {{username}} but no username is set: the connection cannot be used until a write sets username",
            ])
        }

        // A self-managed connection has no login of its own to verify (Vault forces
        // verify_connection off for it).
        if request.verifyConnection && !selfManaged {
            do {
                _ = try session()
            } catch let error as PluginError {
                throw PluginError(.connection, "error verifying connection: \(error.message)")
            }
        }
        return InitializeResponse(config: request.config)
    }

    // MARK: newUser

    public func newUser(_ request: NewUserRequest) throws -> NewUserResponse {
        guard !request.statements.isEmpty else {
            throw PluginError(.invalidConfiguration, "empty creation statements")
        }
        let username = try request.username ?? generateUsername(request.usernameConfig)
        let values = [
            "name": username,
            "username": username,
            "password": statementPassword(request.password),
            "expiration": StatementTemplate.expiration(request.expiration),
        ]
        let extraSecrets = [request.password, values["password"]!]
        let connection = try session()
        try inTransaction(connection, secrets: extraSecrets) {
            for statement in request.statements {
                // A block with END inside runs whole: its own semicolons must not split it.
                let queries = PostgresStatements.queries(statement)
                for query in queries {
                    try execute(try Self.sql(connection).render(query, values), on: connection,
                                failure: "failed to execute query: ", secrets: extraSecrets, holdsPassword: query.contains("{{password}}"))
                }
            }
        }
        return NewUserResponse(username: username)
    }

    public func generateUsername(_ metadata: UsernameMetadata) throws -> String {
        let template = try initializedTemplate()
        let username: String
        do {
            username = try template.render(displayName: metadata.displayName, roleName: metadata.roleName)
        } catch {
            throw PluginError(.invalidConfiguration, "unable to generate username: \(error)")
        }
        try Self.checkUsername(username)
        return username
    }

    // MARK: updateUser

    public func updateUser(_ request: UpdateUserRequest) throws -> UpdateUserResponse {
        guard !request.username.isEmpty else {
            throw PluginError(.invalidConfiguration, "missing username")
        }
        try request.requireChanges()
        try request.requireSupport(by: self)
        if let current = request.selfManagedPassword, let change = request.password {
            try changeOwnPassword(of: request.username, from: current, change)
            return UpdateUserResponse()
        }
        var failures: [PluginError] = []
        if let change = request.password {
            do { try changePassword(of: request.username, change) } catch let error as PluginError { failures.append(error) }
        }
        if let change = request.expiration {
            do { try changeExpiration(of: request.username, change) } catch let error as PluginError { failures.append(error) }
        }
        if failures.count == 1 { throw failures[0] }
        if let first = failures.first {
            throw PluginError(first.kind, failures.map(\.message).joined(separator: "; "))
        }
        return UpdateUserResponse()
    }

    private func changePassword(of username: String, _ change: PasswordChange) throws {
        guard !change.newPassword.isEmpty else {
            throw PluginError(.invalidConfiguration, "missing password")
        }
        let connection = try session()
        guard try roleExists(username, on: connection) else {
            throw PluginError(.database, "user does not appear to exist: no role named \"\(username)\" in pg_roles")
        }
        let password = statementPassword(change.newPassword)
        let values = ["name": username, "username": username, "password": password]
        let statements = change.statements.isEmpty ? [Self.defaultRotationStatement] : change.statements
        let extraSecrets = [change.newPassword, password]
        try inTransaction(connection, secrets: extraSecrets) {
            for query in statements.flatMap(PostgresStatements.queries) {
                try execute(try Self.sql(connection).render(query, values), on: connection,
                            failure: "failed to execute query: ", secrets: extraSecrets, holdsPassword: query.contains("{{password}}"))
            }
        }
    }

    /// A self-managed rotation: logs in as the account with its current password and changes it
    /// with what any role may run on itself. The root credential is never used.
    private func changeOwnPassword(of username: String, from current: String, _ change: PasswordChange) throws {
        guard !change.newPassword.isEmpty else {
            throw PluginError(.invalidConfiguration, "missing password")
        }
        guard var configuration = settings else {
            throw PluginError(.invalidConfiguration, "the postgres plugin is not initialized")
        }
        configuration.user = username
        configuration.password = current
        let extraSecrets = [change.newPassword, statementPassword(change.newPassword), current]
        let own: PostgresConnection
        do {
            own = try PostgresConnection.connect(configuration)
        } catch let error as PostgresClientError {
            throw PluginError(.connection, "cannot log in as \(username) with its current password: \(error.message)".redacting(secrets + extraSecrets),
                              outcome: .unchanged)
        }
        defer { own.close() }
        let password = statementPassword(change.newPassword)
        let values = ["name": username, "username": username, "password": password]
        let statements = change.statements.isEmpty ? [Self.selfManagedRotationStatement] : change.statements
        try inTransaction(own, secrets: extraSecrets, keepsSession: false) {
            for query in statements.flatMap(PostgresStatements.split) {
                try execute(try Self.sql(own).render(query, values), on: own,
                            failure: "failed to execute query: ", secrets: extraSecrets, holdsPassword: query.contains("{{password}}"))
            }
        }
    }

    private func changeExpiration(of username: String, _ change: ExpirationChange) throws {
        let connection = try session()
        let values = ["name": username, "username": username,
                      "expiration": StatementTemplate.expiration(change.newExpiration)]
        let statements = change.statements.isEmpty ? [Self.defaultRenewStatement] : change.statements
        try inTransaction(connection, secrets: []) {
            for query in statements.flatMap(PostgresStatements.queries) {
                try execute(try Self.sql(connection).render(query, values), on: connection, failure: "", secrets: [])
            }
        }
    }

    // MARK: deleteUser

    public func deleteUser(_ request: DeleteUserRequest) throws -> DeleteUserResponse {
        let connection = try session()
        let values = ["name": request.username, "username": request.username]
        let queries = try request.statements.flatMap(PostgresStatements.queries).map { try Self.sql(connection).render($0, values) }
        if !queries.isEmpty && connection.transactionStatus == .idle && PostgresStatements.canPipeline(queries) {
            try deleteUserInOneRoundTrip(request.username, queries, on: connection)
            return DeleteUserResponse()
        }
        // Revoking a user that is already gone is a success: the lease's job is done.
        guard try roleExists(request.username, on: connection) else { return DeleteUserResponse() }
        if queries.isEmpty {
            try defaultDeleteUser(request.username, on: connection)
        } else {
            try inTransaction(connection, secrets: []) {
                for query in queries { try execute(query, on: connection, failure: "", secrets: []) }
            }
        }
        return DeleteUserResponse()
    }

    /// The revocation as one write, so one round trip per lease (as psql running the statements):
    /// BEGIN, the existence check, the statements (which `canPipeline` found free of transaction
    /// control) and COMMIT. The check is a cast of the name to `regrole`, which fails (42704)
    /// when the role is gone. After any failure PostgreSQL refuses the statements that follow in
    /// the block ("current transaction is aborted") and answers the COMMIT with ROLLBACK: for a
    /// user that is already gone nothing runs (a success, as before), and when a statement
    /// fails nothing of the others is kept (PostgresPluginTests pins both on the real server).
    private func deleteUserInOneRoundTrip(_ username: String, _ statements: [String], on connection: PostgresConnection) throws {
        let check = "SELECT \(PostgresStatements.quoteLiteral(PostgresStatements.quoteIdentifier(username)))::regrole;"
        // A crash here leaves nothing, as one before COMMIT: nothing was sent yet (crash tests).
        let injected = CrashPoint.reached("postgres commit")
        do {
            let failures = try connection.pipelinedQueries(["BEGIN;", check] + statements + (injected ? [] : ["COMMIT;"]))
            if connection.transactionStatus != .idle { _ = try? connection.simpleQuery("ROLLBACK;") }
            if injected { throw PluginError(.database, "failure injected before COMMIT") }
            guard let first = failures.firstIndex(where: { $0 != nil }), let failure = failures[first] else { return }
            if first == 1 && failure.serverError?.sqlState == "42704" { return }
            throw pluginError(failure, prefix: first == 0 ? "unable to start transaction: " : "", secrets: [])
        } catch let error as PostgresClientError {
            if !connection.isOpen { self.connection = nil }
            throw pluginError(error, prefix: "", secrets: [])
        }
    }

    /// Vault's default revocation: revoke what the role was granted, then drop it. Not one
    /// transaction, on purpose: when something fails, as much access as possible is gone already.
    private func defaultDeleteUser(_ username: String, on connection: PostgresConnection) throws {
        let role = PostgresStatements.quoteIdentifier(username)
        let literal = PostgresStatements.quoteLiteral(username)
        let roleOID = "(SELECT oid FROM pg_roles WHERE rolname = \(literal))"
        // Every schema where the role holds a privilege on the schema or on something in it.
        let schemas = try query("""
            SELECT DISTINCT nspname FROM (
              SELECT n.nspname FROM pg_namespace n, aclexplode(n.nspacl) a WHERE a.grantee = \(roleOID)
              UNION SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
                aclexplode(c.relacl) a WHERE a.grantee = \(roleOID)
              UNION SELECT n.nspname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
                aclexplode(p.proacl) a WHERE a.grantee = \(roleOID)
              UNION SELECT table_schema::text FROM information_schema.role_column_grants WHERE grantee = \(literal)
              UNION SELECT 'public'
            ) s ORDER BY 1
            """, on: connection).rows.compactMap { $0.first ?? nil }

        var revocations: [String] = []
        for schema in schemas {
            let quoted = PostgresStatements.quoteIdentifier(schema)
            revocations += [
                "REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA \(quoted) FROM \(role);",
                "REVOKE ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA \(quoted) FROM \(role);",
                "REVOKE ALL PRIVILEGES ON ALL FUNCTIONS IN SCHEMA \(quoted) FROM \(role);",
                "REVOKE ALL PRIVILEGES ON SCHEMA \(quoted) FROM \(role);",
            ]
        }
        if let database = try query("SELECT current_database();", on: connection).rows.first?.first ?? nil {
            revocations.append("REVOKE ALL PRIVILEGES ON DATABASE \(PostgresStatements.quoteIdentifier(database)) FROM \(role);")
        }
        var lastFailure: PluginError?
        for revocation in revocations {
            do {
                try executeRetryingConflicts(revocation, on: connection)
            } catch let error as PluginError {
                guard connection.isOpen else { throw error }
                lastFailure = error
            }
        }
        if let lastFailure {
            throw PluginError(.database, "could not perform all revocation statements: \(lastFailure.message)")
        }
        try execute("DROP ROLE IF EXISTS \(role);", on: connection, failure: "", secrets: [])
    }

    // MARK: checkPassword

    /// A login as `username` with the connection's other settings. PostgreSQL answers a wrong
    /// password (and an unknown user) with SQLSTATE 28P01; any other refusal (no pg_hba entry, no
    /// CONNECT right) says nothing about the password. A server out of reach is an error.
    public func checkPassword(username: String, password: String) throws -> Bool? {
        guard let settings else {
            throw PluginError(.invalidConfiguration, "the postgres plugin is not initialized")
        }
        var configuration = settings
        configuration.user = username
        configuration.password = password
        do {
            try PostgresConnection.connect(configuration).close()
            return true
        } catch let error as PostgresClientError {
            if error.serverError?.sqlState == "28P01" { return false }
            if [.connect, .timeout, .io].contains(error.kind) {
                throw PluginError(.connection, error.message.redacting(secrets + [password]))
            }
            return nil
        }
    }

    /// Self-managed rotation only: PostgreSQL keeps one password per role.
    public func supports(_ feature: PluginFeature) throws -> Bool {
        feature == .selfManagedPassword
    }

    // MARK: close

    public func close() {
        connection?.close()
        connection = nil
    }

    // MARK: helpers

    private func initializedTemplate() throws -> UsernameTemplate {
        guard let usernameTemplate else {
            throw PluginError(.invalidConfiguration, "the postgres plugin is not initialized")
        }
        return usernameTemplate
    }

    /// The open connection, or a new one: commands reuse a single session.
    private func session() throws -> PostgresConnection {
        if let connection, connection.isOpen { return connection }
        if usernameMissing {
            throw PluginError(.invalidConfiguration, "connection_url has {{username}} but the connection has no username: write one with username=")
        }
        guard let settings else {
            throw PluginError(.invalidConfiguration, "the postgres plugin is not initialized")
        }
        if selfManaged {
            throw PluginError(.invalidConfiguration, "the connection is self-managed (it has no root credential): only self-managed static roles can use it")
        }
        do {
            let opened = try PostgresConnection.connect(settings)
            connection = opened
            return opened
        } catch let error as PostgresClientError {
            throw PluginError(.connection, error.message.redacting(secrets))
        }
    }

    private func statementPassword(_ password: String) -> String {
        switch passwordAuthentication {
        case .password: return password
        case .scramSHA256: return SCRAMAuthenticator.verifier(password: password)
        }
    }

    private func roleExists(_ username: String, on connection: PostgresConnection) throws -> Bool {
        let sql = "SELECT exists (SELECT rolname FROM pg_roles WHERE rolname = \(PostgresStatements.quoteLiteral(username)));"
        return try query(sql, on: connection).rows.first?.first == "t"
    }

    private func query(_ sql: String, on connection: PostgresConnection) throws -> PostgresConnection.QueryResult {
        do {
            return try connection.simpleQuery(sql)
        } catch let error as PostgresClientError {
            throw pluginError(error, prefix: "", secrets: [])
        }
    }

    /// Runs one statement. One that `holdsPassword` never has its failure quoted: the server's
    /// message may repeat the statement ("syntax error at or near …"), so only its SQLSTATE is shown.
    /// SQLSTATEs of a statement that lost a race with another session and may simply be run again:
    /// two revocations at once (two agents, tidy and a CLI call) REVOKE on the same schema or
    /// database, and PostgreSQL refuses one with "tuple concurrently updated" (XX000).
    static let retryableConflicts: Set<String> = ["XX000", "40001", "40P01"]

    /// Runs one statement outside a transaction, again (up to five times, 20-60 ms apart) when
    /// it failed only because another session changed the same catalog row at the same moment.
    private func executeRetryingConflicts(_ sql: String, on connection: PostgresConnection) throws {
        for attempt in 1... {
            do {
                try connection.simpleQuery(sql)
                return
            } catch let error as PostgresClientError {
                guard attempt < 5, connection.isOpen, let state = error.serverError?.sqlState,
                      Self.retryableConflicts.contains(state),
                      state != "XX000" || error.serverError?.message == "tuple concurrently updated" else {
                    throw pluginError(error, prefix: "", secrets: [])
                }
                usleep(useconds_t.random(in: 20_000...60_000))
            }
        }
    }

    private func execute(_ sql: String, on connection: PostgresConnection, failure prefix: String,
                         secrets extra: [String], holdsPassword: Bool = false) throws {
        do {
            try connection.simpleQuery(sql)
        } catch let error as PostgresClientError {
            if holdsPassword, let server = error.serverError {
                throw PluginError(.database, prefix + PostgresStatements.describeWithoutMessage(server))
            }
            throw pluginError(error, prefix: prefix, secrets: extra)
        }
    }

    /// BEGIN … COMMIT, with ROLLBACK when anything fails so no half-made user remains. A connection
    /// that broke mid-way is dropped; the server rolls back on its own when it notices.
    private func inTransaction(_ connection: PostgresConnection, secrets extra: [String], keepsSession: Bool = true,
                               _ body: () throws -> Void) throws {
        try execute("BEGIN;", on: connection, failure: "unable to start transaction: ", secrets: [])
        do {
            try body()
            // A crash before COMMIT leaves nothing: the server rolls back (crash tests).
            if CrashPoint.reached("postgres commit") {
                throw PluginError(.database, "failure injected before COMMIT")
            }
            try execute("COMMIT;", on: connection, failure: "", secrets: extra)
        } catch {
            if connection.isOpen { _ = try? connection.simpleQuery("ROLLBACK;") }
            if keepsSession && !connection.isOpen { self.connection = nil }
            throw error
        }
    }

    private func pluginError(_ error: PostgresClientError, prefix: String, secrets extra: [String]) -> PluginError {
        let kind: PluginError.Kind = error.kind == .server ? .database : .connection
        return PluginError(kind, (prefix + error.message).redacting(secrets + extra))
    }
}
