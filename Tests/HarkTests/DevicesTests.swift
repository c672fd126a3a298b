import Foundation
import Testing
import TestSupport

/// `hark devices` lists what a user can open, first, and the errors that send users there agree
/// with it (issue 20: it used to list ALSA's plugin types, lavrate, speex, upmix…).
@Suite("hark devices", .serialized)
struct DevicesTests {
    /// The lines of the section that starts with `title`, up to the next section.
    static func section(_ out: String, _ title: String) -> [String] {
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.hasPrefix(title) }) else { return [] }
        return Array(lines[(start + 1)...].prefix { $0.hasPrefix(" ") })
    }

    @Test("a sound server running: its device opens and is listed first with what opening found; plugin types only with --all")
    func withServer() throws {
        let pulse = try PulseServer()
        defer { pulse.stop() }
        let r = try CLITests.run(["devices"], env: pulse.environment)
        #expect(r.status == 0, "\(r.err)")
        let open = Self.section(r.out, "Capture devices that open here")
        let i = try #require(open.firstIndex { $0.hasPrefix("  pulse ") }, "\(r.out)")
        #expect(open[i + 1].contains("→ opens for capture") && open[i + 1].contains("16000 Hz mono"), "\(r.out)")
        for plugin in ["lavrate", "speexrate", "upmix", "vdownmix"] {
            #expect(!r.out.contains("  \(plugin) "), "plugin type \(plugin) listed without --all: \(r.out)")
        }
        #expect(r.out.contains("--all lists them"), "\(r.out)")

        // --check reports exactly what the listing says.
        let c = try CLITests.run(["devices", "--check", "pulse"], env: pulse.environment)
        #expect(c.status == 0 && c.out == "pulse: " + open[i + 1].split(separator: "→ ", maxSplits: 1)[1] + "\n", "\(c.out) vs \(r.out)")

        let all = try CLITests.run(["devices", "--all"], env: pulse.environment)
        let plugins = Self.section(all.out, "ALSA plugin types")
        #expect(plugins.contains { $0.hasPrefix("  upmix ") } && plugins.contains { $0.hasPrefix("  speexrate ") }, "\(all.out)")
        #expect(!plugins.contains { $0.hasPrefix("  pulse ") }, "\(all.out)")
    }

    @Test("no server and no card: each device with the reason it does not open, exit 1, no library noise")
    func nothingOpens() throws {
        let env = ["PULSE_SERVER": "unix:/nonexistent/pulse", "JACK_DEFAULT_SERVER": "hark-test-none-\(getpid())"]
        let r = try CLITests.run(["devices"], env: env)
        #expect(r.status == 1 && r.err == "hark devices: no capture device opens here\n", "\(r.err)")
        let closed = Self.section(r.out, "Capture devices that do not open here")
        let pulse = try #require(closed.firstIndex { $0.hasPrefix("  pulse ") }, "\(r.out)")
        #expect(closed[pulse + 1].contains("its sound server is not running"), "\(r.out)")
        #expect(!closed[pulse + 1].contains("hark devices"), "the reason does not send the user back here")
        if let jack = closed.firstIndex(where: { $0.hasPrefix("  jack ") }) {
            #expect(closed[jack + 1].contains("its sound server is not running"), "JACK's ENOENT is a server down: \(r.out)")
        }
    }

    @Test("every error opening a device names it and points to `hark devices`", arguments: [
        (["listen", "--device", "hw:9"], "'hw:9' does not exist"),
        (["record", "/tmp/hark-devices-x.wav", "--device", "pulse"], "'pulse': its sound server is not running"),
        (["spot", "--keyword", "okay robot", "--device", "jack"], "'jack': its sound server is not running"),
        (["devices", "--check", "no_such_pcm"], "'no_such_pcm' does not exist"),
    ])
    func errorsPointToDevices(args: [String], says: String) throws {
        let r = try CLITests.run(args, env: ["PULSE_SERVER": "unix:/nonexistent/pulse", "JACK_NO_START_SERVER": "1",
                                             "JACK_DEFAULT_SERVER": "hark-test-none-\(getpid())"])
        #expect(r.status == 1, "\(r.err)")
        #expect(r.err.contains(says) && r.err.hasSuffix("; `hark devices` lists the capture devices that open here\n"), "\(r.err)")
    }
}
