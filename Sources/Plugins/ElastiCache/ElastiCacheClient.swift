import Foundation

/// The two ElastiCache operations the plugin needs.
final class ElastiCacheClient: @unchecked Sendable {
    let api: AWSQueryClient

    init(endpoint: URL, region: String, credentials: AWSCredentialCache, retryPolicy: AWSRetryPolicy, http: HTTPClient) {
        api = AWSQueryClient(service: .elastiCache, endpoint: endpoint, region: region, credentials: credentials,
                             retryPolicy: retryPolicy, http: http)
    }

    /// DescribeUsers; with a user id, that user only (AWS answers UserNotFound when absent).
    func describeUsers(userID: String? = nil) throws -> [ElastiCacheUser] {
        var parameters: [(String, String)] = []
        if let userID { parameters.append(("UserId", userID)) }
        let body = try api.call("DescribeUsers", parameters)
        do {
            return try ElastiCacheXML.describeUsers(body)
        } catch let e as AWSQueryXML.MalformedResponse {
            throw AWSAPIError(service: api.service.name, action: "DescribeUsers", failure: .malformed(e.reason))
        }
    }

    /// ModifyUser replacing the user's passwords with exactly these (1 or 2).
    @discardableResult
    func modifyUser(userID: String, passwords: [String]) throws -> ElastiCacheUser {
        var parameters = [("UserId", userID)]
        for (i, password) in passwords.enumerated() { parameters.append(("Passwords.member.\(i + 1)", password)) }
        let body = try api.call("ModifyUser", parameters)
        do {
            return try ElastiCacheXML.modifyUser(body)
        } catch let e as AWSQueryXML.MalformedResponse {
            throw AWSAPIError(service: api.service.name, action: "ModifyUser", failure: .malformed(e.reason))
        }
    }
}
