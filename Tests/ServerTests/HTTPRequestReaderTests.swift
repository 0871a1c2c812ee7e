import DBPlugin
@testable import Server
import TestSupport
import XCTest

/// A client's bytes, delivered in the pieces given; then, when they run out, the client hangs
/// (reads time out at their deadline) or closes.
final class MemoryStream: ByteStream {
    var pieces: [[UInt8]]
    var written: [UInt8] = []
    let closesAtEnd: Bool
    var isOpen = true
    let address = "memory"

    init(_ pieces: [String], closesAtEnd: Bool = true) {
        self.pieces = pieces.map { Array($0.utf8) }
        self.closesAtEnd = closesAtEnd
    }

    func write(_ bytes: [UInt8], deadline: Date) throws(SocketError) { written += bytes }

    func readSome(maxCount: Int, deadline: Date) throws(SocketError) -> [UInt8] {
        guard !pieces.isEmpty else {
            if closesAtEnd { throw SocketError(.closed, .read, address: address, byPeer: true) }
            throw SocketError(.timeout, .read, address: address)
        }
        let piece = pieces.removeFirst()
        if piece.count > maxCount {
            pieces.insert(Array(piece[maxCount...]), at: 0)
            return Array(piece[..<maxCount])
        }
        return piece
    }

    func close() { isOpen = false }
}

final class HTTPRequestReaderTests: XCTestCase {
    func read(_ pieces: [String], limits: ServerLimits = ServerLimits(), closesAtEnd: Bool = true,
              stream: MemoryStream? = nil) throws(HTTPRequestReader.Failure) -> HTTPRequest {
        let stream = stream ?? MemoryStream(pieces, closesAtEnd: closesAtEnd)
        return try HTTPRequestReader(stream: stream, limits: limits)
            .next(idleUntil: Date().addingTimeInterval(1), stopping: { false }, sendContinue: {})
    }

    func refusal(_ pieces: [String], limits: ServerLimits = ServerLimits()) -> Int? {
        do throws(HTTPRequestReader.Failure) {
            _ = try read(pieces, limits: limits)
            return nil
        } catch {
            if case .refused(let response, _) = error { return response.status }
            return -1
        }
    }

    func testARequestInPiecesWithItsHeadersAndBody() throws {
        let request = try read(["PUT /v1/database/roles/r?x=1&y=a%20b&y=c+d HTTP/1.1\r\nHost: h\r\nX-Vault-Token:  t \r\n",
                                "Content-Length: 7\r\n\r\n{\"a\":", "1}"])
        XCTAssertEqual(request.method, "PUT")
        XCTAssertEqual(request.path, "/v1/database/roles/r")
        XCTAssertEqual(request.query.map { "\($0.name)=\($0.value)" }, ["x=1", "y=a b", "y=c d"])
        XCTAssertEqual(request.header("X-VAULT-TOKEN"), "t")
        XCTAssertEqual(String(decoding: request.body, as: UTF8.self), "{\"a\":1}")
        XCTAssertTrue(request.wantsKeepAlive)
    }

