// The ElastiCache plugin as its own executable: dbsecrets starts it only for ElastiCache
// connections, so its XML parser is never loaded by other commands.
import DBPlugin
import ElastiCachePlugin
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PluginProcess

CoreDumps.disable()
// dbsecrets passes its own stop on (and a terminal's Ctrl-C reaches both). Waiting for a user to
// be active, the plugin ends the wait and answers (killed two seconds later if it has not); at any
// other moment it goes at once, as before.
signal(SIGTERM, ElastiCacheStop.handle)
signal(SIGINT, ElastiCacheStop.handle)
exit(PluginServer.serve(ElastiCachePlugin()))
