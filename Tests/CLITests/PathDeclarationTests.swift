@testable import CLI
import DBPlugin
@testable import Engine
import Foundation
import TestSupport
import XCTest

/// One declaration per path: a field added to a path's declaration, and nothing else, is routed,
/// parsed by its type, warned about when misspelt, and shown by path-help, the man page and
/// completion. The path and its field here are made up; no other file knows them.
final class PathDeclarationTests: XCTestCase {
    static let gadgets = PathDeclaration(
        [.literal("gadgets"), .name(field: "name", of: .role, description: "Name of the gadget.")],
        synopsis: "Manage gadgets.",
        description: "A made-up path, declared only in this test.",
        fields: [FieldDeclaration("gadget_size", .int, default: 3, "How big the gadget is.")],
        operations: [
            .write: { _, request in
                EngineResponse(data: ["name": .string(request.name), "gadget_size": .int(request.fields.int("gadget_size") ?? 3)])
            },
        ])

    static let mounts = Engine.builtinMounts
        + [Mount(path: "workshop/", backend: Backend(name: "workshop", help: "Made-up paths.", paths: [gadgets]))]

    let folder = TemporaryFolder("dbsecrets-declaration")

    override func tearDown() { folder.remove() }

    private func run(_ arguments: String...) -> (code: Int32, out: String, err: String) {
        var out = "", err = ""
        let terminal = Terminal(environment: ["DBSECRETS_STATE_DIR": folder.url.appendingPathComponent("state").path],
                                stdoutIsTerminal: false, out: { out += $0 }, err: { err += $0 }, stdin: { Data() })
        let code = CommandLineTool.run(arguments, terminal: terminal, plugins: FakeDatabase().catalog(), mounts: Self.mounts)
        return (code, out, err)
    }

    func testAMadeUpFieldIsRouted() {
        let result = run("write", "-format=json", "workshop/gadgets/g1", "gadget_size=7")
        XCTAssertEqual(result.code, 0, result.err)
        XCTAssertTrue(result.out.contains("\"gadget_size\": 7,"), result.out)
        XCTAssertTrue(result.out.contains("\"name\": \"g1\""), result.out)
    }

    func testAMadeUpFieldIsValidatedByItsType() {
        let result = run("write", "workshop/gadgets/g1", "gadget_size=big")
        XCTAssertEqual(result.code, 2)
        XCTAssertEqual(result.err, "Error writing data to workshop/gadgets/g1: Field validation failed: error converting input big for field \"gadget_size\": expected an integer\n")
        XCTAssertEqual(run("write", "workshop/gadgets/bad!name", "gadget_size=1").code, 2, "names are checked by the pattern")
    }

    func testAMisspeltFieldIsWarnedAbout() {
        let result = run("write", "workshop/gadgets/g1", "gadget_sise=7")
        XCTAssertEqual(result.code, 0)
        XCTAssertTrue(result.err.contains("Endpoint ignored these unrecognized parameters: [gadget_sise]"), result.err)
        XCTAssertTrue(result.out.contains("gadget_size    3"), "the default applies: \(result.out)")
    }

    func testAMadeUpFieldIsInPathHelp() {
        let result = run("path-help", "workshop/gadgets/g1")
        XCTAssertEqual(result.code, 0, result.err)
        XCTAssertEqual(result.out, """
        Request:        gadgets/g1
        Matching Route: ^gadgets/(?P<name>\\w(([\\w-.]+)?\\w)?)$

        Manage gadgets.

        ## PARAMETERS

            gadget_size (int)

                How big the gadget is. Default: 3.

            name (string)

                Name of the gadget.

        ## DESCRIPTION

        A made-up path, declared only in this test.

        """)
        XCTAssertTrue(run("path-help", "workshop/").out.contains("    ^gadgets/(?P<name>\\w(([\\w-.]+)?\\w)?)$\n        Manage gadgets.\n"))
    }

    func testAMadeUpFieldIsInTheManPage() {
        let page = run("__manpage").out
        XCTAssertTrue(page.contains(".It Pa workshop/gadgets/NAME\n(write) A made-up path, declared only in this test.\n"), page)
        XCTAssertTrue(page.contains(".It Cm gadget_size Pq int\nHow big the gadget is.\nDefault: 3.\n"), page)
    }

    func testAMadeUpFieldIsCompleted() {
        XCTAssertEqual(run("__complete", "write", "work").out, "workshop/gadgets/\n")
        XCTAssertEqual(run("__complete", "write", "workshop/gadgets/g1", "gad").out, "gadget_size=\n")
        XCTAssertEqual(run("__complete", "path-help", "work").out, "workshop/\nworkshop/gadgets/\n")
    }

    // MARK: The real declarations

    /// What a create applies when a field is absent is what its declaration says.
    func testDeclaredDefaultsAreWhatACreateApplies() throws {
        let fixture = EngineFixture()
        try fixture.configureConnectionAndRole()
        try fixture.write("database/roles/minimal", ["db_name": "db"])
        fixture.database.addUser("app", password: "app-initial")
        try fixture.write("database/static-roles/minimal-static", ["db_name": "db", "username": "app", "rotation_period": "1h"])
        try fixture.write("database/config/minimal", ["plugin_name": "fake-database-plugin", "connection_url": "fake://x",
                                                      "username": "admin", "password": "root-secret"])
        let reads: [(String, PathDeclaration, [String: String])] = [
            ("database/roles/minimal", Engine.rolePath, [:]),
            ("database/static-roles/minimal-static", Engine.staticRolePath, [:]),
            ("database/config/minimal", Engine.connectionPath, ["root_rotation_statements": "root_credentials_rotate_statements"]),
        ]
        var checked = 0
        for (path, declaration, readKey) in reads {
            let data = try XCTUnwrap(try fixture.read(path)?.data, path)
            for field in declaration.dataFields {
                guard let value = field.defaultValue else { continue }
                checked += 1
                XCTAssertEqual(data[readKey[field.name] ?? field.name], value, "\(path) \(field.name)")
            }
        }
        XCTAssertGreaterThan(checked, 10)
    }

    /// A field declared secret is one the engine keeps out of reads and error texts.
    func testSecretFieldsAreTheOnesTheEngineHides() {
        let secret = Set(DeclaredPath.all(Engine.builtinMounts).flatMap(\.declaration.fields).filter(\.isSecret).map(\.name))
        XCTAssertEqual(secret, ["password", "self_managed_password"], "a connection's root password and a static role's imported or self-managed one")
        let connectionSecrets = Engine.connectionPath.dataFields.filter(\.isSecret).map(\.name)
        XCTAssertEqual(connectionSecrets, ["password"])
        XCTAssertTrue(Set(connectionSecrets).isSubset(of: DatabaseConfigSecrets.keys))
    }

    /// Every path of the man page has a declaration, and every declaration answers path-help.
    func testEveryDeclaredPathAnswersPathHelp() {
        for path in DeclaredPath.all(Engine.builtinMounts) {
            let example = path.documented.replacingOccurrences(of: "[/ID]", with: "/database/creds/ro/x")
                .replacingOccurrences(of: "[/PREFIX]", with: "/database/creds").replacingOccurrences(of: "NAME", with: "x")
            let result = run("path-help", example)
            XCTAssertEqual(result.code, 0, "\(example): \(result.err)")
            XCTAssertTrue(result.out.contains("Matching Route: \(path.declaration.routePattern)\n"), "\(example): \(result.out)")
        }
    }
}
