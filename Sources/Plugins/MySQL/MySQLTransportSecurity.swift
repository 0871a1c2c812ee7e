import DBPlugin
import TLS

/// TLS for a MySQL connection, as Vault's plugin and go-sql-driver decide it.
///
/// - `tls_ca` or `tls_certificate_key` (certificate and key in one PEM) define Vault's custom
///   configuration, which replaces any `tls=` in the DSN and makes TLS mandatory: the chain is
///   checked against `tls_ca` (the system store when only a client certificate is given) and the
///   certificate must name `tls_server_name`, else the host; `tls_skip_verify=true` checks nothing.
///   `tls_server_name` and `tls_skip_verify` alone change nothing, as in Vault.
/// - Otherwise the DSN's `tls=`: `true` (system store, host name), `skip-verify` (TLS, no checks),
///   `preferred` (TLS if the server offers it, no checks; clear text otherwise), `false`.
enum MySQLTransportSecurity {
    static func resolve(_ dsn: MySQLDSN, _ config: ConnectionConfig) throws -> MySQLConnection.TransportSecurity? {
        let host: String
        switch dsn.address {
        case .tcp(let name, _): host = name
        case .unix: host = "localhost"
        }
        let ca = config.string("tls_ca").flatMap { $0.isEmpty ? nil : $0 }
        let certificateKey = config.string("tls_certificate_key").flatMap { $0.isEmpty ? nil : $0 }
        if ca != nil || certificateKey != nil {
            let skipVerify = try config.bool("tls_skip_verify", default: false)
            let serverName = config.string("tls_server_name").flatMap { $0.isEmpty ? nil : $0 } ?? host
            let pem = certificateKey.map { Array($0.utf8) }
            return .init(required: true, tls: TLSConfiguration(
                verification: skipVerify ? .none : .chainAndHost,
                trustRoots: ca.map { .pem(Array($0.utf8)) } ?? .system,
                clientCertificate: pem, clientKey: pem, serverName: serverName))
        }
        _ = try config.bool("tls_skip_verify", default: false)
        switch dsn.tls {
        case .disabled:
            return nil
        case .verified:
            return .init(required: true, tls: TLSConfiguration(verification: .chainAndHost, serverName: host))
        case .skipVerify:
            return .init(required: true, tls: TLSConfiguration(verification: .none, serverName: host))
        case .preferred:
            return .init(required: false, tls: TLSConfiguration(verification: .none, serverName: host))
        case .named(let name):
            throw PluginError(.invalidConfiguration, "unable to parse connection_url: invalid value / unknown config name: \(name) "
                + "(a custom TLS configuration comes from tls_ca and tls_certificate_key)")
        }
    }
}
