import Foundation
import XCTest

/// SplitMix64: small, fast, and seeded, so a failing run replays from its printed seed.
public struct FuzzGenerator: RandomNumberGenerator {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    public mutating func chance(_ oneIn: Int) -> Bool { Int.random(in: 0..<oneIn, using: &self) == 0 }
    public mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }
    public mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) } }

    /// Text mixing ASCII, control characters, non-ASCII scalars and the given fragments.
    public mutating func text(_ fragments: [String] = [], maxLength: Int = 24) -> String {
        var out = ""
        for _ in 0..<int(0...maxLength) {
            switch int(0...9) {
            case 0...2 where !fragments.isEmpty: out += pick(fragments)
            case 3: out.unicodeScalars.append(Unicode.Scalar(UInt8(int(0...31))))
            case 4: out += pick(["é", "😀", "\u{202E}", "\u{FEFF}", "ß", "İ", "\u{0301}", "日本", "\u{7F}"])
            default: out.unicodeScalars.append(Unicode.Scalar(UInt8(int(32...126))))
            }
        }
        return out
    }

    /// ASCII noise with fragments of the grammar under test mixed in.
    public mutating func asciiText(_ fragments: [String], maxLength: Int = 40) -> String {
        var text = ""
        for _ in 0..<int(0...maxLength) {
            if chance(3) {
                text += pick(fragments)
            } else {
                text.unicodeScalars.append(Unicode.Scalar(UInt8(int(0...127))))
            }
        }
        return text
    }

    /// A valid input damaged a few times: cut, grown with a fragment, a run duplicated, a byte swapped.
    public mutating func mutated(_ seeds: [String], fragments: [String]) -> String {
        var characters = Array(pick(seeds))
        for _ in 0..<int(1...4) {
            let at = int(0...characters.count)
            switch int(0...3) {
            case 0 where !characters.isEmpty:
                let end = min(characters.count, at + int(1...6))
                characters.removeSubrange(min(at, characters.count - 1)..<end)
            case 1:
                characters.insert(contentsOf: pick(fragments), at: at)
            case 2 where !characters.isEmpty:
                let start = int(0...(characters.count - 1))
                let slice = characters[start..<min(characters.count, start + int(1...12))]
                characters.insert(contentsOf: slice, at: at)
            default:
                if at < characters.count { characters[at] = Character(Unicode.Scalar(UInt8(int(32...126)))) }
            }
        }
        return String(characters)
    }
}

/// One time-bounded fuzz loop. Every loop prints its seed before it starts, so even a trap that
/// kills the test process can be replayed: `DBSECRETS_FUZZ_SEED=N` regenerates the same inputs,
/// `DBSECRETS_FUZZ_VERBOSE=1` prints each input before it runs (the last line names the culprit),
/// and `DBSECRETS_FUZZ_SECONDS=N` runs each loop longer than its default.
///
/// An input that runs longer than `hangLimit` is reported with the seed and the process is
/// aborted: a hung loop would otherwise hold the whole suite until CI kills it.
public final class FuzzRun {
    public let name: String
    public let seed: UInt64
    public var generator: FuzzGenerator
    public private(set) var inputs = 0
    private let verbose: Bool
    private let seconds: Double
    private let watchdog = Watchdog()

    public init(_ name: String, seconds defaultSeconds: Double = 1) {
        let env = ProcessInfo.processInfo.environment
        self.name = name
        seed = env["DBSECRETS_FUZZ_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        generator = FuzzGenerator(state: seed)
        seconds = env["DBSECRETS_FUZZ_SECONDS"].flatMap(Double.init) ?? defaultSeconds
        verbose = env["DBSECRETS_FUZZ_VERBOSE"].map { !$0.isEmpty && $0 != "0" } ?? false
        print("fuzz \(name): seed \(seed), \(seconds)s (replay with DBSECRETS_FUZZ_SEED=\(seed))")
    }

    public var replay: String { "seed \(seed), input #\(inputs); replay with DBSECRETS_FUZZ_SEED=\(seed) DBSECRETS_FUZZ_VERBOSE=1" }

    /// Runs `body` on fresh inputs until the time is up. `body` makes an input from the generator,
    /// calls `check(input)` with its description, then exercises it; an error it throws is a
    /// failure (expected rejections must be caught inside).
    public func loop(perInput limit: Duration = .milliseconds(500), hangLimit: TimeInterval = 10,
              minimumInputs: Int = 20, file: StaticString = #filePath, line: UInt = #line,
              _ body: (FuzzRun) throws -> Void) {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
        watchdog.start(name: name, limit: hangLimit)
        defer { watchdog.stop() }
        while ContinuousClock.now < deadline {
            inputs += 1
            let started = ContinuousClock.now
            do {
                try body(self)
            } catch {
                XCTFail("\(name): unexpected \(type(of: error)) \(error) for input \(watchdog.input) (\(replay))", file: file, line: line)
            }
            let took = ContinuousClock.now - started
            if verbose { print("fuzz \(name) #\(inputs): took \(took)") }
            if took > limit {
                XCTFail("\(name): input took \(took): \(watchdog.input) (\(replay))", file: file, line: line)
            }
        }
        print("fuzz \(name): \(inputs) inputs, seed \(seed)")
        XCTAssertGreaterThanOrEqual(inputs, minimumInputs, "\(name): too few inputs in the time (\(replay))", file: file, line: line)
    }

    /// Records the input about to run, for failure messages and the hang watchdog.
    public func input(_ description: @autoclosure () -> String) {
        let text = description()
        watchdog.began(text)
        if verbose { print("fuzz \(name) #\(inputs): \(text)") }
    }

    public func fail(_ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTFail("\(name): \(message) for input \(watchdog.input) (\(replay))", file: file, line: line)
    }
}

/// Watches the input in progress from another thread and aborts on a hang, naming the input.
private final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var current = ""
    private var since = Date()
    private var running = false

    var input: String { lock.withLock { current } }

    func began(_ text: String) {
        lock.withLock {
            current = text
            since = Date()
        }
    }

    func start(name: String, limit: TimeInterval) {
        lock.withLock {
            running = true
            since = Date()
        }
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 0.2)
                let (stillRunning, text, age) = lock.withLock { (running, current, Date().timeIntervalSince(since)) }
                guard stillRunning else { return }
                if age > limit {
                    FileHandle.standardError.write(Data("fuzz \(name): input hung for \(Int(age))s, aborting: \(text.debugDescription)\n".utf8))
                    abort()
                }
            }
        }
        thread.start()
    }

    func stop() { lock.withLock { running = false } }
}
