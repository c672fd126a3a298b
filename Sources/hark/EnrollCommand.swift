import ArgumentParser
import Decoding
import Foundation
import Glibc
import ModelTraining
import Stream

struct EnrollCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract: "Record takes of your keyword or phrases for `hark adapt`.",
        discussion: """
        Prompts for each take on the terminal, records --take-seconds of audio, trims the silence \
        around the speech, and checks it: a take that clips, is too quiet or holds no speech is \
        asked for again. Takes go to --out as take-NNN.wav plus takes.jsonl (audio, text, \
        category), a folder you can inspect, extend (numbering continues) or re-use. Without a \
        terminal (tests, --file, the ALSA file device) the takes are read one after another.
        """)

    @OptionGroup var input: InputOptions

    @Option(name: .long, help: ArgumentHelp("The keyword to enroll.", valueName: "text"))
    var keyword: String?

    @Option(name: .long, help: ArgumentHelp("Phrases to enroll (commands, digit strings), one per line, used in turn.", valueName: "file"))
    var phrases: String?

    @Option(name: .long, help: ArgumentHelp("Folder for the takes.", valueName: "dir"))
    var out: String

    @Option(name: .long, parsing: .unconditional, help: "Takes to record (1 to 1000).") var takes: Int = 20
    @Option(name: .long, parsing: .unconditional, help: "Seconds recorded per take (0.5 to 30).") var takeSeconds: Double = 2.5
    @Option(name: .long, parsing: .unconditional, help: "Attempts per take before giving up on it (1 to 100).") var attempts: Int = 3

    func validate() throws {
        guard (keyword == nil) != (phrases == nil) else { throw ValidationError("give --keyword or --phrases (one of them)") }
        try OptionRange.check("--takes", takes, 1, 1_000)
        try OptionRange.check("--take-seconds", takeSeconds, 0.5, 30, unit: "seconds")
        try OptionRange.check("--attempts", attempts, 1, 100)
    }

    struct Take: Encodable { var audio: String; var text: String; var category: String; var seconds: Double }

    func run() throws {
        var texts: [String]
        if let keyword {
            texts = [TokenSet.normalize(keyword)]
        } else {
            texts = try wrap("--phrases") { try Grammar.readList(path: phrases!, tokens: .english).entries }
        }
        for t in texts {
            do { _ = try TokenSet.english.encode(t) } catch { throw ValidationError("--keyword '\(t)': \(error)") }
        }
        guard !texts.contains(where: \.isEmpty) else { throw ValidationError("--keyword is empty") }
        let dir = URL(fileURLWithPath: out)
        do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
            throw InputError("--out \(out): cannot make the folder (\(describe(error)))")
        }
        let manifest = dir.appendingPathComponent("takes.jsonl")
        try checkOutputs(manifest.path)
        let existing = FileManager.default.fileExists(atPath: manifest.path)
            ? try wrap("--out") { try TextFile.lines(path: manifest.path, tabs: true) }.filter { !$0.text.isEmpty }.count : 0
        let source = try input.open()
        let signals = StopSignals(stopping: source)
        defer { _ = signals }
        let interactive = isatty(STDIN_FILENO) == 1 && input.file == nil
        let rate = Double(source.sampleRate)
        let perTake = Int(takeSeconds * rate)
        var saved = 0, failed = 0
        take: for i in 0..<takes {
            let text = texts[i % texts.count]
            for attempt in 1...attempts {
                Terminal.note("take \(i + 1)/\(takes)\(attempt > 1 ? " (again)" : ""): say \"\(text)\""
                              + (interactive ? " — press Enter, then speak" : ""))
                if interactive { _ = readLine() }
                var audio = [Float](), block = [Float](repeating: 0, count: 1600)
                while audio.count < perTake {
                    let n = try block.withUnsafeMutableBufferPointer {
                        try source.read(into: UnsafeMutableBufferPointer(rebasing: $0[0..<min($0.count, perTake - audio.count)]))
                    }
                    if n == 0 { break }
                    audio += block[0..<n]
                }
                if audio.count < perTake / 2 || signals.received {
                    Terminal.note("the input ended after \(saved) takes")
                    break take
                }
                switch TakeCheck.check(audio) {
                case let .bad(reason):
                    Terminal.note("  not kept: \(reason)")
                    failed += 1
                    continue
                case let .good(speech):
                    let name = String(format: "take-%03d.wav", existing + saved + 1)
                    let writer = try WAVWriter(path: dir.appendingPathComponent(name).path)
                    try speech.withUnsafeBufferPointer { try writer.write($0) }
                    try writer.finish()
                    let category = TakeCheck.category(of: text, keyword: keyword != nil)
                    let line = JSONLines.line(Take(audio: name, text: text, category: category, seconds: roundTo(Double(speech.count) / rate)))
                    let handle = try FileHandle(forWritingTo: manifest.path, creating: true)
                    try handle.seekToEnd()
                    try handle.write(contentsOf: Data((line + "\n").utf8))
                    try handle.close()
                    saved += 1
                    Terminal.note(String(format: "  kept %@ (%.1f s of speech)", name, Double(speech.count) / rate))
                    continue take
                }
            }
        }
        guard saved > 0 else {
            throw InputError("no take was kept\(failed > 0 ? " (\(failed) attempts not kept)" : ""); nothing to adapt on yet")
        }
        print("\(saved) takes in \(out)\(failed > 0 ? " (\(failed) attempts not kept)" : ""); next: hark adapt --samples \(out) --out my-model.safetensors")
    }
}

extension FileHandle {
    convenience init(forWritingTo path: String, creating: Bool) throws {
        if creating && !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)  // failure shows up as the open below failing
        }
        try self.init(forWritingTo: URL(fileURLWithPath: path))
    }
}
