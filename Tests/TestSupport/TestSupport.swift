@_exported import DBPlugin
