import Foundation
import TestSupport
import XCTest

/// Every sample request of the two seed API documents (Vault's database engine API and the
/// ElastiCache plugin's), run with curl as written but for the host, port and token, against
/// `dbsecrets server` and the real MariaDB, PostgreSQL, Redis and ElastiCache endpoint; the
/// status and the body's shape as documented.
final class SeedDocumentTests: XCTestCase {
    /// One `curl` sample: its flags as written, the payload it posts, the response shown.
    struct Sample {
        var method: String
        var path: String
        var arguments: [String]
        var payload: [String: Any]?
        var response: [String: Any]?
    }

    static let referenceFolder = URL(fileURLWithPath: "/work/shared/reference")

    /// The samples of a document in order: a payload goes with the next curl that posts one, a
    /// sample response with the curl before it.
    static func samples(in document: String) throws -> [Sample] {
        let text = try String(contentsOf: referenceFolder.appendingPathComponent(document), encoding: .utf8)
        let blocks = try NSRegularExpression(pattern: #"(?i)(?:(sample (payload|response))[^`]{0,120})?```(json|shell-session)\s*(.*?)```"#,
                                             options: [.dotMatchesLineSeparators])
        var samples: [Sample] = []
        var payload: [String: Any]?
        for match in blocks.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let kind = Range(match.range(at: 2), in: text).map { text[$0].lowercased() }
            let body = String(text[Range(match.range(at: 4), in: text)!])
            if text[Range(match.range(at: 3), in: text)!] == "json" {
                let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
                if kind == "payload" { payload = object }
                if kind == "response", !samples.isEmpty { samples[samples.count - 1].response = object }
                continue
            }
            guard body.hasPrefix("$ curl") else { continue }
            var arguments: [String] = []
            let flag = try NSRegularExpression(pattern: #"--(header|request|data) ("[^"]*"|\S+)"#)
            for part in flag.matches(in: body, range: NSRange(body.startIndex..., in: body)) {
                arguments.append("--" + Self.text(body, part, 1))
                arguments.append(Self.text(body, part, 2).trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
            }
            guard let url = body.range(of: #"http://127\.0\.0\.1:8200/v1/\S+"#, options: .regularExpression) else { continue }
            arguments.append(String(body[url]))
            let method = arguments.firstIndex(of: "--request").map { arguments[$0 + 1] } ?? "GET"
            let posts = arguments.contains("@payload.json")
            samples.append(Sample(method: method, path: String(body[url].dropFirst("http://127.0.0.1:8200/v1/".count)),
                                  arguments: arguments, payload: posts ? payload : nil))
            if posts { payload = nil }
        }
        return samples
    }

    private static func text(_ string: String, _ match: NSTextCheckingResult, _ group: Int) -> String {
        String(string[Range(match.range(at: group), in: string)!])
    }

    var server: ServerProcess!
    var ran: [String] = []

    /// Runs one sample, with `payload` (the document's, adapted) as payload.json.
    @discardableResult
    func run(_ sample: Sample, payload: [String: Any]? = nil, expect status: Int, file: StaticString = #filePath,
             line: UInt = #line) throws -> ServerProcess.Answer {
        if let payload = payload ?? sample.payload {
            try JSONSerialization.data(withJSONObject: payload).write(to: server.folder.url.appendingPathComponent("payload.json"))
        }
        let answer = try server.curl(sample.arguments)
        XCTAssertEqual(answer.status, status, "\(sample.method) \(sample.path): \(answer.body)", file: file, line: line)
        if let documented = sample.response, status == 200 {
            assertShape(documented, answer.json ?? [:], at: "\(sample.method) \(sample.path)", file: file, line: line)
        }
        ran.append("\(sample.method) \(sample.path)")
        return answer
    }

    /// Every key the document shows is there, with the same kind of value (a list stays a list,
    /// an object an object); values differ, as they would against any Vault.
    func assertShape(_ documented: [String: Any], _ actual: [String: Any], at place: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        for (key, value) in documented {
            guard let got = actual[key] else {
                XCTFail("\(place): no \(key) in \(actual)", file: file, line: line)
                continue
            }
            switch value {
            case let object as [String: Any]:
                guard let gotObject = got as? [String: Any] else { XCTFail("\(place): \(key) is not an object", file: file, line: line); continue }
                assertShape(object, gotObject, at: place + "." + key, file: file, line: line)
            case is [Any]:
                XCTAssertTrue(got is [Any], "\(place): \(key) is not a list: \(got)", file: file, line: line)
            default:
                break
            }
        }
    }

    func sample(_ samples: [Sample], _ method: String, _ path: String) throws -> Sample {
        try XCTUnwrap(samples.first { $0.method == method && $0.path == path }, "no sample \(method) \(path)")
    }

    func testEverySampleRequestOfTheSeedDocuments() throws {
        let mariadb = try MariaDBTestServer.fromEnvironment()
        let postgres = try PostgresTestServer.fromEnvironment()
        let redis = try RedisTestServer.fromEnvironment()
        let elastiCache = try ElastiCacheTestServer.fromEnvironment()
        let samples = try Self.samples(in: "seed-database-secrets-engine-api.txt")
        let elastiCacheSamples = try Self.samples(in: "seed-redis-elasticache-plugin-api.md")
        XCTAssertEqual(samples.count, 17, samples.map(\.path).description)
        XCTAssertEqual(elastiCacheSamples.count, 1)

        server = try ServerProcess("dbsecrets-seed", environment: [
            "AWS_ENDPOINT_URL_ELASTICACHE": elastiCache.endpoint, "AWS_REGION": elastiCache.region,
        ])
        // The documents' root user, vaultuser/secretpassword, in each database (rotate-root changes it).
        try mariadb.admin("DROP USER IF EXISTS 'vaultuser'@'%'; CREATE USER 'vaultuser'@'%' IDENTIFIED BY 'secretpassword'; "
                          + "GRANT ALL PRIVILEGES ON *.* TO 'vaultuser'@'%' WITH GRANT OPTION;")
        defer { _ = try? mariadb.admin("DROP USER IF EXISTS 'vaultuser'@'%'") }
        _ = try postgres.psql(user: postgres.user, password: postgres.password,
                              "DROP ROLE IF EXISTS vaultuser; CREATE ROLE vaultuser LOGIN SUPERUSER PASSWORD 'secretpassword'; "
                              + "DROP ROLE IF EXISTS \"static-database-user\"; CREATE ROLE \"static-database-user\" LOGIN PASSWORD 'initial';")
        defer {
            _ = try? postgres.psql(user: postgres.user, password: postgres.password,
                                   "DROP ROLE IF EXISTS \"static-database-user\"; DROP ROLE IF EXISTS vaultuser;")
        }
        _ = try redis.redisCLI(username: redis.adminUsername, password: redis.adminPassword,
                               ["ACL", "SETUSER", "vaultuser", "on", "resetpass", ">secretpassword", "~*", "&*", "+@all"])
        _ = try redis.redisCLI(username: redis.adminUsername, password: redis.adminPassword,
                               ["ACL", "SETUSER", "static-database-user", "on", ">initial", "~*", "+@read", "+ping"])
        defer {
            _ = try? redis.redisCLI(username: redis.adminUsername, password: redis.adminPassword, ["ACL", "DELUSER", "vaultuser", "static-database-user"])
        }

        // MariaDB, as the document writes it: config/mysql, roles, creds.
        let configure = try sample(samples, "POST", "database/config/mysql")
        var payload = try XCTUnwrap(configure.payload)
        payload["connection_url"] = "{{username}}:{{password}}@tcp(\(mariadb.host):\(mariadb.port))/"
        try run(configure, payload: payload, expect: 204)
        try runConnectionSamples(samples)
        try run(try sample(samples, "POST", "database/roles/my-role"), expect: 204)
        try run(try sample(samples, "GET", "database/roles/my-role"), expect: 200)
        try run(try sample(samples, "LIST", "database/roles"), expect: 200)
        // As written, the documents' connection allows "readonly", not "my-role": Vault's 500.
        let denied = try server.call("GET", "database/creds/my-role")
        XCTAssertEqual(denied.status, 500)
        XCTAssertEqual(denied.json?["errors"] as? [String], ["1 error occurred:\n\t* \"my-role\" is not an allowed role\n\n"])
        XCTAssertEqual(try server.call("POST", "database/config/mysql", json: "{\"allowed_roles\": \"readonly,my-role\"}").status, 204)
        let creds = try run(try sample(samples, "GET", "database/creds/my-role"), expect: 200)
        let user = try XCTUnwrap(creds.data?["username"] as? String), password = try XCTUnwrap(creds.data?["password"] as? String)
        XCTAssertEqual(try mariadb.client(user: user, password: password, "SELECT 1").output, "1\n", "the credentials log in")
        XCTAssertEqual(try server.call("PUT", "sys/leases/revoke-prefix/database/creds/my-role").status, 204)
        XCTAssertFalse(try mariadb.client(user: user, password: password, "SELECT 1").succeeded, "revoked")
        try run(try sample(samples, "DELETE", "database/roles/my-role"), expect: 204)
        try run(try sample(samples, "DELETE", "database/config/mysql"), expect: 204)

        // The static-role samples rotate with PostgreSQL's ALTER USER … WITH PASSWORD: on PostgreSQL,
        // whose connection takes the name the samples use, and then on Redis (whose plugin sets ACL
        // passwords itself) the same way.
        let postgresURL = "postgresql://{{username}}:{{password}}@\(postgres.host):\(postgres.port)/\(postgres.database)?sslmode=disable"
        XCTAssertEqual(try server.call("POST", "database/config/mysql", json: """
            {"plugin_name": "postgresql-database-plugin", "connection_url": "\(postgresURL)", "username": "vaultuser",
             "password": "secretpassword", "allowed_roles": "*"}
            """).status, 204)
        try runConnectionSamples(samples)
        try runStaticRoleSamples(samples) { user, password in
            try postgres.psql(user: user, password: password, "SELECT 1").output == "1"
        }
        XCTAssertEqual(try server.call("POST", "database/config/mysql", json: """
            {"plugin_name": "redis-database-plugin", "host": "\(redis.host)", "port": \(redis.port), "username": "vaultuser",
             "password": "secretpassword", "allowed_roles": "*"}
            """).status, 204)
        try runConnectionSamples(samples)
        try runStaticRoleSamples(samples) { user, password in
            try redis.redisCLI(username: user, password: password, ["PING"]) == "PONG"
        }
        try run(try sample(samples, "DELETE", "database/config/mysql"), expect: 204)

        // ElastiCache: the plugin's configure sample, with the endpoint's key pair and region.
        let elastiCacheConfigure = elastiCacheSamples[0]
        var elastiCachePayload = try XCTUnwrap(elastiCacheConfigure.payload)
        elastiCachePayload["access_key_id"] = elastiCache.accessKeyID
        elastiCachePayload["secret_access_key"] = elastiCache.secretAccessKey
        elastiCachePayload["region"] = elastiCache.region
        try run(elastiCacheConfigure, payload: elastiCachePayload, expect: 204)
        let read = try server.call("GET", "database/config/my-redis-cluster")
        XCTAssertEqual(read.status, 200)
        let details = try XCTUnwrap(read.data?["connection_details"] as? [String: Any])
        XCTAssertEqual(details["url"] as? String, elastiCachePayload["url"] as? String)
        XCTAssertNil(details["secret_access_key"], "the secret key is never read back")
        XCTAssertFalse(read.body.contains(elastiCache.secretAccessKey))
        // The sample's "allowed-roles" (sic) is a plugin parameter, as in Vault; allowing roles takes allowed_roles.
        XCTAssertEqual(try server.call("POST", "database/config/my-redis-cluster", json: "{\"allowed_roles\": \"*\"}").status, 204)
        let userID = ElastiCacheTestServer.uniqueUserID()
        try elastiCache.createUser(userID, password: "initial-password-123456")
        XCTAssertEqual(try server.call("POST", "database/static-roles/ec", json: "{\"db_name\": \"my-redis-cluster\", \"username\": \"\(userID)\", \"rotation_period\": \"1h\"}").status, 204)
        let ecCreds = try server.call("GET", "database/static-creds/ec")
        XCTAssertTrue(try elastiCache.redisLogin(userID, try XCTUnwrap(ecCreds.data?["password"] as? String)))
        XCTAssertFalse(server.log.contains(elastiCache.secretAccessKey), "the access log holds no secret")

        let expected = Set((samples + elastiCacheSamples).map { "\($0.method) \($0.path)" })
        XCTAssertEqual(Set(ran), expected, "every sample ran")
        XCTAssertEqual(server.stop(), 0)
    }

    /// Read, list, reset, rotate-root: the samples that work on any connection named mysql.
    func runConnectionSamples(_ samples: [Sample]) throws {
        try run(try sample(samples, "GET", "database/config/mysql"), expect: 200)
        try run(try sample(samples, "LIST", "database/config"), expect: 200)
        try run(try sample(samples, "POST", "database/reset/mysql"), expect: 204)
        try run(try sample(samples, "POST", "database/rotate-root/mysql"), expect: 204)
    }

    func runStaticRoleSamples(_ samples: [Sample], logsIn: (String, String) throws -> Bool) throws {
        try run(try sample(samples, "POST", "database/static-roles/my-static-role"), expect: 204)
        try run(try sample(samples, "GET", "database/static-roles/my-static-role"), expect: 200)
        try run(try sample(samples, "LIST", "database/static-roles"), expect: 200)
        let first = try run(try sample(samples, "GET", "database/static-creds/my-static-role"), expect: 200)
        let password = try XCTUnwrap(first.data?["password"] as? String)
        XCTAssertTrue(try logsIn("static-database-user", password))
        try run(try sample(samples, "POST", "database/rotate-role/my-static-role"), expect: 204)
        let second = try XCTUnwrap(try server.call("GET", "database/static-creds/my-static-role").data?["password"] as? String)
        XCTAssertNotEqual(second, password)
        XCTAssertTrue(try logsIn("static-database-user", second))
        XCTAssertFalse(try logsIn("static-database-user", password), "the old password no longer logs in")
        try run(try sample(samples, "DELETE", "database/static-roles/my-role"), expect: 204)
        XCTAssertEqual(try server.call("DELETE", "database/static-roles/my-static-role").status, 204)
    }
}
