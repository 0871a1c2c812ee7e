import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// One ElastiCache user as DescribeUsers and ModifyUser return it.
public struct ElastiCacheUser: Sendable, Equatable {
    public var userID: String
    public var userName: String
    public var status: String
    public var engine: String?
    public var accessString: String?
    public var authenticationType: String?
}

/// An element of a parsed response: enough of a tree to walk AWS Query responses.
struct XMLElementNode: Sendable {
    var name: String
    var text: String
    var children: [XMLElementNode]

    func child(_ name: String) -> XMLElementNode? { children.first { $0.name == name } }

    func children(_ name: String) -> [XMLElementNode] { children.filter { $0.name == name } }

    /// The first element with this name at any depth, this one included.
    func first(_ name: String) -> XMLElementNode? {
        if self.name == name { return self }
        for c in children { if let found = c.first(name) { return found } }
        return nil
    }
}

/// Reading AWS Query XML: `<Action>Response/<Action>Result` bodies and `ErrorResponse` errors.
enum ElastiCacheXML {
    /// Why a response body could not be understood; the text names what was expected.
    struct MalformedResponse: Error, Sendable {
        var reason: String
    }

    static func parse(_ data: Data) throws -> XMLElementNode {
        let builder = TreeBuilder()
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            let detail = parser.parserError.map { "\($0.localizedDescription)" } ?? "no root element"
            throw MalformedResponse(reason: "invalid XML at line \(parser.lineNumber): \(detail)")
        }
        return root
    }

    /// The `<Action>Result` element of a successful response.
    static func result(of action: String, in data: Data) throws -> XMLElementNode {
        let root = try parse(data)
        guard root.name == "\(action)Response" else {
            throw MalformedResponse(reason: "expected <\(action)Response>, got <\(root.name)>")
        }
        guard let result = root.child("\(action)Result") else {
            throw MalformedResponse(reason: "<\(action)Response> has no <\(action)Result>")
        }
        return result
    }

    static func describeUsers(_ data: Data) throws -> [ElastiCacheUser] {
        let result = try result(of: "DescribeUsers", in: data)
        guard let users = result.child("Users") else {
            throw MalformedResponse(reason: "<DescribeUsersResult> has no <Users>")
        }
        return try users.children("member").map(user)
    }

    static func modifyUser(_ data: Data) throws -> ElastiCacheUser {
        try user(try result(of: "ModifyUser", in: data))
    }

    static func user(_ node: XMLElementNode) throws -> ElastiCacheUser {
        func required(_ name: String) throws -> String {
            guard let value = node.child(name)?.text, !value.isEmpty else {
                throw MalformedResponse(reason: "user element without <\(name)>")
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

    /// `Code`, `Message` and the request id of an AWS error body (`<ErrorResponse><Error>` as in
    /// the Query protocol, or the `<Response><Errors><Error>` variant). Nil when the body is not one.
    static func serviceError(_ data: Data) -> (code: String, message: String, requestID: String?)? {
        guard let root = try? parse(data), let error = root.first("Error"),
              let code = error.child("Code")?.text, !code.isEmpty else { return nil }
        let requestID = root.first("RequestId")?.text ?? root.first("RequestID")?.text
        return (code, error.child("Message")?.text ?? "", requestID)
    }

    private final class TreeBuilder: NSObject, XMLParserDelegate {
        var stack: [XMLElementNode] = []
        var root: XMLElementNode?

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
            stack.append(XMLElementNode(name: local, text: "", children: []))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?) {
            guard var done = stack.popLast() else { return }
            done.text = done.text.trimmingCharacters(in: .whitespacesAndNewlines)
            if stack.isEmpty { root = done } else { stack[stack.count - 1].children.append(done) }
        }
    }
}
