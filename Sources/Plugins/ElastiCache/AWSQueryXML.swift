import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

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
enum AWSQueryXML {
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
