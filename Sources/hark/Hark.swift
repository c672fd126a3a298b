import ArgumentParser
import Glibc

@main
struct Hark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hark",
        abstract: "Live speech recognition for Linux.",
        discussion: """
        Audio from an ALSA device (or a file) becomes text, keyword events and timestamps \
        while it arrives, with Hark's own model (share/model.safetensors; --model for another). \
        Diagnostics go to stderr; results go to stdout. Errors read 'hark <command>: <what>'; \
        the exit is 1 for bad input (a file, a device, a model) and 64 for a mistake in the \
        command line, which is followed by the command's usage.
        """,
        subcommands: [ListenCommand.self, SpotCommand.self, TranscribeCommand.self, DevicesCommand.self, RecordCommand.self,
                      FeaturesCommand.self, ModelCommand.self, TrainCommand.self, EvalCommand.self, LatencyCommand.self,
                      EnrollCommand.self, AdaptCommand.self, LmCommand.self]
    )

    static func main() {
        // A file-size limit (ulimit -f) or quota then makes a write fail with EFBIG, which Hark
        // reports with the file's name, instead of killing the process mid-file.
        signal(SIGXFSZ, SIG_IGN)
        StopSignals.unblockInEveryThread()
        let arguments = Array(CommandLine.arguments.dropFirst())
        let path = commandPath(arguments)
        var command: ParsableCommand
        do { command = try parseAsRoot(arguments) } catch { fail(error, path) }
        do { try command.run() } catch { fail(error, path) }
    }

    /// The subcommands named at the front of `arguments` ("model", "threshold"), for messages.
    static func commandPath(_ arguments: [String]) -> [ParsableCommand.Type] {
        var path: [ParsableCommand.Type] = [Hark.self]
        for a in arguments {
            guard let next = path.last!.configuration.subcommands.first(where: { name(of: $0) == a }) else { break }
            path.append(next)
        }
        return path
    }

    static func name(of command: ParsableCommand.Type) -> String {
        command.configuration.commandName ?? String(describing: command).lowercased()
    }

    /// One error style: `hark <command>: <what>` on stderr. A mistake in the command line (a
    /// parse or validation error) is followed by the command's usage and exits 64; bad input
    /// (anything thrown while the command runs) exits 1. --help and ExitCode pass through.
    static func fail(_ error: Error, _ path: [ParsableCommand.Type]) -> Never {
        let code = exitCode(for: error)
        if code == .success || error is ExitCode || error is CleanExit { exit(withError: error) }
        let prefix = path.map(name(of:)).joined(separator: " ")
        let usage = code == .validationFailure
        var message = usage ? message(for: error) : String(describing: error)
        if message.isEmpty { message = String(describing: error) }
        var text = "\(prefix): \(message)\n"
        if usage {
            text += "Usage: " + usageString(for: path.last!).replacingOccurrences(of: "\n", with: "\n  ") + "\n"
            text += "  See '\(prefix) --help' for more information.\n"
        }
        Terminal.write(stderrLine: text)
        Glibc.exit(usage ? code.rawValue : 1)
    }
}