    func testChunkedBodiesWithExtensionsAndTrailers() throws {
        let request = try read(["POST /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                                "3;ext=1\r\n{\"a\r\n", "A\r\n\":\"bcdefg\"\r\n", "1\r\n}\r\n0\r\nTrailer: x\r\n\r\n"])
        XCTAssertEqual(String(decoding: request.body, as: UTF8.self), "{\"a\":\"bcdefg\"}")
    }

    func testPipelinedRequestsAreReadOneAfterAnother() throws {
        let stream = MemoryStream(["GET /v1/a HTTP/1.1\r\n\r\nGET /v1/b HTTP/1.1\r\nConnection: close\r\n\r\n"])
        let reader = HTTPRequestReader(stream: stream, limits: ServerLimits())
        let idle = Date().addingTimeInterval(1)
        let first = try reader.next(idleUntil: idle, stopping: { false }, sendContinue: {})
        let second = try reader.next(idleUntil: idle, stopping: { false }, sendContinue: {})
        XCTAssertEqual([first.path, second.path], ["/v1/a", "/v1/b"])
        XCTAssertFalse(second.wantsKeepAlive)
        XCTAssertThrowsError(try reader.next(idleUntil: idle, stopping: { false }, sendContinue: {}))
    }

    func testExpect100ContinueIsAnsweredBeforeTheBodyIsRead() throws {
        let stream = MemoryStream(["PUT /v1/x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", "{}"])
        var continued = 0
        let request = try HTTPRequestReader(stream: stream, limits: ServerLimits())
            .next(idleUntil: Date().addingTimeInterval(1), stopping: { false }, sendContinue: { continued += 1 })
        XCTAssertEqual(continued, 1)
        XCTAssertEqual(request.body, Array("{}".utf8))
    }

    func testLimitsAndMalformedRequests() {
        var small = ServerLimits()
        small.maximumRequestBytes = 10
        small.maximumHeaderBytes = 100
        XCTAssertEqual(refusal(["PUT /v1/x HTTP/1.1\r\nContent-Length: 11\r\n\r\n"], limits: small), 413, "refused before the body is read")
        XCTAssertEqual(refusal(["PUT /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n"], limits: small), 413)
        XCTAssertEqual(refusal(["GET /v1/x HTTP/1.1\r\nX: " + String(repeating: "a", count: 200) + "\r\n\r\n"], limits: small), 431)
        XCTAssertEqual(refusal(["GET /v1/x HTTP/1.1\r\n" + String(repeating: "A: b\r\n", count: 101) + "\r\n"]), 431)
        XCTAssertEqual(refusal(["GET /v1/x HTTP/2.0\r\n\r\n"]), 505)
        XCTAssertEqual(refusal(["GET /v1/x\r\n\r\n"]), 400)
        XCTAssertEqual(refusal(["GET v1/x HTTP/1.1\r\n\r\n"]), 400)
        XCTAssertEqual(refusal(["G(T /v1/x HTTP/1.1\r\n\r\n"]), 400)
        XCTAssertEqual(refusal(["GET /v1/%zz HTTP/1.1\r\n\r\n"]), 400)
        XCTAssertEqual(refusal(["GET /v1/%00 HTTP/1.1\r\n\r\n"]), 400)
        XCTAssertEqual(refusal(["GET /v1/x HTTP/1.1\r\nBad Header: x\r\n\r\n"]), 400)
        XCTAssertEqual(refusal(["GET /v1/x HTTP/1.1\r\nA: b\r\n folded\r\n\r\n"]), 400)
        XCTAssertEqual(refusal(["GET /v1/x HTTP/1.1\r\nA: b\u{1}c\r\n\r\n"]), 400)
        XCTAssertEqual(refusal(["PUT /v1/x HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"]), 400)
        XCTAssertEqual(refusal(["PUT /v1/x HTTP/1.1\r\nContent-Length: -1\r\n\r\n"]), 400)
        XCTAssertEqual(refusal(["PUT /v1/x HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"]), 400, "no smuggling")
        XCTAssertEqual(refusal(["PUT /v1/x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"]), 501)
        XCTAssertEqual(refusal(["PUT /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]), 400)
        XCTAssertEqual(refusal(["PUT /v1/x HTTP/1.1\r\nExpect: something\r\nContent-Length: 2\r\n\r\n{}"]), 417)
    }

    func testAClientThatStopsHalfWayBreaksOnlyItsRequest() {
        var quick = ServerLimits()
        quick.headerTimeout = 0.05
        quick.readTimeout = 0.05
        for pieces in [["GET /v1/x HTTP/1.1\r\nHost"], ["PUT /v1/x HTTP/1.1\r\nContent-Length: 10\r\n\r\n{\"a"]] {
            for closes in [true, false] {
                do throws(HTTPRequestReader.Failure) {
                    _ = try read(pieces, limits: quick, closesAtEnd: closes)
                    XCTFail("read a request that never ended")
                } catch {
                    guard case .broken = error else { return XCTFail("\(error)") }
                }
            }
        }
    }

    func testNothingBetweenRequestsIsNoRequest() {
        for closes in [true, false] {
            do throws(HTTPRequestReader.Failure) {
                _ = try HTTPRequestReader(stream: MemoryStream(["\r\n"], closesAtEnd: closes), limits: ServerLimits())
                    .next(idleUntil: Date().addingTimeInterval(0.3), stopping: { false }, sendContinue: {})
                XCTFail("a request out of nothing")
            } catch {
                guard case .noRequest = error else { return XCTFail("\(error)") }
            }
        }
    }

    func testAbsoluteFormTargetsAndHTTP10() throws {
        let request = try read(["GET http://127.0.0.1:8200/v1/sys/health?x=1 HTTP/1.0\r\n\r\n"])
        XCTAssertEqual(request.path, "/v1/sys/health")
        XCTAssertFalse(request.wantsKeepAlive)
        XCTAssertTrue(try read(["GET /v1/x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"]).wantsKeepAlive)
    }

    /// Random and damaged requests, split at random: every input ends in a request or a failure,
    /// quickly, without a crash.
    func testFuzzedRequestsEndInARequestOrAFailure() {
        let seeds = ["GET /v1/database/creds/ro HTTP/1.1\r\nX-Vault-Token: t\r\n\r\n",
                     "PUT /v1/database/roles/r HTTP/1.1\r\nContent-Length: 4\r\n\r\n{\"\":1}",
                     "POST /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"]
        let fragments = ["\r\n", "\r\n\r\n", ":", " ", "Content-Length: ", "Transfer-Encoding: chunked", "%", "?", "0\r\n", "ffffffffffff",
                         "Expect: 100-continue", "HTTP/1.1", "\n"]
        var limits = ServerLimits()
        limits.headerTimeout = 0.01
        limits.readTimeout = 0.01
        limits.maximumRequestBytes = 4096
        FuzzRun("HTTP request reader", seconds: 0.5).loop { run in
            let text = run.generator.mutated(seeds, fragments: fragments)
            var pieces: [String] = []
            var rest = Substring(text)
            while !rest.isEmpty {
                let count = run.generator.int(1...max(1, rest.count))
                pieces.append(String(rest.prefix(count)))
                rest = rest.dropFirst(count)
            }
            run.input(text.debugDescription)
            do throws(HTTPRequestReader.Failure) {
                let request = try read(pieces, limits: limits, closesAtEnd: run.generator.chance(2))
                if request.body.count > limits.maximumRequestBytes { run.fail("a body over the limit") }
            } catch {}
        }
    }
}
