import Foundation
import XCTest

/// `make install PREFIX=…` puts the binary, the man page and the three completion scripts where
/// each consumer looks, and `make uninstall PREFIX=…` removes exactly those files. The built
/// debug binary stands in for the release build (BINARY=…), which would take minutes.
final class InstallTests: XCTestCase {
    static let installed = [
        "bin/dbsecrets",
        "share/man/man1/dbsecrets.1",
        "share/bash-completion/completions/dbsecrets",
        "share/zsh/site-functions/_dbsecrets",
        "share/fish/vendor_completions.d/dbsecrets.fish",
        "libexec/dbsecrets/dbsecrets-elasticache-plugin",
    ]

    func files(under root: URL) -> [String] {
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        var found: [String] = []
        while let url = enumerator?.nextObject() as? URL {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                found.append(String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1)))
            }
        }
        return found.sorted()
    }

    func testInstallThenUninstall() throws {
        try CompletionHarness.require("/usr/bin/make", "make")
        let prefix = try CompletionHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: prefix) }
        // Something already in the prefix must survive uninstall.
        try FileManager.default.createDirectory(at: prefix.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try Data("#!/bin/sh\n".utf8).write(to: prefix.appendingPathComponent("bin/other-tool"))
        let binary = try CompletionHarness.binary()
        let env = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": prefix.path]

        let install = try CompletionHarness.run("/usr/bin/make", ["-s", "install", "PREFIX=\(prefix.path)", "BINARY=\(binary.path)"],
                                                environment: env, in: CompletionHarness.packageRoot, timeout: 60)
        XCTAssertEqual(install.status, 0, install.err)
        XCTAssertEqual(files(under: prefix), (Self.installed + ["bin/other-tool"]).sorted())

        let root = CompletionHarness.packageRoot
        XCTAssertEqual(try Data(contentsOf: prefix.appendingPathComponent("bin/dbsecrets")), try Data(contentsOf: binary))
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: prefix.appendingPathComponent("bin/dbsecrets").path))
        for (installed, source) in [("share/man/man1/dbsecrets.1", "man/dbsecrets.1"),
                                    ("share/bash-completion/completions/dbsecrets", "completions/dbsecrets.bash"),
                                    ("share/zsh/site-functions/_dbsecrets", "completions/_dbsecrets"),
                                    ("share/fish/vendor_completions.d/dbsecrets.fish", "completions/dbsecrets.fish")] {
            XCTAssertEqual(try Data(contentsOf: prefix.appendingPathComponent(installed)), try Data(contentsOf: root.appendingPathComponent(source)), installed)
        }
        let version = try CompletionHarness.run(prefix.appendingPathComponent("bin/dbsecrets").path, ["version"], environment: env)
        XCTAssertTrue(version.out.hasPrefix("dbsecrets v"))
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/man") {
            let man = try CompletionHarness.run("/usr/bin/man", ["-M", prefix.appendingPathComponent("share/man").path, "-P", "cat", "dbsecrets"],
                                                environment: env.merging(["MANWIDTH": "80"]) { $1 })
            XCTAssertTrue(man.out.contains("EXIT STATUS"), "man -M PREFIX/share/man dbsecrets: \(man.err)")
        }

        let uninstall = try CompletionHarness.run("/usr/bin/make", ["-s", "uninstall", "PREFIX=\(prefix.path)"],
                                                  environment: env, in: root, timeout: 60)
        XCTAssertEqual(uninstall.status, 0, uninstall.err)
        XCTAssertEqual(files(under: prefix), ["bin/other-tool"])
    }

    /// bash-completion loads the installed script on demand, by command name.
    func testBashCompletionFindsTheInstalledScript() throws {
        try CompletionHarness.require("/usr/share/bash-completion/bash_completion", "bash-completion")
        let prefix = try CompletionHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: prefix) }
        let binary = try CompletionHarness.binary()
        let env = ["PATH": "\(prefix.path)/bin:/usr/bin:/bin", "HOME": prefix.path, "XDG_DATA_DIRS": "\(prefix.path)/share",
                   "DBSECRETS_STATE_DIR": prefix.appendingPathComponent("state").path]
        let install = try CompletionHarness.run("/usr/bin/make", ["-s", "install", "PREFIX=\(prefix.path)", "BINARY=\(binary.path)"],
                                                environment: env, in: CompletionHarness.packageRoot, timeout: 60)
        XCTAssertEqual(install.status, 0, install.err)
        let program = """
        source /usr/share/bash-completion/bash_completion
        _completion_loader dbsecrets
        COMP_WORDS=(dbsecrets lease ''); COMP_CWORD=2; COMP_LINE='dbsecrets lease '; COMP_POINT=${#COMP_LINE}
        $(complete -p dbsecrets | sed 's/.*-F \\([^ ]*\\) .*/\\1/') dbsecrets '' lease
        printf '%s\\n' "${COMPREPLY[@]}"
        """
        let result = try CompletionHarness.run("/bin/bash", ["--norc", "--noprofile", "-c", program], environment: env)
        XCTAssertEqual(CompletionHarness.lines(result.out), ["list", "lookup", "renew", "revoke"], result.err)
    }
}
