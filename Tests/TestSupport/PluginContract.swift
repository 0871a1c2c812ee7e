import DBPlugin
import Foundation
import XCTest

/// The contract of `DatabasePlugin` (its doc comment), as one list of clauses every plugin is run
/// through against its real server, as Vault's `dbtesting` helpers run every plugin. Each plugin's
/// test target describes how to reach its server (a `Subject`) and calls `verify`; a clause that
/// fails is reported with its name.
public struct PluginContract {
    public struct Subject {
        /// A fresh plugin, initialized against the real server with verification.
        public var makePlugin: () throws -> DatabasePlugin
        /// Creation statements that make a user who can log in; nil for a plugin without
        /// dynamic users, which must refuse `newUser` and `deleteUser` as unsupported.
        public var creationStatements: [String]?
        /// Makes a user the way an operator would for a static role, outside the plugin, logging
        /// in with the password given; returns the name the plugin knows it by.
        public var createUser: (_ password: String) throws -> String
        /// Whether `username` logs in with `password`, asked of an independent client.
        public var canLogIn: (_ username: String, _ password: String) throws -> Bool
        /// Drops a user a clause made, whatever state it is in.
        public var dropUser: (_ username: String) -> Void

        public init(makePlugin: @escaping () throws -> DatabasePlugin, creationStatements: [String]?,
                    createUser: @escaping (String) throws -> String, canLogIn: @escaping (String, String) throws -> Bool,
                    dropUser: @escaping (String) -> Void) {
            self.makePlugin = makePlugin
            self.creationStatements = creationStatements
            self.createUser = createUser
            self.canLogIn = canLogIn
            self.dropUser = dropUser
        }
    }

    /// Runs every clause, each on a plugin of its own.
    public static func verify(_ subject: Subject, file: StaticString = #filePath, line: UInt = #line) {
        let contract = PluginContract(subject: subject)
        let clauses: [(String, () throws -> Void)] = [
            ("new user logs in with its password", contract.newUserLogsIn),
            ("new user takes the name generateUsername gave", contract.newUserTakesTheGeneratedName),
            ("checkPassword never contradicts the database", contract.checkPasswordNeverContradictsTheDatabase),
            ("update password replaces the old one", contract.updatePasswordReplacesTheOldOne),
            ("update expiration keeps the user working", contract.updateExpirationKeepsTheUserWorking),
            ("delete is idempotent", contract.deleteIsIdempotent),
            ("an unknown user is never created", contract.unknownUserIsNeverCreated),
            ("an empty update is refused and changes nothing", contract.emptyUpdateIsRefused),
            ("two passwords: the retained one logs in until discarded, or the request is refused", contract.twoPasswords),
            ("self-managed: the account changes its own password, or the request is refused", contract.selfManagedPassword),
            ("close twice", contract.closeTwice),
        ]
        for (name, clause) in clauses {
            do {
                try clause()
            } catch let error as ClauseFailure {
                XCTFail("plugin contract, \(name): \(error.message)", file: file, line: line)
            } catch {
                XCTFail("plugin contract, \(name): unexpected \(error)", file: file, line: line)
            }
        }
    }

    let subject: Subject

    struct ClauseFailure: Error { var message: String }

