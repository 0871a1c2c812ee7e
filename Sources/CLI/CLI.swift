enum CLINamespace {}
