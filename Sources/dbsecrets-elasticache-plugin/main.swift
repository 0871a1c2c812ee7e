// The ElastiCache plugin as its own executable: dbsecrets starts it only for ElastiCache
// connections, so its HTTPS stack is never loaded by other commands.
import DBPlugin
import ElastiCachePlugin
import Foundation
import PluginProcess

CoreDumps.disable()
exit(PluginServer.serve(ElastiCachePlugin()))
