enum EngineNamespace {}
