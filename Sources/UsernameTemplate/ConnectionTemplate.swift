extension UsernameTemplate {
    /// How a plugin reads its `username_template` connection parameter: the configured template,
    /// else the plugin's default; parsed, then rendered once with empty metadata, so a template
    /// that cannot work is refused when the connection is written rather than at creds time.
    /// Errors carry Vault's plugin messages. Returns the template and that sample rendering, which
    /// plugins check against their length limits.
    public static func forConnection(_ configured: String?, default defaultSource: String) throws -> (template: UsernameTemplate, sample: String) {
        let source = configured.flatMap { $0.isEmpty ? nil : $0 } ?? defaultSource
        let template: UsernameTemplate
        do {
            template = try UsernameTemplate(source)
        } catch {
            throw Error("unable to initialize username template: \(error)")
        }
        do {
            return (template, try template.render(displayName: "", roleName: ""))
        } catch {
            throw Error("invalid username template: \(error)")
        }
    }
}
