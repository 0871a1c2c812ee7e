// swift-tools-version:6.0
// dbsecrets: Vault's database secrets engine as a local command-line tool.
// Foundation only: no package dependencies, by design.
import PackageDescription

// A release build links the Swift runtime into each executable, as `scripts/build-shipped` (what
// `make install` ships) does: loading it as a dozen shared libraries was two thirds of what a short
// command does (benchmarks/README.md, "Start-up"). The modules are compiled against the
// static runtime's own module files, or the link misses what they name. Concrete generic
// metadata comes from accessors, not from demangling names at run time: each first use of a name
// scanned every conformance in the binary. Tests build in debug, untouched.
let releaseRuntime: [SwiftSetting] = [
    .unsafeFlags(["-static-stdlib", "-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"],
                 .when(platforms: [.linux], configuration: .release)),
]
let linkedRuntime: [LinkerSetting] = [.unsafeFlags(["-static-stdlib"], .when(platforms: [.linux], configuration: .release))]

let package = Package(
    name: "dbsecrets",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "dbsecrets", targets: ["dbsecrets"]),
        .executable(name: "dbsecrets-elasticache-plugin", targets: ["dbsecrets-elasticache-plugin"]),
    ],
    targets: [
        // Small leaves several modules share: calendar arithmetic, the system CSPRNG, Go's
        // duration syntax and printable characters.
        .target(name: "Basics"),
        // Hashes, HMAC, PBKDF2: shared by SCRAM, MySQL auth, SigV4 and templates. Optimized in
        // debug builds too: unoptimized, one SCRAM login (4096 rounds of PBKDF2) takes 200 ms,
        // and the tests log in thousands of times.
        .target(name: "CryptoPrimitives", swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // The contract every database plugin implements, and what plugins share.
        .target(name: "DBPlugin", dependencies: ["Basics"]),
        // The system's OpenSSL 3 headers (libssl-dev); the libraries are loaded with dlopen by TLS.
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
        // TLS sessions over DBPlugin's ByteStream, for every wire client. Linux only; elsewhere
        // asking for TLS is a clear error.
        .target(name: "TLS", dependencies: ["Basics", "DBPlugin", .target(name: "COpenSSL", condition: .when(platforms: [.linux]))]),
        .target(name: "UsernameTemplate", dependencies: ["Basics", "CryptoPrimitives"]),
        .target(name: "PasswordPolicy", dependencies: ["Basics"]),

        // One folder per plugin, each with its wire client beside it.
        .target(name: "PostgresPlugin", dependencies: ["Basics", "DBPlugin", "TLS", "CryptoPrimitives", "UsernameTemplate"], path: "Sources/Plugins/Postgres"),
        .target(name: "RedisPlugin", dependencies: ["Basics", "CryptoPrimitives", "DBPlugin", "TLS", "UsernameTemplate"], path: "Sources/Plugins/Redis"),
        // COpenSSL for RSA-OAEP (caching_sha2_password without TLS), through the libcrypto TLS loads.
        .target(name: "MySQLPlugin", dependencies: ["Basics", "DBPlugin", "TLS", "CryptoPrimitives", "UsernameTemplate",
                                                    .target(name: "COpenSSL", condition: .when(platforms: [.linux]))],
                path: "Sources/Plugins/MySQL"),
        .target(name: "ElastiCachePlugin", dependencies: ["Basics", "DBPlugin", "TLS", "CryptoPrimitives"], path: "Sources/Plugins/ElastiCache"),

        // Runs a plugin as its own process, as Vault runs external plugins.
        .target(name: "PluginProcess", dependencies: ["Basics", "DBPlugin"]),
        .executableTarget(name: "dbsecrets-elasticache-plugin", dependencies: ["DBPlugin", "ElastiCachePlugin", "PluginProcess"],
                         linkerSettings: linkedRuntime),

        // The engine: paths, state directory, leases, rotation. No terminal in it.
        .target(name: "Engine", dependencies: ["Basics", "CryptoPrimitives", "DBPlugin", "PasswordPolicy", "UsernameTemplate"]),
        // Vault's HTTP API over the engine (`dbsecrets server`): HTTP/1.1 on our sockets and TLS layer.
        .target(name: "Server", dependencies: ["Basics", "CryptoPrimitives", "DBPlugin", "Engine", "TLS"]),
        // Argument parsing and output formatting over the engine.
        .target(name: "CLI", dependencies: ["Basics", "Engine", "Server", "TLS", "PostgresPlugin", "RedisPlugin", "MySQLPlugin", "PluginProcess"]),
        .executableTarget(name: "dbsecrets", dependencies: ["CLI", "DBPlugin"], linkerSettings: linkedRuntime),

        .target(name: "TestSupport", dependencies: ["DBPlugin", "Engine"], path: "Tests/TestSupport"),
        .testTarget(name: "BasicsTests", dependencies: ["Basics"]),
        .testTarget(name: "CryptoPrimitivesTests", dependencies: ["CryptoPrimitives"]),
        .testTarget(name: "UsernameTemplateTests", dependencies: ["Basics", "UsernameTemplate", "TestSupport"]),
        .testTarget(name: "PasswordPolicyTests", dependencies: ["Basics", "PasswordPolicy", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Basics", "Engine", "TestSupport"], exclude: ["StateFixtures"]),
        .testTarget(name: "ServerTests", dependencies: ["Server", "Engine", "DBPlugin", "TLS", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["CLI", "PluginProcess", "TestSupport"], exclude: ["Golden"]),
        .testTarget(name: "PostgresTests", dependencies: ["Basics", "DBPlugin", "PostgresPlugin", "UsernameTemplate", "TestSupport"]),
        .testTarget(name: "RedisTests", dependencies: ["Basics", "RedisPlugin", "TLS", "TestSupport"]),
        .testTarget(name: "MySQLTests", dependencies: ["MySQLPlugin", "TestSupport"]),
        .testTarget(name: "ElastiCacheTests", dependencies: ["ElastiCachePlugin", "RedisPlugin", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where target.type != .system && target.type != .test && target.name != "TestSupport" {
    target.swiftSettings = (target.swiftSettings ?? []) + releaseRuntime
}
