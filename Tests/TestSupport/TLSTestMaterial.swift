import DBPlugin
import Foundation
import XCTest

/// The throwaway CA, server and client certificates that `Tests/servers/make-certs` made for this
/// run (`DBSECRETS_TEST_TLS_*`), as file paths and as PEM text. The server certificate is valid
/// for IP 127.0.0.1 only, so "localhost" is a wrong name; `otherCA` signed nothing in use.
public struct TLSTestMaterial: Sendable {
    public var caFile: String
    public var otherCAFile: String
    public var clientCertificateFile: String
    public var clientKeyFile: String
    public var encryptedClientKeyFile: String
    public var clientKeyPassword: String
    /// Client certificate and key in one PEM, as MySQL's `tls_certificate_key` takes them.
    public var combinedFile: String
    /// The user the client certificate names (its CN).
    public static let certificateUser = "dbsecrets_cert_user"

    public static func fromEnvironment() throws -> TLSTestMaterial {
        let env = ProcessInfo.processInfo.environment
        guard let ca = env["DBSECRETS_TEST_TLS_CA"], let other = env["DBSECRETS_TEST_TLS_OTHER_CA"],
              let cert = env["DBSECRETS_TEST_TLS_CLIENT_CERT"], let key = env["DBSECRETS_TEST_TLS_CLIENT_KEY"],
              let encrypted = env["DBSECRETS_TEST_TLS_CLIENT_KEY_ENCRYPTED"],
              let password = env["DBSECRETS_TEST_TLS_CLIENT_KEY_PASSWORD"],
              let combined = env["DBSECRETS_TEST_TLS_CLIENT_COMBINED"] else {
            throw TestRequirement.missing("DBSECRETS_TEST_TLS_* are not set: run Tests/servers/make-certs DIR and source DIR/tls.env")
        }
        return TLSTestMaterial(caFile: ca, otherCAFile: other, clientCertificateFile: cert, clientKeyFile: key,
                               encryptedClientKeyFile: encrypted, clientKeyPassword: password, combinedFile: combined)
    }

    public var ca: String { Self.text(caFile) }
    public var otherCA: String { Self.text(otherCAFile) }
    public var clientCertificate: String { Self.text(clientCertificateFile) }
    public var clientKey: String { Self.text(clientKeyFile) }
    public var combined: String { Self.text(combinedFile) }

    private static func text(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}

/// One of the TLS-only servers (`start-mariadb-tls`, `start-redis-tls`), read from its variables
/// `PREFIX_HOST`, `PREFIX_PORT`, and the admin's user and password.
public struct TLSTestServer: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var environment: [String: String]

    public static func fromEnvironment(_ prefix: String, user: String = "ADMIN_USER",
                                       password: String = "ADMIN_PASSWORD") throws -> TLSTestServer {
        let env = ProcessInfo.processInfo.environment
        guard let host = env[prefix + "_HOST"], let port = env[prefix + "_PORT"].flatMap(Int.init),
              let name = env[prefix + "_" + user], let secret = env[prefix + "_" + password] else {
            throw TestRequirement.missing("\(prefix)_* are not set: run scripts/with-test-servers")
        }
        try TestRequirement.reachable(prefix, host: host, port: port)
        return TLSTestServer(host: host, port: port, user: name, password: secret, environment: env)
    }
}
