import Foundation

/// One ElastiCache user as DescribeUsers and ModifyUser return it.
public struct ElastiCacheUser: Sendable, Equatable {
    public var userID: String
    public var userName: String
    public var status: String
    public var engine: String?
    public var accessString: String?
    public var authenticationType: String?
}

/// ElastiCache's answers: users, as DescribeUsers and ModifyUser return them.
enum ElastiCacheXML {
    static func describeUsers(_ data: Data) throws -> [ElastiCacheUser] {
        let result = try AWSQueryXML.result(of: "DescribeUsers", in: data)
        guard let users = result.child("Users") else {
            throw AWSQueryXML.MalformedResponse(reason: "<DescribeUsersResult> has no <Users>")
        }
        return try users.children("member").map(user)
    }

    static func modifyUser(_ data: Data) throws -> ElastiCacheUser {
        try user(try AWSQueryXML.result(of: "ModifyUser", in: data))
    }

    static func user(_ node: XMLElementNode) throws -> ElastiCacheUser {
        func required(_ name: String) throws -> String {
            guard let value = node.child(name)?.text, !value.isEmpty else {
                throw AWSQueryXML.MalformedResponse(reason: "user element without <\(name)>")
            }
            return value
        }
        return ElastiCacheUser(
            userID: try required("UserId"),
            userName: node.child("UserName")?.text ?? "",
            status: try required("Status"),
            engine: node.child("Engine")?.text,
            accessString: node.child("AccessString")?.text,
            authenticationType: node.first("Authentication")?.child("Type")?.text)
    }
}
