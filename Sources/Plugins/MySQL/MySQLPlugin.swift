import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TLS
import UsernameTemplate

/// Vault's `mysql-database-plugin` and its aurora/rds/legacy siblings, over our own wire client.
///
/// Connection parameters: `connection_url` (go-sql-driver DSN, `{{username}}`/`{{password}}` templated),
/// `username`, `password`, `username_template`, and Vault's pool settings (`max_open_connections`,
/// `max_idle_connections`, `max_connection_lifetime`), which are validated and otherwise unused because
/// the plugin holds a single connection. TLS as Vault configures it: the DSN's `tls=`, or the fields
/// `tls_ca`, `tls_certificate_key`, `tls_server_name`, `tls_skip_verify` (`MySQLTransportSecurity`).
/// `statement_timeout` (ours) bounds each statement, default 10s.
public final class MySQLPlugin: DatabasePlugin {
    public let variant: Variant
    public var type: String { "mysql" }

    private var dsn: MySQLDSN?
    private var security: MySQLConnection.TransportSecurity?
    /// `server_public_key` (PEM), checked to be an RSA public key when the configuration is written.
    private var serverPublicKey: [UInt8]?
    private var statementTimeout = ConnectionConfig.defaultStatementTimeout
    private var usernameTemplate: UsernameTemplate?
    /// Values that must never appear in an error text.
    private var secrets: [String] = []
    private var connection: MySQLConnection?
    /// Set when the last failed transaction had already run a statement (see `runInTransaction`).
    private var partialChange = false
    /// `self_managed` (Vault Enterprise's): no root credential; only self-managed rotation works.
    private var selfManaged = false

    public init(variant: Variant = .mysql) {
        self.variant = variant
    }

    deinit { close() }

    // MARK: initialize

    public func initialize(_ request: InitializeRequest) throws -> InitializeResponse {
        let config = ConnectionConfig(request.config)
        close()

        let (template, sample): (UsernameTemplate, String)
        do {
            (template, sample) = try UsernameTemplate.forConnection(config.string("username_template"),
                                                                    default: variant.defaultUsernameTemplate)
        } catch let error as UsernameTemplate.Error {
            throw PluginError(.invalidConfiguration, error.message)
        }
        if sample.count > variant.maxUsernameLength {
            throw PluginError(.invalidConfiguration, "invalid username template: it renders \(tooLong(sample))")
        }

        let username = config.string("username") ?? ""
        let password = config.string("password") ?? ""
        secrets = [password].filter { !$0.isEmpty }
        selfManaged = try config.bool("self_managed", default: false)
        if selfManaged && !(username.isEmpty && password.isEmpty) {
            throw PluginError(.invalidConfiguration, "self_managed is mutually exclusive with username and password: a self-managed connection has no root credential")
        }

        guard let url = config.string("connection_url"), !url.isEmpty else {
            throw PluginError(.invalidConfiguration, "connection_url cannot be empty")
        }
        for value in [username, password] where value.contains("{{username}}") || value.contains("{{password}}") {
            throw PluginError(.invalidConfiguration, "username and/or password cannot contain the template variables")
        }
        if let keyPEM = config.string("tls_certificate_key"), !keyPEM.isEmpty { secrets.append(keyPEM) }
        statementTimeout = try config.statementTimeout()
        let maxOpen = try config.int("max_open_connections", default: 4)
        _ = try config.int("max_idle_connections", default: maxOpen)
        if let lifetime = request.config["max_connection_lifetime"], lifetime != .null {
            guard lifetime.intValue != nil || lifetime.textValue.flatMap({ try? GoDuration.seconds($0) }) != nil else {
                throw PluginError(.invalidConfiguration,
                                  "invalid max_connection_lifetime: cannot parse \"\(lifetime.textValue ?? "")\"")
            }
        }

        // Like Vault: the password goes into the DSN unescaped (go-sql-driver takes it verbatim).
        let rendered = StatementTemplate.render(url, ["username": username, "password": password])
        let parsed = try MySQLDSN(parsing: rendered)
        if !parsed.password.isEmpty { secrets.append(parsed.password) }
        security = try MySQLTransportSecurity.resolve(parsed, config)
        if let security, security.required {
            do throws(TLSError) {
                try TLSStream.check(security.tls)
            } catch {
                throw PluginError(error.kind == .unavailable ? .unsupported : .invalidConfiguration, error.message.redacting(secrets))
            }
        }
        serverPublicKey = try Self.serverPublicKey(config)
        dsn = parsed
        usernameTemplate = template

        // A self-managed connection has no login of its own to verify (Vault forces
        // verify_connection off for it).
        if request.verifyConnection && !selfManaged {
            do {
                _ = try session()
            } catch {
                throw pluginError(error, prefix: "error verifying connection: ")
            }
        }
        return InitializeResponse(config: request.config)
    }

