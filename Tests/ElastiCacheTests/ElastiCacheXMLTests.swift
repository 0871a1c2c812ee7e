@testable import ElastiCachePlugin
import Foundation
import XCTest

/// Response bodies in the shapes AWS (and moto) send.
final class ElastiCacheXMLTests: XCTestCase {
    func testDescribeUsersResponse() throws {
        let xml = """
            <DescribeUsersResponse xmlns="http://elasticache.amazonaws.com/doc/2015-02-02/">
              <DescribeUsersResult>
                <Users>
                  <member>
                    <UserId>vault-test</UserId>
                    <UserName>vault-test</UserName>
                    <Status>active</Status>
                    <Engine>redis</Engine>
                    <MinimumEngineVersion>6.0</MinimumEngineVersion>
                    <AccessString>on ~* +@all</AccessString>
                    <UserGroupIds><member>vault-test-user-group</member></UserGroupIds>
                    <Authentication><Type>password</Type><PasswordCount>1</PasswordCount></Authentication>
                    <ARN>arn:aws:elasticache:us-east-1:123456789012:user:vault-test</ARN>
                  </member>
                  <member>
                    <UserId>default</UserId><UserName>default</UserName><Status>modifying</Status>
                    <Authentication><Type>no-password</Type></Authentication>
                  </member>
                </Users>
              </DescribeUsersResult>
              <ResponseMetadata><RequestId>Y87xxnmYPVLF</RequestId></ResponseMetadata>
            </DescribeUsersResponse>
            """
        let users = try ElastiCacheXML.describeUsers(Data(xml.utf8))
        XCTAssertEqual(users.count, 2)
        XCTAssertEqual(users[0], ElastiCacheUser(userID: "vault-test", userName: "vault-test", status: "active",
                                                 engine: "redis", accessString: "on ~* +@all",
                                                 authenticationType: "password"))
        XCTAssertEqual(users[1].status, "modifying")
        XCTAssertEqual(users[1].authenticationType, "no-password")
    }

    func testEmptyUserList() throws {
        let xml = "<DescribeUsersResponse><DescribeUsersResult><Users/></DescribeUsersResult></DescribeUsersResponse>"
        XCTAssertEqual(try ElastiCacheXML.describeUsers(Data(xml.utf8)), [])
    }

    func testModifyUserResponse() throws {
        let xml = """
            <ModifyUserResponse xmlns="http://elasticache.amazonaws.com/doc/2015-02-02/"><ModifyUserResult>
            <UserId>app</UserId><UserName>app_login</UserName><Status>modifying</Status></ModifyUserResult>
            <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ModifyUserResponse>
            """
        let user = try ElastiCacheXML.modifyUser(Data(xml.utf8))
        XCTAssertEqual(user.userID, "app")
        XCTAssertEqual(user.userName, "app_login")
        XCTAssertEqual(user.status, "modifying")
    }

    func testErrorResponse() throws {
        let xml = """
            <ErrorResponse xmlns="http://elasticache.amazonaws.com/doc/2015-02-02/">
              <Error><Type>Sender</Type><Code>UserNotFound</Code><Message>User nope not found.</Message></Error>
              <RequestId>OmMDgKLd</RequestId>
            </ErrorResponse>
            """
        let error = try XCTUnwrap(AWSQueryXML.serviceError(Data(xml.utf8)))
        XCTAssertEqual(error.code, "UserNotFound")
        XCTAssertEqual(error.message, "User nope not found.")
        XCTAssertEqual(error.requestID, "OmMDgKLd")
    }

    func testEC2StyleErrorResponse() throws {
        let xml = "<Response><Errors><Error><Code>AuthFailure</Code><Message>no</Message></Error></Errors>"
            + "<RequestID>abc</RequestID></Response>"
        let error = try XCTUnwrap(AWSQueryXML.serviceError(Data(xml.utf8)))
        XCTAssertEqual(error.code, "AuthFailure")
        XCTAssertEqual(error.requestID, "abc")
    }

    func testNonXMLIsNotAnErrorBody() {
        XCTAssertNil(AWSQueryXML.serviceError(Data("<html><body>Bad gateway".utf8)))
        XCTAssertNil(AWSQueryXML.serviceError(Data("{}".utf8)))
    }

    func testMalformedAndUnexpectedResponsesSayWhatWasExpected() {
        func reason(_ xml: String) -> String {
            do {
                _ = try ElastiCacheXML.describeUsers(Data(xml.utf8))
                return "no error"
            } catch let e as AWSQueryXML.MalformedResponse {
                return e.reason
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(reason("<DescribeUsersResponse><DescribeUsersResult>").hasPrefix("invalid XML at line"))
        XCTAssertEqual(reason("<ModifyUserResponse/>"), "expected <DescribeUsersResponse>, got <ModifyUserResponse>")
        XCTAssertEqual(reason("<DescribeUsersResponse/>"), "<DescribeUsersResponse> has no <DescribeUsersResult>")
        XCTAssertEqual(reason("<DescribeUsersResponse><DescribeUsersResult/></DescribeUsersResponse>"),
                       "<DescribeUsersResult> has no <Users>")
        XCTAssertEqual(reason("<DescribeUsersResponse><DescribeUsersResult><Users><member><UserId>x</UserId>"
                              + "</member></Users></DescribeUsersResult></DescribeUsersResponse>"),
                       "user element without <Status>")
        XCTAssertTrue(reason("").hasPrefix("invalid XML"))
    }
}
