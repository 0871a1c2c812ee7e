import DBPlugin
import Engine
import PluginProcess
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// `dbsecrets exec`: credentials for one process, as Vault Agent's process supervisor gives them.
/// The command gets the username and password in its environment (never on a command line),
/// the lease is renewed while it runs and revoked when it ends, signals sent to dbsecrets reach it,
/// and dbsecrets exits with its status. A dbsecrets killed meanwhile leaves a lease that expires
/// (and is revoked by `tidy`) as any other.
enum ExecCommand {
    static let role = FlagSpec(name: "role", kind: .string, group: "Command Options",
                               usage: "The dynamic role whose credentials (creds/NAME) the command gets, with a lease renewed while it runs and revoked when it exits.")
    static let staticRole = FlagSpec(name: "static-role", kind: .string, group: "Command Options",
                                     usage: "Instead of -role: the static role whose current password (static-creds/NAME) the command gets, read once.")
    static let mount = FlagSpec(name: "mount", kind: .string, group: "Command Options",
                                usage: "Where the database secrets engine is mounted.", defaultValue: "database")
    static let envPrefix = FlagSpec(name: "env-prefix", kind: .string, group: "Command Options",
                                    usage: "What the environment variables' names start with: PREFIXUSERNAME, PREFIXPASSWORD and, for -role, PREFIXLEASE_ID.",
                                    defaultValue: "DB_")

    static let command = Command(
        path: ["exec"], synopsis: "Run a command with database credentials in its environment",
        usage: "dbsecrets exec [options] -role=NAME -- COMMAND [ARG...]",
        description: """
        Gets credentials (of -role, or of -static-role) and runs COMMAND (found in PATH, without a shell) with them in its \
        environment: DB_USERNAME, DB_PASSWORD and, for a dynamic role, DB_LEASE_ID. They are never \
        put on a command line. While the command runs, the lease is renewed before it runs out, up \
        to the role's max_ttl; when the command exits, the lease is revoked and dbsecrets exits with \
        the command's status (128 plus the signal's number when a signal ended it). HUP, INT, QUIT, \
        TERM, USR1, USR2 and WINCH sent to dbsecrets are passed on to the command (those a terminal \
        sends to the whole foreground group reach it directly). If dbsecrets itself is killed, the \
        lease stays and expires as any other, revoked by the next tidy after its TTL.
        """,
        examples: [
            ("A migration with its own short-lived user:", "dbsecrets exec -role=migrate -- ./migrate up"),
            ("psql as a dynamic user:", "dbsecrets exec -role=ro -- sh -c 'PGPASSWORD=\"$DB_PASSWORD\" psql -h db -U \"$DB_USERNAME\" app'"),
        ],
        flags: [role, staticRole, mount, envPrefix, CommonFlags.stateDir],
        runsACommandLine: true,
        run: { try run($0) })

