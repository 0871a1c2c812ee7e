import Foundation

/// The shared AWS files, `~/.aws/config` and `~/.aws/credentials`: INI sections of `key = value`.
///
/// In the credentials file a section is the profile name (`[dev]`); in the config file it is
/// `[profile dev]`, except `[default]`. Keys are case-insensitive. Indented lines are
/// sub-properties of the previous key (e.g. `s3 =` blocks) and are skipped: nothing we read
/// lives there.
struct AWSProfileFile: Sendable {
    enum Kind: Sendable { case config, credentials }

    let path: String
    private let sections: [String: [String: String]]

    /// Nil when the file does not exist or cannot be read: a missing shared file is normal.
    init?(path: String) {
        guard let data = FileManager.default.contents(atPath: path),
              let text = String(data: data, encoding: .utf8) else { return nil }
        self.init(path: path, text: text)
    }

    init(path: String, text: String) {
        self.path = path
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            if let first = rawLine.first, first == " " || first == "\t" { continue }
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard let end = line.firstIndex(of: "]") else { current = nil; continue }
                let name = line[line.index(after: line.startIndex)..<end]
                    .split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
                current = name
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard let section = current, let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            // Inline comments need whitespace before the marker, as in the AWS SDKs.
            for marker in [" #", " ;", "\t#", "\t;"] {
                if let r = value.range(of: marker) { value = value[..<r.lowerBound].trimmingCharacters(in: .whitespaces) }
            }
            sections[section]?[key] = value
        }
        self.sections = sections
    }

    /// The keys of one profile, or nil when the file has no such profile.
    func profile(_ name: String, kind: Kind) -> [String: String]? {
        switch kind {
        case .credentials:
            return sections[name]
        case .config:
            if let found = sections["profile \(name)"] { return found }
            return name == "default" ? sections["default"] : nil
        }
    }
}

/// The config and credentials files read together, as the SDKs do: a profile's keys from both,
/// the credentials file winning where both set one.
struct AWSSharedFiles: Sendable {
    let configPath: String
    let credentialsPath: String
    private let config: AWSProfileFile?
    private let credentials: AWSProfileFile?

    init(configPath: String, credentialsPath: String) {
        self.configPath = configPath
        self.credentialsPath = credentialsPath
        config = AWSProfileFile(path: configPath)
        credentials = AWSProfileFile(path: credentialsPath)
    }

    /// Nil when neither file has the profile.
    func profile(_ name: String) -> [String: String]? {
        let fromConfig = config?.profile(name, kind: .config)
        let fromCredentials = credentials?.profile(name, kind: .credentials)
        if fromConfig == nil && fromCredentials == nil { return nil }
        return (fromConfig ?? [:]).merging(fromCredentials ?? [:]) { _, credentials in credentials }
    }

    /// The file a profile's key was read from, for messages.
    func path(of key: String, inProfile name: String) -> String {
        credentials?.profile(name, kind: .credentials)?[key] != nil ? credentialsPath : configPath
    }

    /// "F1 and F2", for messages.
    var description: String { "\(credentialsPath) and \(configPath)" }
}