    private func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ClauseFailure(message: message()) }
    }

    private func pluginError(_ body: () throws -> Void) -> PluginError? {
        do {
            try body()
            return nil
        } catch {
            return error as? PluginError ?? PluginError(.database, "not a PluginError: \(error)")
        }
    }

    private func password() -> String { "Contract-pw-" + UUID().uuidString.prefix(18) }

    private func uniqueName() -> String { "contract-missing-" + UUID().uuidString.prefix(8).lowercased() }

    private func withPlugin(_ body: (DatabasePlugin) throws -> Void) throws {
        let plugin = try subject.makePlugin()
        defer { plugin.close() }
        try body(plugin)
    }

    /// A user to work on: made by the plugin when it has dynamic users, else by the operator.
    private func someUser(_ plugin: DatabasePlugin, password: String) throws -> String {
        guard let statements = subject.creationStatements else { return try subject.createUser(password) }
        return try plugin.newUser(NewUserRequest(
            usernameConfig: UsernameMetadata(displayName: "contract", roleName: "contract"), statements: statements,
            password: password, expiration: Date().addingTimeInterval(3600))).username
    }

    func newUserLogsIn() throws {
        try withPlugin { plugin in
            let password = password()
            guard let statements = subject.creationStatements else {
                let error = pluginError {
                    _ = try plugin.newUser(NewUserRequest(usernameConfig: UsernameMetadata(displayName: "contract", roleName: "contract"),
                                                          statements: [], password: password, expiration: Date().addingTimeInterval(60)))
                }
                try expect(error?.kind == .unsupported, "newUser should be unsupported, got \(String(describing: error))")
                return
            }
            let username = try plugin.newUser(NewUserRequest(
                usernameConfig: UsernameMetadata(displayName: "contract", roleName: "contract"), statements: statements,
                password: password, expiration: Date().addingTimeInterval(3600))).username
            defer { subject.dropUser(username) }
            try expect(!username.isEmpty, "the username is empty")
            try expect(try subject.canLogIn(username, password), "\(username) cannot log in with its password")
        }
    }

    /// The engine records the name in its intent before the user exists, then asks for that name.
    func newUserTakesTheGeneratedName() throws {
        try withPlugin { plugin in
            let metadata = UsernameMetadata(displayName: "contract", roleName: "contract")
            guard let statements = subject.creationStatements else {
                let error = pluginError { _ = try plugin.generateUsername(metadata) }
                try expect(error?.kind == .unsupported, "generateUsername should be unsupported, got \(String(describing: error))")
                return
            }
            let name = try plugin.generateUsername(metadata)
            defer { subject.dropUser(name) }
            try expect(!name.isEmpty, "the generated name is empty")
            try expect(!(try subject.canLogIn(name, "anything")), "\(name) exists before newUser")
            let password = password()
            let made = try plugin.newUser(NewUserRequest(usernameConfig: metadata, username: name, statements: statements,
                                                         password: password, expiration: Date().addingTimeInterval(3600))).username
            try expect(made == name, "newUser made \(made), not the name it was given, \(name)")
            try expect(try subject.canLogIn(name, password), "\(name) cannot log in with its password")
        }
    }

    /// Recovery asks `checkPassword` which password the database holds: an answer may be nil (the
    /// plugin cannot tell), never wrong.
    func checkPasswordNeverContradictsTheDatabase() throws {
        try withPlugin { plugin in
            let right = password()
            let username = try someUser(plugin, password: right)
            defer { subject.dropUser(username) }
            let yes = try plugin.checkPassword(username: username, password: right)
            let no = try plugin.checkPassword(username: username, password: password())
            try expect(yes != false, "checkPassword says the password \(username) logs in with is wrong")
            try expect(no != true, "checkPassword says a wrong password of \(username) is right")
            try expect(try plugin.checkPassword(username: uniqueName(), password: right) != true, "checkPassword accepts a user that does not exist")
        }
    }

    func updatePasswordReplacesTheOldOne() throws {
        try withPlugin { plugin in
            let old = password(), new = password()
            let username = try someUser(plugin, password: old)
            defer { subject.dropUser(username) }
            _ = try plugin.updateUser(UpdateUserRequest(username: username, password: PasswordChange(newPassword: new, statements: [])))
            try expect(try subject.canLogIn(username, new), "\(username) cannot log in with the new password")
            try expect(!(try subject.canLogIn(username, old)), "\(username) still logs in with the old password")
        }
    }

    func updateExpirationKeepsTheUserWorking() throws {
        try withPlugin { plugin in
            let password = password()
            let username = try someUser(plugin, password: password)
            defer { subject.dropUser(username) }
            _ = try plugin.updateUser(UpdateUserRequest(
                username: username, expiration: ExpirationChange(newExpiration: Date().addingTimeInterval(7200), statements: [])))
            try expect(try subject.canLogIn(username, password), "\(username) cannot log in after its expiration moved")
        }
    }

    func deleteIsIdempotent() throws {
        try withPlugin { plugin in
            guard subject.creationStatements != nil else {
                let error = pluginError { _ = try plugin.deleteUser(DeleteUserRequest(username: uniqueName(), statements: [])) }
                try expect(error?.kind == .unsupported, "deleteUser should be unsupported, got \(String(describing: error))")
                return
            }
            let password = password()
            let username = try someUser(plugin, password: password)
            defer { subject.dropUser(username) }
            _ = try plugin.deleteUser(DeleteUserRequest(username: username, statements: []))
            try expect(!(try subject.canLogIn(username, password)), "\(username) still logs in after deleteUser")
            _ = try plugin.deleteUser(DeleteUserRequest(username: username, statements: []))
        }
    }

    func unknownUserIsNeverCreated() throws {
        try withPlugin { plugin in
            let username = uniqueName(), password = password()
            defer { subject.dropUser(username) }
            let error = pluginError {
                _ = try plugin.updateUser(UpdateUserRequest(username: username, password: PasswordChange(newPassword: password, statements: [])))
            }
            try expect(error != nil, "changing the password of \(username), who does not exist, succeeded")
            try expect(error?.kind != .invalidConfiguration, "a missing user is not a configuration mistake: \(String(describing: error))")
            try expect(!(try subject.canLogIn(username, password)), "changing the password of a missing user created \(username)")
            if subject.creationStatements != nil {
                _ = try plugin.deleteUser(DeleteUserRequest(username: username, statements: []))
            }
        }
    }

    func emptyUpdateIsRefused() throws {
        try withPlugin { plugin in
            let password = password()
            let username = try someUser(plugin, password: password)
            defer { subject.dropUser(username) }
            let error = pluginError { _ = try plugin.updateUser(UpdateUserRequest(username: username)) }
            try expect(error == UpdateUserRequest.noChanges, "expected \(UpdateUserRequest.noChanges), got \(String(describing: error))")
            try expect(try subject.canLogIn(username, password), "\(username) no longer logs in after a refused update")
        }
    }

    /// `PluginFeature.twoPasswords`: a retaining change keeps the current password valid beside the
    /// new one, the next drops the one it kept before, a discard leaves only the current one (and
    /// may be repeated). A plugin without the feature refuses it as unsupported, changing nothing.
    func twoPasswords() throws {
        try withPlugin { plugin in
            let first = password(), second = password(), third = password()
            let username = try someUser(plugin, password: first)
            defer { subject.dropUser(username) }
            let retaining = UpdateUserRequest(username: username,
                                              password: PasswordChange(newPassword: second, statements: [], retainedPassword: first))
            guard try plugin.supports(.twoPasswords) else {
                let error = pluginError { _ = try plugin.updateUser(retaining) }
                try expect(error?.kind == .unsupported, "a two-password change should be unsupported, got \(String(describing: error))")
                try expect(try subject.canLogIn(username, first) && !(try subject.canLogIn(username, second)), "a refused change changed something")
                return
            }
            _ = try plugin.updateUser(retaining)
            try expect(try subject.canLogIn(username, second), "\(username) cannot log in with the new password")
            try expect(try subject.canLogIn(username, first), "\(username) cannot log in with the retained password")
            _ = try plugin.updateUser(UpdateUserRequest(username: username, password: PasswordChange(
                newPassword: third, statements: [], retainedPassword: second, discardedPassword: first)))
            try expect(try subject.canLogIn(username, third) && (try subject.canLogIn(username, second)), "the next change lost a password")
            try expect(!(try subject.canLogIn(username, first)), "the next change kept the password retained before it")
            let discard = UpdateUserRequest(username: username,
                                            discardPreviousPassword: PreviousPasswordDiscard(currentPassword: third, previousPassword: second))
            _ = try plugin.updateUser(discard)
            try expect(try subject.canLogIn(username, third), "the discard lost the current password")
            try expect(!(try subject.canLogIn(username, second)), "the discarded password still logs in")
            _ = try plugin.updateUser(discard)
        }
    }

    /// `PluginFeature.selfManagedPassword`: the account logs in with its current password and
    /// changes it; a wrong current password changes nothing. A plugin without the feature refuses it.
    func selfManagedPassword() throws {
        try withPlugin { plugin in
            let current = password(), new = password()
            let username = try someUser(plugin, password: current)
            defer { subject.dropUser(username) }
            let change = UpdateUserRequest(username: username, password: PasswordChange(newPassword: new, statements: []),
                                           selfManagedPassword: current)
            guard try plugin.supports(.selfManagedPassword) else {
                let error = pluginError { _ = try plugin.updateUser(change) }
                try expect(error?.kind == .unsupported, "a self-managed change should be unsupported, got \(String(describing: error))")
                try expect(try subject.canLogIn(username, current), "a refused change changed something")
                return
            }
            _ = try plugin.updateUser(change)
            try expect(try subject.canLogIn(username, new), "\(username) cannot log in with the password it set itself")
            try expect(!(try subject.canLogIn(username, current)), "\(username) still logs in with its old password")
            let wrong = pluginError {
                _ = try plugin.updateUser(UpdateUserRequest(username: username, password: PasswordChange(newPassword: password(), statements: []),
                                                            selfManagedPassword: "not-" + current))
            }
            try expect(wrong != nil && wrong?.outcome == .unchanged, "a wrong current password should fail unchanged, got \(String(describing: wrong))")
            try expect(try subject.canLogIn(username, new), "a failed self-managed change changed the password")
        }
    }

    func closeTwice() throws {
        let plugin = try subject.makePlugin()
        plugin.close()
        plugin.close()
    }
}