    static func run(_ inv: Invocation) throws -> Int32 {
        let dynamicRole = inv.arguments.string("role") ?? "", staticRoleName = inv.arguments.string("static-role") ?? ""
        guard dynamicRole.isEmpty != staticRoleName.isEmpty else {
            throw CommandFailure.usage("exactly one of -role and -static-role is required")
        }
        guard !inv.positionals.isEmpty else { throw CommandFailure.usage("Missing the command to run (after --)") }
        let prefix = inv.arguments.string("env-prefix") ?? "DB_"
        guard prefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }), !(prefix.first?.isNumber ?? false) else {
            throw CommandFailure.usage("invalid -env-prefix \"\(prefix)\": letters, digits and _ only, not starting with a digit")
        }
        let mount = sanitizePath(inv.arguments.string("mount") ?? "database")
        ExecSignals.install()
        let engine = inv.makeEngine()

        let path = dynamicRole.isEmpty ? "\(mount)/static-creds/\(staticRoleName)" : "\(mount)/creds/\(dynamicRole)"
        let response: EngineResponse
        do {
            guard let read = try engine.handle(EngineRequest(.read, path)) else { throw CommandFailure.noValue("No value found at \(path)") }
            response = read
        } catch let error as EngineError {
            throw CommandFailure.engine("Error reading \(path): ", error)
        }
        let lease = response.leaseID.isEmpty ? nil : RenewedLease(id: response.leaseID, duration: response.leaseDuration)
        var environment = inv.terminal.environment
        environment[prefix + "USERNAME"] = response.data?["username"]?.textValue ?? ""
        environment[prefix + "PASSWORD"] = response.data?["password"]?.textValue ?? ""
        if let lease { environment[prefix + "LEASE_ID"] = lease.id }

        if ExecSignals.pending != 0 {
            // Stopped before the command could start: nothing will use the credentials.
            lease.map { revoke($0, engine, inv) }
            return 128 + ExecSignals.pending
        }
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(inv.positionals, environment: environment)
        } catch let error as ChildProcess.SpawnError {
            lease.map { revoke($0, engine, inv) }
            inv.terminal.err(inv.terminal.coloredForStderr("Error running \(inv.positionals[0]): \(error.message)\n", code: "31"))
            return error.exitStatus
        }
        ExecSignals.child = child.pid
        var renewing = lease
        while true {
            if let status = child.poll() {
                ExecSignals.child = 0
                lease.map { revoke($0, engine, inv) }
                return status
            }
            if var current = renewing, Date() >= current.nextRenewal {
                renewing = current.renew(engine, inv) ? current : nil
            }
            usleep(50_000)
        }
    }

    /// The lease of the running command, renewed at two thirds of each duration the engine grants.
    struct RenewedLease {
        let id: String
        var nextRenewal: Date

        init(id: String, duration: Int) {
            self.id = id
            nextRenewal = Self.renewal(after: duration)
        }

        static func renewal(after duration: Int) -> Date {
            Date().addingTimeInterval(max(1, Double(duration) * 2 / 3))
        }

        /// Renews once; false when renewing cannot help any more (the lease reached its max_ttl).
        mutating func renew(_ engine: Engine, _ inv: Invocation) -> Bool {
            do {
                guard let response = try engine.renewLease(id, increment: 0) else { return false }
                // Capped: the lease ends at its max_ttl whatever is asked, so this was the last renewal.
                if response.warnings.contains(where: { $0.contains("max_ttl") }) {
                    warn(inv, "lease \(id) reaches its max_ttl in \(response.leaseDuration)s and cannot be renewed beyond it; the credentials stop working then")
                    return false
                }
                nextRenewal = Self.renewal(after: response.leaseDuration)
                return true
            } catch let error as EngineError {
                if error.message.contains("past the max TTL") || error.message == "lease expired" {
                    warn(inv, "lease \(id) cannot be renewed: \(error.message)")
                    return false
                }
                // Tried again soon: the lease still runs, and the database may be back.
                warn(inv, "renewing lease \(id) failed, trying again in 5s: \(error.message)")
                nextRenewal = Date().addingTimeInterval(5)
                return true
            } catch {
                return false
            }
        }
    }

    static func revoke(_ lease: RenewedLease, _ engine: Engine, _ inv: Invocation) {
        do {
            try engine.revokeLease(lease.id)
        } catch let error as EngineError {
            warn(inv, "revoking lease \(lease.id) failed (tidy retries it): \(error.message)")
        } catch {}
    }

    static func warn(_ inv: Invocation, _ message: String) {
        inv.terminal.err(inv.terminal.coloredForStderr(inv.secrets.clean("dbsecrets exec: \(message)") + "\n", code: "33"))
    }
}

/// The signals `exec` passes on to its command. Before the command starts, a signal is kept
/// (`pending`) and ends dbsecrets once the credentials are given back.
enum ExecSignals {
    nonisolated(unsafe) static var child: pid_t = 0
    nonisolated(unsafe) static var pending: Int32 = 0

    static let forwarded: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH]

    static func install() {
        for signal in forwarded {
            var action = sigaction()
            action.__sigaction_handler.sa_sigaction = { signal, info, _ in
                let child = ExecSignals.child
                guard child > 0 else {
                    if signal != SIGWINCH { ExecSignals.pending = signal }
                    return
                }
                // A signal from the kernel (si_code > 0: the terminal's ^C, a hang-up) went to the
                // whole foreground process group, the command included; only one sent to
                // dbsecrets alone (kill, systemd) is passed on.
                if let info, info.pointee.si_code > 0 { return }
                kill(child, signal)
            }
            action.sa_flags = SA_SIGINFO | SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
        }
    }
}
