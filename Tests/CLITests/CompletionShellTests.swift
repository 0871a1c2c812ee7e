import Foundation
import XCTest

/// The committed completion scripts in real shells: bash (with bash-completion, and without),
/// zsh (through its completion system in a pseudo-terminal) and fish, asked for typical partial
/// lines over a populated state directory. One shell process answers all the lines.
final class CompletionShellTests: XCTestCase {
    var root: URL!
    var state: URL!
    var environment: [String: String] = [:]

    override func setUpWithError() throws {
        root = try CompletionHarness.temporaryFolder()
        state = try CompletionHarness.populatedStateDirectory(root)
        environment = try CompletionHarness.environment(stateDir: state, home: root)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    func script(_ name: String) -> String {
        CompletionHarness.packageRoot.appendingPathComponent("completions/\(name)").path
    }

    /// Lines and what every shell must offer for them (as full words).
    var cases: [(line: String, expected: [String])] {
        [
            ("dbsecrets rea", ["read"]),
            ("dbsecrets lease ", ["list", "lookup", "renew", "revoke"]),
            ("dbsecrets write -fo", ["-force", "-format="]),
            ("dbsecrets read -format=", ["-format=json", "-format=raw", "-format=table", "-format=yaml"]),
            ("dbsecrets list -format=y", ["-format=yaml"]),
            ("dbsecrets read database/ro", ["database/roles/"]),
            ("dbsecrets read database/roles/", ["database/roles/readonly", "database/roles/readwrite"]),
            ("dbsecrets static-creds ", ["app"]),
            ("dbsecrets write database/roles/new db_name=", ["db_name=pg"]),
            ("dbsecrets roles write new max", ["max_ttl="]),
            ("dbsecrets config read ", ["pg"]),
            ("dbsecrets read sys/policies/password/", ["sys/policies/password/strong"]),
            ("dbsecrets lease revoke database/creds/readonly/", Array(CompletionHarness.leaseIDs.prefix(2))),
            ("dbsecrets roles read -state-dir \(root.path)/elsewhere ", ["other"]),
        ]
    }

    func writeOtherStateDirectory() throws {
        let result = try CompletionHarness.run(try CompletionHarness.binary().path,
                                               ["write", "-state-dir", root.appendingPathComponent("elsewhere").path, "database/roles/other", "db_name=x"],
                                               environment: environment)
        XCTAssertEqual(result.status, 0, result.err)
    }

    /// Splits shell output at `@@ LINE` markers into the candidates of each line.
    func answers(_ output: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        var current: String?
        for line in output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("@@ ") {
                current = String(line.dropFirst(3))
                result[current!] = []
            } else if let current, !line.isEmpty {
                result[current]!.append(String(line.prefix { $0 != "\t" }))
            }
        }
        return result
    }

    func check(_ output: String, shell: String, asTyped: (String, String) -> String = { _, word in word }) {
        let got = answers(output)
        for (line, expected) in cases {
            let typed = line.split(separator: " ", omittingEmptySubsequences: false).last.map(String.init) ?? ""
            XCTAssertEqual(got[line]?.sorted(), expected.map { asTyped(typed, $0) }.sorted(), "\(shell): \(line)")
        }
    }

    func singleQuoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// COMP_WORDS as readline splits them: at blanks, and `=` and `:` as words of their own.
    func bashWords(_ line: String) -> [String] {
        var words: [String] = []
        for word in line.split(separator: " ", omittingEmptySubsequences: true) {
            var piece = ""
            for c in word {
                if c == "=" || c == ":" {
                    if !piece.isEmpty { words.append(piece) }
                    words.append(String(c))
                    piece = ""
                } else {
                    piece.append(c)
                }
            }
            if !piece.isEmpty { words.append(piece) }
        }
        if line.hasSuffix(" ") { words.append("") }
        return words
    }

    func bashProgram(withBashCompletion: Bool) -> String {
        var program = withBashCompletion ? "source /usr/share/bash-completion/bash_completion\n" : ""
        program += "source \(singleQuoted(script("dbsecrets.bash")))\n"
        program += "complete -p dbsecrets >/dev/null || exit 3\n"
        for (line, _) in cases {
            let words = bashWords(line)
            program += """
            COMP_LINE=\(singleQuoted(line)); COMP_POINT=${#COMP_LINE}
            COMP_WORDS=(\(words.map(singleQuoted).joined(separator: " "))); COMP_CWORD=\(words.count - 1)
            COMPREPLY=(); _dbsecrets dbsecrets \(singleQuoted(words.last!)) \(singleQuoted(words[words.count - 2]))
            echo \(singleQuoted("@@ " + line)); printf '%s\\n' "${COMPREPLY[@]}"

            """
        }
        return program
    }

    /// Readline replaces only the text after the last `=` of the word, so that is what bash's
    /// candidates hold.
    static func afterWordBreak(_ typed: String, _ candidate: String) -> String {
        guard let eq = typed.lastIndex(of: "=") else { return candidate }
        return String(candidate.dropFirst(typed.distance(from: typed.startIndex, to: eq) + 1))
    }

