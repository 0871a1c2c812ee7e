import Basics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The boundaries between the steps of every operation that changes a database or the state,
/// numbered as a process passes them: in the engine (intent, database change, state write,
/// intent removal, each file replaced) and inside plugins (between the statements of one
/// change). Crash tests set `DBSECRETS_TEST_CRASH_AT=N` to have the process killed (SIGKILL: no
/// cleanup, no flush) on reaching the N-th boundary, and `DBSECRETS_TEST_FAIL_AT=N` to have the
/// N-th boundary fail (as a full disk, or a refused statement, would), so every partial state an
/// operation can leave is reachable deterministically. Unset, a boundary costs one comparison.
///
/// This is the only place that reads these variables. The count is the process's: `dbsecrets
/// server` runs requests on several threads, and its boundaries are numbered in the order they
/// are reached, whichever thread reaches them.
public enum CrashPoint {
    private struct Plan {
        var crashAt: Int
        var failAt: Int
        var trace: Bool
    }

    private nonisolated(unsafe) static var passed = 0
    private static let counting = Lock()
    private static let plan: Plan? = {
        // Three variables by name: the whole environment as a dictionary costs every command more.
        func variable(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
        let crashAt = variable("DBSECRETS_TEST_CRASH_AT").flatMap { Int($0) } ?? 0
        let failAt = variable("DBSECRETS_TEST_FAIL_AT").flatMap { Int($0) } ?? 0
        let trace = variable("DBSECRETS_TEST_TRACE_STEPS") == "1"
        return crashAt > 0 || failAt > 0 || trace ? Plan(crashAt: crashAt, failAt: failAt, trace: trace) : nil
    }()

    /// Marks a step boundary; `label` names it for the trace (`DBSECRETS_TEST_TRACE_STEPS=1`
    /// prints each boundary's number and label on stderr). Returns true when this boundary is to
    /// fail: the caller throws its own error for it.
    public static func reached(_ label: @autoclosure () -> String) -> Bool {
        guard let plan else { return false }
        let number = counting.withLock { passed += 1; return passed }
        if plan.trace { FileDescriptorIO.write(Array("dbsecrets-step \(number) \(label())\n".utf8), to: STDERR_FILENO) }
        if number == plan.crashAt { kill(getpid(), SIGKILL) }
        return number == plan.failAt
    }
}
