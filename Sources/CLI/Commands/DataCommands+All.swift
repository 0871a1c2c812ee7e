extension DataCommands {
    static let all = [read, write, list, delete]
}
