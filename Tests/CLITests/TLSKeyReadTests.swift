import Foundation
import TestSupport
import XCTest

/// Client private keys given to a connection (`private_key`; MySQL's `tls_certificate_key`, a
/// certificate and key in one PEM) are stored for later connections but never read back.
final class TLSKeyReadTests: XCTestCase {
    func testAConnectionReadShowsNoClientPrivateKey() throws {
        let tool = try FaultBinary("dbsecrets-tls-key")
        defer { tool.remove() }
        let tls = try TLSTestMaterial.fromEnvironment()
        let mysql = try tool.run("write", "database/config/m", "plugin_name=mysql-database-plugin",
                                 "connection_url={{username}}:{{password}}@tcp(127.0.0.1:1)/", "username=u", "password=pw-123456",
                                 "tls_certificate_key=@\(tls.combinedFile)", "verify_connection=false")
        XCTAssertEqual(mysql.status, 0, mysql.stderr)
        let postgres = try tool.run("write", "database/config/p", "plugin_name=postgresql-database-plugin",
                                    "connection_url=postgresql://{{username}}:{{password}}@127.0.0.1:1/db", "username=u",
                                    "password=pw-123456", "tls_certificate=@\(tls.clientCertificateFile)",
                                    "private_key=@\(tls.clientKeyFile)", "verify_connection=false")
        XCTAssertEqual(postgres.status, 0, postgres.stderr)
        for name in ["m", "p"] {
            let read = try tool.run("read", "-format=json", "database/config/\(name)")
            XCTAssertEqual(read.status, 0, read.stderr)
            XCTAssertFalse(read.stdout.contains("PRIVATE KEY"), read.stdout)
        }
    }
}
