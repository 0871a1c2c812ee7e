import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TLS

/// The connection to a MySQL server as a stream of packets: 3-byte length, 1-byte sequence id,
/// payload split at 16 MiB - 1. Socket failures become `MySQLError`s.
///
/// Two bounds apply to every wait: the operation's deadline (the login's `timeout`, or one
/// statement's `statement_timeout`), which bounds the whole exchange whatever the server sends,
/// and go-sql-driver's per-read and per-write `readTimeout`/`writeTimeout`. Packets larger than
/// `maximumPacketLength` are refused before their payload is read.
final class MySQLPacketStream {
    let address: MySQLAddress
    private var transport: ByteStream
    /// The TLS session, once `startTLS` succeeded.
    private(set) var tls: TLSStream?
    var readTimeout: Double
    private let writeTimeout: Double
    /// The deadline of the current operation and its limit, for the timeout message.
    private var operation: (deadline: Date, seconds: Double, name: String) = (.distantFuture, 0, "")
    private var buffer: [UInt8] = []
    private var bufferStart = 0

    private static let maxFrame = 0xff_ffff
    /// Rows, OK and error packets of the statements dbsecrets runs are tiny; a server announcing
    /// more than 4 MiB is refused rather than buffered.
    static let maximumPacketLength = 4 << 20

    private init(transport: ByteStream, address: MySQLAddress, readTimeout: Double, writeTimeout: Double) {
        self.transport = transport
        self.address = address
        self.readTimeout = readTimeout
        self.writeTimeout = writeTimeout
    }

    static func connect(to address: MySQLAddress, connectTimeout: Double, readTimeout: Double,
                        writeTimeout: Double) throws(MySQLError) -> MySQLPacketStream {
        do throws(SocketError) {
            let socket = switch address {
            case .tcp(let host, let port): try BlockingSocket.connect(host: host, port: port, timeout: connectTimeout)
            case .unix(let path): try BlockingSocket.connect(unixPath: path, timeout: connectTimeout)
            }
            return MySQLPacketStream(transport: socket, address: address, readTimeout: readTimeout,
                                     writeTimeout: writeTimeout)
        } catch {
            throw MySQLError(error, timeout: connectTimeout)
        }
    }

    /// Bounds everything until the next call: `name` is the limit as the user configured it.
    func begin(_ name: String, seconds: Double, from start: Date = Date()) {
        operation = (start.addingTimeInterval(seconds), seconds, name)
    }

    /// The TLS handshake over the connection (after the SSL request packet went out in clear).
    func startTLS(_ configuration: TLSConfiguration) throws(MySQLError) {
        guard buffer.count == bufferStart else {
            // As with PostgreSQL's CVE-2021-23222: nothing the server sent in clear may be read as if
            // it had come over TLS.
            throw MySQLError(.protocolViolation, "the server at \(address) sent unencrypted data before the TLS handshake")
        }
        do throws(TLSError) {
            let session = try TLSStream.handshake(over: transport, configuration, deadline: operation.deadline)
            tls = session
            transport = session
        } catch {
            if let socketError = error.socketError {
                let failure = MySQLError(socketError, timeout: operation.seconds, limit: operation.name)
                throw MySQLError(.connection, "TLS handshake failed: \(failure.message)")
            }
            throw MySQLError(error.kind == .configuration ? .configuration : .connection, error.message)
        }
    }

    func writePacket(_ payload: [UInt8], sequence: inout UInt8) throws(MySQLError) {
        var offset = 0
        repeat {
            let length = min(Self.maxFrame, payload.count - offset)
            var frame: [UInt8] = [UInt8(length & 0xff), UInt8((length >> 8) & 0xff), UInt8(length >> 16), sequence]
            frame.append(contentsOf: payload[offset..<offset + length])
            let (deadline, seconds, limit) = waitDeadline(writeTimeout, "writeTimeout")
            do throws(SocketError) {
                try transport.write(frame, deadline: deadline)
            } catch {
                throw MySQLError(error, timeout: seconds, limit: limit)
            }
            sequence &+= 1
            offset += length
            if length < Self.maxFrame { break }
        } while true
    }

    func readPacket(sequence: inout UInt8) throws(MySQLError) -> [UInt8] {
        var payload: [UInt8] = []
        while true {
            let header = try read(4)
            let length = Int(header[0]) | Int(header[1]) << 8 | Int(header[2]) << 16
            guard payload.count + length <= Self.maximumPacketLength else {
                throw MySQLError(.protocolViolation, "the server at \(address) sent a packet of more than "
                    + "\(Self.maximumPacketLength >> 20) MiB, more than this client accepts")
            }
            sequence = header[3] &+ 1
            payload += try read(length)
            if length < Self.maxFrame { return payload }
        }
    }

    /// The earlier of the operation's deadline and `perCall` from now, with the limit that applies.
    private func waitDeadline(_ perCall: Double, _ name: String) -> (Date, Double, String) {
        let own = Date().addingTimeInterval(perCall)
        return operation.deadline < own ? (operation.deadline, operation.seconds, operation.name) : (own, perCall, name)
    }

    /// Exactly `count` bytes.
    private func read(_ count: Int) throws(MySQLError) -> [UInt8] {
        while buffer.count - bufferStart < count {
            let chunk: [UInt8]
            let (deadline, seconds, limit) = waitDeadline(readTimeout, "readTimeout")
            do throws(SocketError) {
                chunk = try transport.readSome(deadline: deadline)
            } catch {
                throw MySQLError(error, timeout: seconds, limit: limit)
            }
            if bufferStart > 0 {
                buffer.removeFirst(bufferStart)
                bufferStart = 0
            }
            buffer += chunk
        }
        let out = Array(buffer[bufferStart..<bufferStart + count])
        bufferStart += count
        if bufferStart == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            bufferStart = 0
        }
        return out
    }

    func close() {
        transport.close()
    }
}