    /// The `server_public_key` field: the PEM of the server's RSA key (its `public_key.pem`, or
    /// `SHOW STATUS LIKE 'Caching_sha2_password_rsa_public_key'`). Parsed now, so a bad key is a
    /// configuration error at once; parsing loads libcrypto only when the field is set.
    private static func serverPublicKey(_ config: ConnectionConfig) throws -> [UInt8]? {
        guard let text = config.string("server_public_key"), !text.isEmpty else { return nil }
        let pem = Array(text.utf8)
        do throws(MySQLError) {
            _ = try MySQLRSAPublicKey(pem: pem, kind: .configuration, source: "server_public_key")
        } catch {
            throw PluginError(error.kind == .unsupported ? .unsupported : .invalidConfiguration, error.message)
        }
        return pem
    }

    // MARK: newUser

    public func newUser(_ request: NewUserRequest) throws -> NewUserResponse {
        guard !request.statements.isEmpty else {
            throw PluginError(.invalidConfiguration, "empty creation statements")
        }
        let username = try request.username ?? generateUsername(request.usernameConfig)
        let values = [
            "name": username, "username": username, "password": request.password,
            "expiration": StatementTemplate.expiration(request.expiration),
        ]
        let secrets = self.secrets + [request.password]
        let conn = try session(secrets: secrets)
        let queries = try self.queries(request.statements, values, on: conn, secrets: secrets)
        guard !queries.isEmpty else {
            throw PluginError(.invalidConfiguration, "empty creation statements")
        }
        // A user that existed before is not ours to drop if the statements fail.
        let existedBefore = try? userExists(username, on: conn)
        do {
            try runInTransaction(queries, on: conn)
        } catch {
            if existedBefore == false {
                removePartialUser(username, rollback: request.rollbackStatements, on: conn)
            }
            throw pluginError(error, secrets: secrets)
        }
        return NewUserResponse(username: username)
    }

    public func generateUsername(_ metadata: UsernameMetadata) throws -> String {
        guard let template = usernameTemplate else { throw notInitialized() }
        let username: String
        do {
            username = try template.render(displayName: metadata.displayName, roleName: metadata.roleName)
        } catch {
            throw PluginError(.invalidConfiguration, "unable to generate username: \(error)")
        }
        guard username.count <= variant.maxUsernameLength else {
            throw PluginError(.invalidConfiguration, "the username template renders \(tooLong(username))")
        }
        guard !username.isEmpty, !username.contains("\u{0}") else {
            throw PluginError(.invalidConfiguration, "the username template renders a name MySQL cannot hold (empty, or with a NUL character)")
        }
        return username
    }

    private func tooLong(_ username: String) -> String {
        "\"\(username)\", \(username.count) characters long, but \(variant.pluginName) allows at most "
            + "\(variant.maxUsernameLength)"
    }

    /// MySQL commits DDL (CREATE USER, GRANT) at once, so a rolled-back transaction can still leave a
    /// user behind: run the role's rollback statements, then drop every host entry of the name.
    private func removePartialUser(_ username: String, rollback: [String], on conn: MySQLConnection) {
        for query in (try? queries(rollback, ["name": username, "username": username], on: conn)) ?? [] {
            _ = try? conn.execute(query.sql)
        }
        guard let select = try? sql("SELECT Host FROM mysql.user WHERE User = '{{name}}'", ["name": username], on: conn),
              let hosts = try? conn.query(select) else { return }
        for case let host? in hosts.rows.map({ $0.first ?? nil }) {
            if let drop = try? sql("DROP USER '{{name}}'@'{{host}}'", ["name": username, "host": host], on: conn) {
                _ = try? conn.execute(drop)
            }
        }
    }

