import ArgumentParser

@main
struct Hark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hark",
        abstract: "Live speech recognition for Linux.",
        subcommands: []
    )
}
