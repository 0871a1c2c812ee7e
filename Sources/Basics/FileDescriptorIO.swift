#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads and writes on a raw descriptor, what Foundation's FileHandle did for the standard
/// streams and the plugin pipes: FileHandle is not in FoundationEssentials.
public enum FileDescriptorIO {
    /// Writes all of `bytes`, retrying after signals and short writes. False if the descriptor
    /// refused (a closed pipe: EPIPE, with SIGPIPE ignored).
    @discardableResult
    public static func write<Bytes: Collection>(_ bytes: Bytes, to descriptor: Int32) -> Bool where Bytes.Element == UInt8 {
        let written: Bool? = bytes.withContiguousStorageIfAvailable { writeAll($0, to: descriptor) }
        if let written { return written }
        return Array(bytes).withUnsafeBufferPointer { writeAll($0, to: descriptor) }
    }

    private static func writeAll(_ buffer: UnsafeBufferPointer<UInt8>, to descriptor: Int32) -> Bool {
        var offset = 0
        while offset < buffer.count {
            let count = systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += count
        }
        return true
    }

    /// What one read returns (at most 64 KiB), as FileHandle's `availableData`: empty at end of
    /// input or on an error.
    public static func readAvailable(from descriptor: Int32) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            return count > 0 ? Array(buffer[..<count]) : []
        }
    }

    /// Everything until end of input, as FileHandle's `readDataToEndOfFile()`.
    public static func readToEnd(from descriptor: Int32) -> [UInt8] {
        var all: [UInt8] = []
        while true {
            let chunk = readAvailable(from: descriptor)
            if chunk.isEmpty { return all }
            all.append(contentsOf: chunk)
        }
    }
}

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif
