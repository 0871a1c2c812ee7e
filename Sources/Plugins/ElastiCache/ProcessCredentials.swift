import DBPlugin
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Credentials printed by a profile's `credential_process`, run without a shell: the command line
/// is split into words as a POSIX shell would (quotes and backslashes, no expansion), as botocore
/// does, and the program is looked up in PATH. Its standard output must be the JSON document of
/// the AWS specification (`Version` 1, `AccessKeyId`, `SecretAccessKey`, optional `SessionToken`
/// and `Expiration`); its standard error goes to ours, as in the Go SDK, and it reads nothing
/// (its standard input is /dev/null: ours is the plugin protocol).
final class ProcessCredentialProvider: AWSCredentialProvider {
    /// The Go SDK's default.
    static let timeout: TimeInterval = 60
    static let maximumOutputBytes = 64 * 1024

    let source: String
    let command: String
    let environment: [String: String]
    let timeout: TimeInterval

    init(command: String, environment: [String: String], source: String, timeout: TimeInterval = ProcessCredentialProvider.timeout) {
        self.command = command
        self.environment = environment
        self.source = source
        self.timeout = timeout
    }

    func retrieve() throws -> AWSCredentials {
        let words: [String]
        do {
            words = try ShellWords.split(command)
        } catch let error as ShellWords.SyntaxError {
            throw AWSCredentialChain.failure(source, "cannot read the command line: \(error.reason)", .invalidConfiguration)
        }
        guard let program = words.first, !program.isEmpty else {
            throw AWSCredentialChain.failure(source, "the command is empty", .invalidConfiguration)
        }
        guard let executable = Self.locate(program, path: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin") else {
            throw AWSCredentialChain.failure(source, "\(program) was not found (PATH is searched when it has no /)",
                                             .invalidConfiguration)
        }
        let output = try run(executable, Array(words.dropFirst()), name: program)
        return try Self.parse(output, source: source)
    }

    private func run(_ executable: String, _ arguments: [String], name: String) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardError = FileHandle.standardError
        let stdout = Pipe()
        process.standardOutput = stdout
        do {
            try process.run()
        } catch {
            throw AWSCredentialChain.failure(source, "could not start \(name): \(error.localizedDescription)", .invalidConfiguration)
        }
        try? stdout.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeout)
        let reader = stdout.fileHandleForReading.fileDescriptor
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        reading: while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else {
                stop(process)
                throw AWSCredentialChain.failure(source, "\(name) did not finish within \(formatSeconds(timeout))", .connection)
            }
            var entry = pollfd(fd: reader, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, Int32(min(remaining * 1000, 1000).rounded(.up))) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR || errno == EAGAIN { continue }
            if n <= 0 { break reading }
            output.append(contentsOf: buffer[0..<n])
            if output.count > Self.maximumOutputBytes {
                stop(process)
                throw AWSCredentialChain.failure(source, "\(name) printed more than 64 KiB", .connection)
            }
        }
        while process.isRunning {
            if Date() >= deadline {
                stop(process)
                throw AWSCredentialChain.failure(source, "\(name) did not finish within \(formatSeconds(timeout))", .connection)
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let how = process.terminationReason == .exit ? "exited with status \(process.terminationStatus)"
                : "was killed by signal \(process.terminationStatus)"
            throw AWSCredentialChain.failure(source, "\(name) \(how) (its standard error is shown above)", .connection)
        }
        return output
    }

    private func stop(_ process: Process) {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    static func locate(_ program: String, path: String) -> String? {
        if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = "\(folder)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The specification's document. Values are never quoted back in messages.
    static func parse(_ output: Data, source: String) throws -> AWSCredentials {
        guard let object = try? JSONSerialization.jsonObject(with: output) as? [String: Any] else {
            throw AWSCredentialChain.failure(source, "the output is not a JSON object", .connection)
        }
        guard (object["Version"] as? NSNumber)?.intValue == 1, !(object["Version"] is String) else {
            throw AWSCredentialChain.failure(source, "the output's Version is not 1 (the only version there is)", .connection)
        }
        func string(_ key: String, required: Bool) throws -> String? {
            if let value = object[key] as? String, !value.isEmpty { return value }
            if required || object[key] != nil && !(object[key] is NSNull) {
                throw AWSCredentialChain.failure(source, "the output has no \(key) string", .connection)
            }
            return nil
        }
        let key = try string("AccessKeyId", required: true)!
        let secret = try string("SecretAccessKey", required: true)!
        let token = try string("SessionToken", required: false)
        var expiration: Date?
        if let text = try string("Expiration", required: false) {
            guard let date = AWSTimestamp.parse(text) else {
                throw AWSCredentialChain.failure(source, "the output's Expiration is not an RFC 3339 timestamp", .connection)
            }
            expiration = date
        }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token, expiration: expiration,
                              source: source)
    }
}

/// Words of a command line as a POSIX shell splits them, without any expansion.
enum ShellWords {
    struct SyntaxError: Error, Equatable {
        var reason: String
    }

    static func split(_ line: String) throws -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var characters = line.makeIterator()
        while let c = characters.next() {
            switch c {
            case " ", "\t", "\n", "\r", "\r\n":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case "'":
                inWord = true
                while true {
                    guard let next = characters.next() else { throw SyntaxError(reason: "a ' is not closed") }
                    if next == "'" { break }
                    word.append(next)
                }
            case "\"":
                inWord = true
                while true {
                    guard let next = characters.next() else { throw SyntaxError(reason: "a \" is not closed") }
                    if next == "\"" { break }
                    if next == "\\" {
                        guard let escaped = characters.next() else { throw SyntaxError(reason: "a \" is not closed") }
                        switch escaped {
                        case "\\", "\"", "$", "`": word.append(escaped)
                        case "\n": break
                        default: word.append("\\"); word.append(escaped)
                        }
                        continue
                    }
                    word.append(next)
                }
            case "\\":
                guard let escaped = characters.next() else { throw SyntaxError(reason: "the line ends with a \\") }
                if escaped != "\n" {
                    word.append(escaped)
                    inWord = true
                }
            default:
                word.append(c)
                inWord = true
            }
        }
        if inWord { words.append(word) }
        return words
    }
}
