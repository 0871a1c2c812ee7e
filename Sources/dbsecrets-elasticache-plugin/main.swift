// The ElastiCache plugin as its own executable: dbsecrets starts it only for ElastiCache
// connections, so its XML parser is never loaded by other commands.
import DBPlugin
import ElastiCachePlugin
import Foundation
import PluginProcess

CoreDumps.disable()
// dbsecrets passes its own stop on (and a terminal's Ctrl-C reaches both): the call in progress
// ends within a second, as a lost connection would, instead of being killed mid-answer.
signal(SIGTERM) { _ in StopRequest.flag = 1 }
signal(SIGINT) { _ in StopRequest.flag = 1 }
exit(PluginServer.serve(ElastiCachePlugin()))
