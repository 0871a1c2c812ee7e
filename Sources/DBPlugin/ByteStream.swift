#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The one connection the wire clients speak to: a plain socket or a TLS session over one, so a
/// client does not know (or care) whether its bytes are encrypted.
///
/// Every call is bounded by its deadline: a call that starts after the deadline fails at once,
/// so a server that keeps sending cannot hold a client past it, and one that sends nothing
/// cannot either. Failures are `SocketError`s, which name the server and never carry data.
public protocol ByteStream: AnyObject {
    /// `host:port` (`[v6]:port`) or the socket path: how errors name the server.
    var address: String { get }
    var isOpen: Bool { get }
    /// Sends all of `bytes`, or throws once `deadline` passes.
    func write(_ bytes: [UInt8], deadline: Date) throws(SocketError)
    /// Whatever arrives next, at least one byte and at most `maxCount`, waiting until `deadline`.
    func readSome(maxCount: Int, deadline: Date) throws(SocketError) -> [UInt8]
    /// Closes the stream; safe to call more than once.
    func close()
}

extension ByteStream {
    public func readSome(deadline: Date) throws(SocketError) -> [UInt8] {
        try readSome(maxCount: 16 * 1024, deadline: deadline)
    }
}
