#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's environment as a dictionary, read from `environ`: what
/// `ProcessInfo.processInfo.environment` gives, without building ProcessInfo, which costs a
/// tenth of a short command's start-up. An entry without `=` is skipped; a name given twice keeps
/// its first value, as `getenv` reads it.
public func processEnvironment() -> [String: String] {
    let start: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = environ
    guard var entry = start else { return [:] }
    var count = 0
    while entry[count] != nil { count += 1 }
    // Sized once: growing rehashes every name, which cost more than the rest together.
    var variables = [String: String](minimumCapacity: count)
    while let pointer = entry.pointee {
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: strlen(pointer))
        if let equals = bytes.firstIndex(of: UInt8(ascii: "=")) {
            let name = String(decoding: bytes[..<equals], as: UTF8.self)
            if variables[name] == nil { variables[name] = String(decoding: bytes[(equals + 1)...], as: UTF8.self) }
        }
        entry += 1
    }
    return variables
}
