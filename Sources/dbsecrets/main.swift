import CLI
import DBPlugin
import Foundation

CoreDumps.disable()

exit(CommandLineTool.run(Array(CommandLine.arguments.dropFirst()), terminal: .process()))
