import DBPlugin
import Engine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `auth/token/`: the two paths of Vault's token store that clients call before they work, on
/// the server's one token, declared as the engine declares its paths and served by its router.
///
/// There are no child tokens: `auth/token/create` (which the Terraform provider calls first
/// unless `skip_child_token` is set) answers with the server's own token, whatever the request
/// asks for (TTL, policies, uses), and says so in a warning. What it gives can do exactly what
/// the caller could already do, and revoking it would lock every client out, so nothing revokes it.
enum TokenPaths {
    static func mount(_ token: ServerToken, _ identity: ServerIdentity) -> Mount {
        // Built here once: `Backend.paths` is evaluated at every use.
        let paths = [lookupSelf(token, identity), create(token)]
        return Mount(path: "auth/token/", backend: Backend(
            name: "token",
            help: "The server's token: looked up, and handed out again by create.",
            paths: paths))
    }

    static func lookupSelf(_ token: ServerToken, _ identity: ServerIdentity) -> PathDeclaration {
        let answer: PathDeclaration.Handler = { _, _ in
            EngineResponse(data: [
                "accessor": .string(token.accessor), "creation_time": .int(Int(identity.started.timeIntervalSince1970)),
                "creation_ttl": 0, "display_name": "root", "entity_id": "", "expire_time": nil, "explicit_max_ttl": 0,
                "id": .string(token.value), "meta": nil, "num_uses": 0, "orphan": true, "path": "auth/token/root",
                "policies": ["root"], "renewable": false, "ttl": 0, "type": "service",
            ])
        }
        return PathDeclaration(
            [.literal("lookup-self")], synopsis: "Look up the token of the request.",
            description: "The server's one token: root policy, no TTL, never expires (a Vault dev server's root token).",
            operations: [.read: answer, .write: answer])
    }

    static func create(_ token: ServerToken) -> PathDeclaration {
        PathDeclaration(
            [.literal("create")], synopsis: "Create a token (here: the server's own token).",
            description: """
            Answers with the server's own token in auth.client_token: there are no child tokens, so \
            the ttl, policies and other parameters are ignored (a warning says so).
            """,
            fields: [
                FieldDeclaration("ttl", .duration, "Ignored: the token has no TTL."),
                FieldDeclaration("policies", .commaList, "Ignored: the token has the root policy."),
                FieldDeclaration("display_name", .string, "Ignored."),
            ],
            takesArbitraryInput: true,
            operations: [.write: { _, _ in
                EngineResponse(data: nil, warnings: [
                    "dbsecrets server has one token: auth/token/create returns it, without a TTL and with the root policy, whatever was asked",
                ], auth: [
                    "client_token": .string(token.value), "accessor": .string(token.accessor),
                    "policies": ["root"], "token_policies": ["root"], "metadata": nil, "lease_duration": 0,
                    "renewable": false, "entity_id": "", "token_type": "service", "orphan": true,
                    "mfa_requirement": nil, "num_uses": 0,
                ])
            }])
    }
}