    // MARK: updateUser

    public func updateUser(_ request: UpdateUserRequest) throws -> UpdateUserResponse {
        try request.requireChanges()
        try request.requireSupport(by: self)
        if let current = request.selfManagedPassword, let change = request.password {
            try changeOwnPassword(of: request.username, from: current, change)
            return UpdateUserResponse()
        }
        if let discard = request.discardPreviousPassword {
            let conn = try session()
            let queries = try self.queries([MySQLStatements.discardOldPassword], ["name": request.username, "username": request.username], on: conn)
            do {
                try runInTransaction(queries, on: conn)
            } catch {
                throw pluginError(error, secrets: [discard.currentPassword, discard.previousPassword], prefix: "failed to discard the old password: ")
            }
        }
        if let change = request.password {
            guard !request.username.isEmpty, !change.newPassword.isEmpty else {
                throw PluginError(.invalidConfiguration, "failed to change password: must provide both username and password")
            }
            let secrets = self.secrets + [change.newPassword]
            let conn = try session(secrets: secrets)
            if (try? userExists(request.username, on: conn)) == false {
                throw PluginError(.database, "failed to change password: user \"\(request.username)\" does not exist")
            }
            let statements = change.statements.isEmpty ? MySQLStatements.defaultRotation(change) : change.statements
            let queries = try self.queries(statements, [
                "name": request.username, "username": request.username, "password": change.newPassword,
            ], on: conn, secrets: secrets)
            do {
                try runInTransaction(queries, on: conn)
            } catch {
                throw pluginError(error, secrets: secrets, prefix: "failed to change password: ")
            }
            if request.isRootRotation, request.username == dsn?.username {
                // Later reconnects of this instance must use the new root password.
                dsn?.password = change.newPassword
                self.secrets.append(change.newPassword)
            }
        }
        // MySQL has no VALID UNTIL: Vault's plugin ignores expiration changes. Renew statements, when a
        // role has them, are run so they are not silently dropped.
        if let change = request.expiration, !change.statements.isEmpty {
            let conn = try session()
            let queries = try self.queries(change.statements, [
                "name": request.username, "username": request.username,
                "expiration": StatementTemplate.expiration(change.newExpiration),
            ], on: conn)
            do {
                try runInTransaction(queries, on: conn)
            } catch {
                throw pluginError(error, prefix: "failed to change expiration: ")
            }
        }
        return UpdateUserResponse()
    }

    /// A self-managed rotation: logs in as the account with its current password and changes it
    /// with what an account without privileges may run on itself: MariaDB's `SET PASSWORD` (its
    /// `ALTER USER CURRENT_USER()` needs a privilege), MySQL's `ALTER USER USER() … REPLACE`.
    private func changeOwnPassword(of username: String, from current: String, _ change: PasswordChange) throws {
        guard !username.isEmpty, !change.newPassword.isEmpty else {
            throw PluginError(.invalidConfiguration, "failed to change password: must provide both username and password")
        }
        var configuration = try connectionConfiguration()
        configuration.username = username
        configuration.password = current
        configuration.database = nil
        let secrets = self.secrets + [change.newPassword, current]
        let own: MySQLConnection
        do {
            own = try MySQLConnection.connect(configuration)
        } catch {
            var failure = pluginError(error, secrets: secrets, prefix: "cannot log in as \(username) with its current password: ")
            failure.outcome = .unchanged
            throw failure
        }
        defer { own.close() }
        let statements = change.statements.isEmpty
            ? [MySQLStatements.selfManagedRotation(serverVersion: own.serverVersion)] : change.statements
        let queries = try self.queries(statements, [
            "name": username, "username": username, "password": change.newPassword, "current_password": current,
        ], on: own, secrets: secrets)
        do {
            try runInTransaction(queries, on: own, closingOnFailure: false)
        } catch {
            throw pluginError(error, secrets: secrets, prefix: "failed to change password: ")
        }
    }

    /// Self-managed rotation always; two passwords per account from MySQL 8.0.14 (`RETAIN CURRENT
    /// PASSWORD`), never on MariaDB: asked of the server the connection reaches.
    public func supports(_ feature: PluginFeature) throws -> Bool {
        switch feature {
        case .selfManagedPassword: return true
        case .twoPasswords: return MySQLStatements.keepsTwoPasswords(serverVersion: try session().serverVersion)
        }
    }

