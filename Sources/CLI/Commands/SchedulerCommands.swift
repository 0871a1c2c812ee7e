import Basics
import DBPlugin
import Engine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// `tidy` (one pass of due work, for cron or a systemd timer) and `agent` (the same in a loop).
enum SchedulerCommands {
    static let tidy = Command(
        path: ["tidy"], synopsis: "Do the work that is due: revoke expired leases, rotate static roles",
        usage: "dbsecrets tidy [options]",
        description: """
        Runs one pass over the work that must happen on time: revokes every expired lease, rotates \
        every static role whose rotation_period or rotation_schedule is due, ends the grace period \
        of retained previous passwords, rotates root credentials whose own rotation_period or \
        rotation_schedule is due, and settles interrupted changes. Prints what it did. Safe to run \
        from cron while other dbsecrets commands (or agents) run. With -on-rotate, runs a program \
        after each rotation.

        Exit status is 0 when everything due was done, 2 when some item failed (it stays due and \
        is retried by the next pass) or a rotation hook failed.
        """,
        examples: [("Every minute from cron:", "* * * * * dbsecrets tidy -format=json >>/var/log/dbsecrets-tidy.log"),
                   ("Reload a service after each rotation:", "dbsecrets tidy -on-rotate='/usr/local/bin/reload-app'")],
        flags: [CommonFlags.format, RotationHook.flag, RotationHook.timeoutFlag] + CommonFlags.request,
        run: { inv in
            try inv.expectArguments(0)
            // The same pass as Vault's sys/leases/tidy (which Vault runs in the background).
            try inv.printInstead(VaultAPIRequest(method: "PUT", path: "sys/leases/tidy"))
            let hook = try RotationHook.from(inv)
            let engine = inv.makeEngine()
            var failed = false
            do {
                try engine.runDueWork { item in
                    failed = report(item, inv, engine: engine, hook: hook, stop: { false }) || failed
                }
            } catch let error as EngineError {
                throw CommandFailure.engine("Error running due work: ", error)
            }
            return failed ? 2 : 0
        })

    static let interval = FlagSpec(name: "interval", kind: .duration, group: "Command Options",
                                   usage: "Time between passes.", defaultValue: "5s")

    static let agent = Command(
        path: ["agent"], synopsis: "Run tidy passes in a loop, in the foreground",
        usage: "dbsecrets agent [options]",
        description: """
        Runs 'dbsecrets tidy' every -interval until interrupted. SIGINT or SIGTERM stops it within \
        a second or two: an item waiting on the database gives up and stays due for the next pass, \
        and a rotation hook still running gets a second to finish. Several agents may run at once: \
        each item is done by one of them.
        """,
        examples: [("As a systemd service:", "ExecStart=/usr/local/bin/dbsecrets agent -interval=10s"),
                   ("Reload a service after each rotation:", "dbsecrets agent -on-rotate='systemctl reload app'")],
        flags: [CommonFlags.format, CommonFlags.stateDir, interval, RotationHook.flag, RotationHook.timeoutFlag],
        run: { inv in
            try inv.expectArguments(0)
            let text = inv.arguments.string("interval") ?? "5s"
            let seconds = try intervalSeconds(text)
            let hook = try RotationHook.from(inv)
            StopSignal.install()
            let engine = inv.makeEngine()
            while !StopSignal.requested {
                do {
                    try engine.runDueWork(shouldStop: { StopSignal.requested }) { item in
                        _ = report(item, inv, engine: engine, hook: hook, stop: { StopSignal.requested })
                    }
                } catch let error as EngineError {
                    inv.terminal.err(inv.secrets.clean(CommandFailure.engine("Error running due work: ", error).message) + "\n")
                }
                // Waits in slices of at most 100 ms, so a stop is seen within that.
                let until = Date().addingTimeInterval(seconds)
                while !StopSignal.requested {
                    let left = until.timeIntervalSinceNow
                    if left <= 0 { break }
                    usleep(UInt32(min(left, 0.1) * 1_000_000))
                }
            }
            return 0
        })

    static let all = [tidy, agent]

    /// `-interval`: what Go's `time.ParseDuration` accepts (`500ms`, `1.5s`, `2m`), or whole
    /// seconds; fractions are kept. Positive.
    static func intervalSeconds(_ text: String) throws -> Double {
        let seconds: Double
        if let whole = Int(text) {
            seconds = Double(whole)
        } else {
            do {
                seconds = try GoDuration.seconds(text)
            } catch {
                throw CommandFailure.usage("invalid value \"\(text)\" for flag -interval: \(error.description)")
            }
        }
        guard seconds > 0 else { throw CommandFailure.usage("invalid value \"\(text)\" for flag -interval: must be a positive duration") }
        return seconds
    }

    /// Prints one item as it is done, then runs the rotation hook if it rotated something; says
    /// whether anything failed (the item, or the hook).
    static func report(_ item: DueWorkItem, _ inv: Invocation, engine: Engine, hook: RotationHook?, stop: () -> Bool,
                       print: ((DueWorkItem) -> Void)? = nil) -> Bool {
        let show = print ?? { Self.printItem($0, inv) }
        show(item)
        guard let hook, let rotated = item.rotated else { return item.action.isFailure }
        guard let problem = hook.run(for: rotated.path, kind: rotated.kind, environment: inv.terminal.environment,
                                     stateDirectory: engine.environment.state.root, stop: stop) else {
            return item.action.isFailure
        }
        show(DueWorkItem(.rotationHookFailed, rotated.path, problem + "; the rotation stands"))
        return true
    }

    static func printItem(_ item: DueWorkItem, _ inv: Invocation) {
        switch inv.format {
        case .json, .yaml:
            let object: JSONValue = ["time": .string(Timestamp.format(Date())), "action": .string(item.action.rawValue),
                                     "subject": .string(item.subject), "detail": .string(inv.secrets.clean(item.detail))]
            inv.terminal.out(GoJSON.compact(object) + "\n")
        case .table, .raw:
            let line = "\(item.action.rawValue): \(item.subject)" + (item.detail.isEmpty ? "" : " (\(inv.secrets.clean(item.detail)))")
            if item.action.isFailure { inv.terminal.err(line + "\n") } else { inv.terminal.out(line + "\n") }
        }
    }
}

/// SIGINT/SIGTERM set a flag that the agent checks between items, and `StopRequest`, which ends
/// any network wait of the item in progress within a fraction of a second.
enum StopSignal {
    nonisolated(unsafe) static var flag: sig_atomic_t = 0

    static var requested: Bool { flag != 0 }

    static func install() {
        signal(SIGINT) { _ in StopSignal.flag = 1; StopRequest.flag = 1 }
        signal(SIGTERM) { _ in StopSignal.flag = 1; StopRequest.flag = 1 }
    }
}
