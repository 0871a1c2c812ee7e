import Engine
import PluginProcess
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `-on-rotate=CMD` of `tidy` and `agent`: a program run after each rotation they do, to tell
/// whoever holds the old password (reload a service, refresh a cache). CMD is split on spaces and
/// run without a shell; the program learns what rotated from its environment, never a password:
/// `DBSECRETS_ROTATED_PATH` (e.g. `database/static-roles/app`, `database/config/pg`) and
/// `DBSECRETS_ROTATED_KIND` (`static-role` or `root`), with `DBSECRETS_STATE_DIR` set to the state
/// folder so it can read the new one. Its output goes to stderr. A hook that fails, or runs longer
/// than its timeout, is reported; the rotation stands.
struct RotationHook {
    let arguments: [String]
    let timeout: TimeInterval

    static let flag = FlagSpec(name: "on-rotate", kind: .string, group: "Command Options",
                               usage: "Run this program (split on spaces, no shell) after each rotation, with DBSECRETS_ROTATED_PATH and DBSECRETS_ROTATED_KIND (static-role or root) in its environment, never a password. A failure is reported; the rotation stands.")
    static let timeoutFlag = FlagSpec(name: "on-rotate-timeout", kind: .duration, group: "Command Options",
                                      usage: "How long the -on-rotate program may run before it is stopped and reported as failed.",
                                      defaultValue: "60s")

    /// The hook a command line asks for, nil without `-on-rotate`.
    static func from(_ inv: Invocation) throws -> RotationHook? {
        guard let text = inv.arguments.string("on-rotate") else { return nil }
        let arguments = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard !arguments.isEmpty else { throw CommandFailure.usage("invalid value \"\" for flag -on-rotate: a program to run is needed") }
        let timeoutText = inv.arguments.string("on-rotate-timeout") ?? "60s"
        guard let seconds = try? DurationField.seconds(.string(timeoutText), field: "on-rotate-timeout"), seconds > 0 else {
            throw CommandFailure.usage("invalid value \"\(timeoutText)\" for flag -on-rotate-timeout: must be a positive duration")
        }
        return RotationHook(arguments: arguments, timeout: TimeInterval(seconds))
    }

    /// Runs the hook for one rotation and waits for it (stopped early when `stop` says so); nil
    /// when it succeeded, else what went wrong.
    func run(for path: String, kind: RotatedCredential.Kind, environment: [String: String], stateDirectory: URL,
             stop: () -> Bool) -> String? {
        var environment = environment
        environment["DBSECRETS_ROTATED_PATH"] = path
        environment["DBSECRETS_ROTATED_KIND"] = kind.rawValue
        environment["DBSECRETS_STATE_DIR"] = stateDirectory.path
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(arguments, environment: environment, stdinFromNull: true, stdoutToStderr: true)
        } catch let error as ChildProcess.SpawnError {
            return error.message
        } catch {
            return "cannot run \(arguments[0])"
        }
        if let status = child.wait(atMost: timeout, stop: stop) {
            return status == 0 ? nil : "\(arguments[0]) exited with status \(status)"
        }
        let stopped = stop()
        // A stop must not wait for the hook: it gets a second to end, then it is killed.
        child.terminate(grace: stopped ? 1 : 5)
        return stopped ? "\(arguments[0]) was stopped: dbsecrets is stopping" : "\(arguments[0]) ran longer than \(Int(timeout))s and was stopped"
    }
}