    // MARK: deleteUser

    public func deleteUser(_ request: DeleteUserRequest) throws -> DeleteUserResponse {
        let conn = try session()
        // nil when the admin may not read mysql.user; then "no such user" errors count as gone.
        let exists = try? userExists(request.username, on: conn)
        if exists == false { return DeleteUserResponse() }
        let statements = request.statements.isEmpty ? [MySQLStatements.defaultRevocation] : request.statements
        let queries = try self.queries(statements, ["name": request.username, "username": request.username], on: conn)
        let goneCodes = [MySQLErrorCode.cannotUser, MySQLErrorCode.nonexistingGrant, MySQLErrorCode.nonexistingTableGrant]
        do {
            try runInTransaction(queries, on: conn) { error in
                exists == nil && error.kind == .server && error.code.map(goneCodes.contains) == true
            }
        } catch {
            throw pluginError(error)
        }
        return DeleteUserResponse()
    }

    // MARK: connection

    public func close() {
        connection?.close()
        connection = nil
    }

    /// The plugin's single connection, opened on first use (and after a connection failure).
    private func session(secrets extra: [String] = []) throws -> MySQLConnection {
        if let connection { return connection }
        if selfManaged {
            throw PluginError(.invalidConfiguration, "the connection is self-managed (it has no root credential): only self-managed static roles can use it")
        }
        let configuration = try connectionConfiguration()
        do {
            let conn = try MySQLConnection.connect(configuration)
            for (name, value) in dsn?.sessionVariables ?? [] {
                do {
                    try conn.execute("SET \(name)=\(value)")
                } catch let error as MySQLError where error.kind == .server {
                    conn.close()
                    throw PluginError(.invalidConfiguration, "connection_url parameter \(name) is not one of the driver's, "
                        + "so it was sent to the server as SET \(name)=…, which the server refused: \(error)")
                }
            }
            connection = conn
            return conn
        } catch {
            throw pluginError(error, secrets: extra + secrets)
        }
    }

    private func connectionConfiguration() throws -> MySQLConnection.Configuration {
        guard let dsn else { throw notInitialized() }
        return MySQLConnection.Configuration(
            address: dsn.address, username: dsn.username, password: dsn.password,
            database: dsn.database.isEmpty ? nil : dsn.database, connectTimeout: dsn.connectTimeout,
            readTimeout: dsn.readTimeout, writeTimeout: dsn.writeTimeout, statementTimeout: statementTimeout,
            security: security, serverPublicKey: serverPublicKey, allowPublicKeyRetrieval: dsn.allowPublicKeyRetrieval)
    }

    // MARK: checkPassword

    /// A login as `username`, without a database (the account may have no right on the
    /// connection's). Error 1045 is MySQL's answer to a wrong password, but also to a host the
    /// account may not log in from; both mean the password cannot be confirmed this way. An account
    /// the server has not cached (after a restart or the very change being settled) needs
    /// caching_sha2_password's full authentication: it is checked over TLS or RSA as any login is,
    /// and when neither is configured the answer is nil, never false. A server key that does not
    /// match `server_public_key` throws, as an unreachable server does: nothing can be learnt.
    public func checkPassword(username: String, password: String) throws -> Bool? {
        var configuration = try connectionConfiguration()
        configuration.username = username
        configuration.password = password
        configuration.database = nil
        do {
            try MySQLConnection.connect(configuration).close()
            return true
        } catch let error as MySQLError where error.kind == .server && error.code == MySQLErrorCode.accessDenied {
            return false
        } catch let error as MySQLError where error.kind == .connection || error.kind == .configuration {
            throw pluginError(error, secrets: [password])
        } catch {
            return nil
        }
    }

    private func userExists(_ username: String, on conn: MySQLConnection) throws -> Bool {
        let rows = try conn.query(try sql("SELECT COUNT(*) FROM mysql.user WHERE User = '{{name}}'", ["name": username], on: conn))
        return (rows.rows.first?.first ?? nil).flatMap { Int($0) }.map { $0 > 0 } ?? false
    }

