import DBPlugin
import Foundation

/// The connection to a MySQL server as a stream of packets: 3-byte length, 1-byte sequence id,
/// payload split at 16 MiB - 1. Each wait for data is bounded by the read timeout and each packet
/// sent by the write timeout; socket failures become `MySQLError`s.
final class MySQLPacketStream {
    let address: MySQLAddress
    private let socket: BlockingSocket
    /// Bounds each wait for data; the connection narrows it to the connect timeout during login.
    var readTimeout: Double
    private let writeTimeout: Double
    private var buffer: [UInt8] = []
    private var bufferStart = 0

    private static let maxPayload = 0xff_ffff

    private init(socket: BlockingSocket, address: MySQLAddress, readTimeout: Double, writeTimeout: Double) {
        self.socket = socket
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
            return MySQLPacketStream(socket: socket, address: address, readTimeout: readTimeout,
                                     writeTimeout: writeTimeout)
        } catch {
            throw MySQLError(error, timeout: connectTimeout)
        }
    }

    func writePacket(_ payload: [UInt8], sequence: inout UInt8) throws(MySQLError) {
        var offset = 0
        repeat {
            let length = min(Self.maxPayload, payload.count - offset)
            var frame: [UInt8] = [UInt8(length & 0xff), UInt8((length >> 8) & 0xff), UInt8(length >> 16), sequence]
            frame.append(contentsOf: payload[offset..<offset + length])
            do throws(SocketError) {
                try socket.write(frame, deadline: Date().addingTimeInterval(writeTimeout))
            } catch {
                throw MySQLError(error, timeout: writeTimeout)
            }
            sequence &+= 1
            offset += length
            if length < Self.maxPayload { break }
        } while true
    }

    func readPacket(sequence: inout UInt8) throws(MySQLError) -> [UInt8] {
        var payload: [UInt8] = []
        while true {
            let header = try read(4)
            let length = Int(header[0]) | Int(header[1]) << 8 | Int(header[2]) << 16
            sequence = header[3] &+ 1
            payload += try read(length)
            if length < Self.maxPayload { return payload }
        }
    }

    /// Exactly `count` bytes; each wait for more is bounded by the read timeout.
    private func read(_ count: Int) throws(MySQLError) -> [UInt8] {
        while buffer.count - bufferStart < count {
            let chunk: [UInt8]
            do throws(SocketError) {
                chunk = try socket.readSome(deadline: Date().addingTimeInterval(readTimeout))
            } catch {
                throw MySQLError(error, timeout: readTimeout)
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
        socket.close()
    }
}