    func testBashWithBashCompletion() throws {
        try CompletionHarness.require("/usr/share/bash-completion/bash_completion", "bash-completion")
        try writeOtherStateDirectory()
        let result = try CompletionHarness.run("/bin/bash", ["--norc", "--noprofile", "-c", bashProgram(withBashCompletion: true)], environment: environment)
        XCTAssertEqual(result.status, 0, result.err)
        check(result.out, shell: "bash", asTyped: Self.afterWordBreak)
    }

    func testBashWithoutBashCompletion() throws {
        try writeOtherStateDirectory()
        let result = try CompletionHarness.run("/bin/bash", ["--norc", "--noprofile", "-c", bashProgram(withBashCompletion: false)], environment: environment)
        XCTAssertEqual(result.status, 0, result.err)
        check(result.out, shell: "bash without bash-completion", asTyped: Self.afterWordBreak)
    }

    /// A path prefix is continued without a space; a finished word gets one.
    func testBashAddsNoSpaceAfterAPathPrefixOrEquals() throws {
        try CompletionHarness.require("/usr/share/bash-completion/bash_completion", "bash-completion")
        let program = """
        source /usr/share/bash-completion/bash_completion
        source \(singleQuoted(script("dbsecrets.bash")))
        compopt() { echo "compopt $*"; }
        for line in 'dbsecrets read database/ro' 'dbsecrets list -form' 'dbsecrets rea'; do
            read -r -a COMP_WORDS <<<"$line"; COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE=$line; COMP_POINT=${#line}
            echo "@@ $line"; _dbsecrets
        done
        """
        let result = try CompletionHarness.run("/bin/bash", ["--norc", "--noprofile", "-c", program], environment: environment)
        let got = answers(result.out)
        XCTAssertEqual(got["dbsecrets read database/ro"], ["compopt -o nospace"])
        XCTAssertEqual(got["dbsecrets list -form"], ["compopt -o nospace"])
        XCTAssertEqual(got["dbsecrets rea"], [])
    }

    func testFish() throws {
        try CompletionHarness.require("/usr/bin/fish", "fish")
        try writeOtherStateDirectory()
        var program = "source \(singleQuoted(script("dbsecrets.fish")))\n"
        for (line, _) in cases {
            program += "echo \(singleQuoted("@@ " + line)); complete -C \(singleQuoted(line))\n"
        }
        let result = try CompletionHarness.run("/usr/bin/fish", ["--no-config", "-c", program], environment: environment)
        XCTAssertEqual(result.status, 0, result.err)
        check(result.out, shell: "fish")
    }

    /// zsh completes only inside its line editor: an interactive zsh runs in a pseudo-terminal
    /// (zpty) with compinit and the script on $fpath, each line is typed with a TAB, and
    /// `compadd` is wrapped to record the matches zsh accepted for the word.
    func testZsh() throws {
        try CompletionHarness.require("/usr/bin/zsh", "zsh")
        try writeOtherStateDirectory()
        let functions = root.appendingPathComponent("zfunc")
        try FileManager.default.createDirectory(at: functions, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: script("_dbsecrets"), toPath: functions.appendingPathComponent("_dbsecrets").path)
        let log = root.appendingPathComponent("zsh-matches").path
        var keys = ""
        for (line, _) in cases {
            // ^X^A marks the line in the log, TAB completes, ^X^B ends the line's matches and
            // clears it. (No ^U: keys typed before zle starts go through the terminal's line
            // discipline, which would erase the line.)
            keys += "\u{18}\u{01}" + line + "\t\u{18}\u{02}"
        }
        let driver = """
        zmodload zsh/zpty
        zpty z zsh -f -i
        zpty -w z "PS1=''; fpath=(\(functions.path) \\$fpath); autoload -U compinit; compinit -u -D"
        zpty -w z "zstyle ':completion:*' menu no; unsetopt beep"
        zpty -w z "compadd() { builtin compadd -O __hits \\"\\$@\\"; print -l -- \\$__hits >> \(log); builtin compadd \\"\\$@\\" }"
        zpty -w z "__mark() { print -- \\"@@ \\$BUFFER\\" >> \(log) }; zle -N __mark; bindkey '^X^A' __mark"
        zpty -w z "__end() { print -- __END__ >> \(log); BUFFER= }; zle -N __end; bindkey '^X^B' __end"
        zpty -wn z \(singleQuoted(keys))
        for i in {1..200}; do
            [[ $(grep -c __END__ \(log) 2>/dev/null) -ge \(cases.count) ]] && break
            sleep 0.05
        done
        zpty -d z
        """
        let result = try CompletionHarness.run("/usr/bin/zsh", ["-f", "-c", driver], environment: environment, timeout: 30)
        XCTAssertEqual(result.status, 0, result.err)
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        // The mark is printed before the line is typed; the line follows as zle's buffer when TAB is pressed.
        var fixed = ""
        var lineIndex = 0
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("@@") {
                fixed += "@@ " + (lineIndex < cases.count ? cases[lineIndex].line : "?") + "\n"
                lineIndex += 1
            } else if line != "__END__" {
                fixed += line + "\n"
            }
        }
        check(fixed, shell: "zsh")
    }
}
