import CLI
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

CoreDumps.disable()

exit(CommandLineTool.run(Array(CommandLine.arguments.dropFirst()), terminal: .process()))