    /// The statements rendered for this session.
    private func queries(_ statements: [String], _ values: [String: String], on conn: MySQLConnection,
                         secrets: [String] = []) throws -> [MySQLStatements.Query] {
        try MySQLStatements.queries(statements, values, mode: try sqlMode(statements, values, on: conn, secrets: secrets))
    }

    /// One statement of the plugin's own, with its values escaped for this session.
    private func sql(_ statement: String, _ values: [String: String], on conn: MySQLConnection) throws -> String {
        let mode = try sqlMode([statement], values, on: conn)
        return try SQLTemplate(dialect: .mysql, backslashEscapes: !mode.noBackslashEscapes, doubleQuotesAreIdentifiers: mode.ansiQuotes)
            .render(statement, values)
    }

    /// The session's `sql_mode`, asked only when a backslash or a double quote makes it matter.
    private func sqlMode(_ statements: [String], _ values: [String: String], on conn: MySQLConnection,
                         secrets: [String] = []) throws -> MySQLStatements.SQLMode {
        guard MySQLStatements.SQLMode.matters(statements, values) else { return .default }
        do {
            let reported = try conn.query("SELECT @@SESSION.sql_mode").rows.first?.first ?? nil
            return MySQLStatements.SQLMode(reported: reported ?? "")
        } catch {
            throw pluginError(error, secrets: secrets, prefix: "cannot read sql_mode: ")
        }
    }

    /// Runs the queries between START TRANSACTION and COMMIT; on an error not `tolerated`, rolls back.
    /// MySQL commits account statements (CREATE USER, ALTER USER, GRANT) at once, whatever the
    /// transaction: once one has run, a later failure leaves a change behind (`partialChange`).
    private func runInTransaction(_ queries: [MySQLStatements.Query], on conn: MySQLConnection, closingOnFailure: Bool = true,
                                  tolerating tolerated: (MySQLError) -> Bool = { _ in false }) throws {
        var ran = 0
        partialChange = false
        do {
            try conn.execute("START TRANSACTION")
            for query in queries {
                // A crash between two statements leaves the first ones committed (crash tests).
                if ran > 0, CrashPoint.reached("mysql statement \(ran + 1)") {
                    throw PluginError(.database, "failure injected before statement \(ran + 1)")
                }
                do {
                    try conn.execute(query.sql)
                    ran += 1
                } catch let error as MySQLError where tolerated(error) {
                    continue
                } catch let error as MySQLError where query.holdsPassword && error.kind == .server {
                    // The server's message may repeat the statement ("… near '…' at line 1").
                    throw MySQLError.server(code: error.code ?? 0, sqlState: error.sqlState,
                                            message: "the statement held the password, so the server's message is not shown")
                }
            }
            try conn.execute("COMMIT")
        } catch {
            partialChange = ran > 0
            if let error = error as? MySQLError, error.kind != .server {
                // The connection is unusable (timeout, closed): drop it so the next call reconnects.
                if closingOnFailure { close() } else { conn.close() }
            } else {
                _ = try? conn.execute("ROLLBACK")
            }
            throw error
        }
    }

    private func notInitialized() -> PluginError {
        PluginError(.connection, "connection has not been initialized")
    }

    /// Maps a client error to the engine's kinds, with every secret replaced by `[password]`.
    private func pluginError(_ error: Error, secrets extra: [String] = [], prefix: String = "") -> PluginError {
        var mapped = pluginErrorIgnoringOutcome(error, secrets: extra, prefix: prefix)
        if partialChange {
            mapped.outcome = .unknown
            partialChange = false
        }
        return mapped
    }

    private func pluginErrorIgnoringOutcome(_ error: Error, secrets extra: [String], prefix: String) -> PluginError {
        if let error = error as? PluginError {
            return PluginError(error.kind, (prefix + error.message).redacting(secrets + extra))
        }
        guard let error = error as? MySQLError else {
            return PluginError(.database, (prefix + ErrorText.of(error)).redacting(secrets + extra))
        }
        let kind: PluginError.Kind
        switch error.kind {
        case .connection, .protocolViolation: kind = .connection
        case .unsupported: kind = .unsupported
        case .configuration: kind = .invalidConfiguration
        case .server: kind = error.code == MySQLErrorCode.accessDenied ? .connection : .database
        }
        return PluginError(kind, (prefix + error.description).redacting(secrets + extra))
    }
}
