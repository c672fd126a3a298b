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
        Diagnostics go to stderr; results go to stdout.
        """,
        subcommands: [ListenCommand.self, SpotCommand.self, TranscribeCommand.self, DevicesCommand.self, RecordCommand.self,
                      FeaturesCommand.self, ModelCommand.self, TrainCommand.self, EvalCommand.self, LatencyCommand.self,
                      EnrollCommand.self, AdaptCommand.self]
    )

    static func main() {
        // A file-size limit (ulimit -f) or quota then makes a write fail with EFBIG, which Hark
        // reports with the file's name, instead of killing the process mid-file.
        signal(SIGXFSZ, SIG_IGN)
        main(nil)
    }
}
