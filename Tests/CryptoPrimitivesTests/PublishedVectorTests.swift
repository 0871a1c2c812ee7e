import CryptoPrimitives
import XCTest

/// Every primitive against the published test vectors that define it.
final class PublishedVectorTests: XCTestCase {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    // FIPS 180-4 examples (NIST CSRC "SHA256.pdf").
    func testSHA256FIPSVectors() {
        XCTAssertEqual(SHA256.hash(bytes("abc")).hexString,
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hash(bytes("")).hexString,
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hash(bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).hexString,
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hash([UInt8](repeating: 0x61, count: 1_000_000)).hexString,
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testSHA1FIPSVectors() {
        XCTAssertEqual(SHA1.hash(bytes("abc")).hexString, "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(SHA1.hash(bytes("")).hexString, "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(SHA1.hash(bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).hexString,
                       "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
    }

    // RFC 1321 appendix A.5.
    func testMD5RFC1321Vectors() {
        XCTAssertEqual(MD5.hash(bytes("")).hexString, "d41d8cd98f00b204e9800998ecf8427e")
        XCTAssertEqual(MD5.hash(bytes("abc")).hexString, "900150983cd24fb0d6963f7d28e17f72")
        XCTAssertEqual(MD5.hash(bytes("message digest")).hexString, "f96b697d7cb7938d525a2f31aaf161d0")
        XCTAssertEqual(MD5.hash(bytes("12345678901234567890123456789012345678901234567890123456789012345678901234567890")).hexString,
                       "57edf4a22be3c955ac49da2e2107b67a")
    }

    // RFC 4231 test cases 1, 2 and 6 (key longer than the block).
    func testHMACSHA256RFC4231Vectors() {
        XCTAssertEqual(HMAC.sha256(key: [UInt8](repeating: 0x0b, count: 20), message: bytes("Hi There")).hexString,
                       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        XCTAssertEqual(HMAC.sha256(key: bytes("Jefe"), message: bytes("what do ya want for nothing?")).hexString,
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        XCTAssertEqual(HMAC.sha256(key: [UInt8](repeating: 0xaa, count: 131),
                                   message: bytes("Test Using Larger Than Block-Size Key - Hash Key First")).hexString,
                       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    // RFC 2202 test case 2.
    func testHMACSHA1RFC2202Vector() {
        XCTAssertEqual(HMAC.sha1(key: bytes("Jefe"), message: bytes("what do ya want for nothing?")).hexString,
                       "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
    }

    // PBKDF2-HMAC-SHA256 vectors in the style of RFC 6070 (as published for SHA-256, RFC 7914 §11).
    func testPBKDF2SHA256Vectors() {
        XCTAssertEqual(PBKDF2.sha256(password: bytes("passwd"), salt: bytes("salt"), iterations: 1, keyLength: 64).hexString,
                       "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
        XCTAssertEqual(PBKDF2.sha256(password: bytes("password"), salt: bytes("salt"), iterations: 2, keyLength: 32).hexString,
                       "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43")
        XCTAssertEqual(PBKDF2.sha256(password: bytes("password"), salt: bytes("salt"), iterations: 4096, keyLength: 32).hexString,
                       "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a")
    }

    // RFC 7677 §3: the SCRAM-SHA-256 example, computed from the primitives.
    func testSCRAMSHA256RFC7677Example() {
        let salted = PBKDF2.sha256(password: bytes("pencil"), salt: Array(Data(base64Encoded: "W22ZaJ0SNY7soEsUEjb6gQ==")!), iterations: 4096, keyLength: 32)
        let clientKey = HMAC.sha256(key: salted, message: bytes("Client Key"))
        let storedKey = SHA256.hash(clientKey)
        let authMessage = "n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
        let signature = HMAC.sha256(key: storedKey, message: bytes(authMessage))
        let proof = zip(clientKey, signature).map { $0 ^ $1 }
        XCTAssertEqual(Data(proof).base64EncodedString(), "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    }
}

import Foundation
