import Decoding
import Foundation

/// Load time and resident memory of the dictation vocabulary and word language model (issue 19):
/// what `hark listen` pays before its first word. Goal ≤ 150 ms and ≤ 100 MB together.
enum LanguageModelBench {
    static func run(vocabulary: String, languageModel: String, repeats: Int = 7) throws {
        let rssBefore = residentKiB()
        var times: [(vocabulary: Double, lexicon: Double, lm: Double)] = []
        var cpu: [(vocabulary: Double, lexicon: Double, lm: Double)] = []
        var kept: [Any] = []                      // the first load stays alive for the memory figure
        var lexiconNodes = 0, words = 0
        var counts: [Int] = []
        for i in 0..<repeats {
            let c0 = Measure.threadCPU, t0 = Measure.now()
            let v = try Vocabulary(path: vocabulary, tokens: .english)
            let c1 = Measure.threadCPU, t1 = Measure.now()
            let lm = try LanguageModelFile.load(path: languageModel)
            let c2 = Measure.threadCPU, t2 = Measure.now()
            let tree = try LexiconTree(words: v.words, tokens: .english, languageModel: lm)
            let c3 = Measure.threadCPU, t3 = Measure.now()
            cpu.append((c1 - c0, c3 - c2, c2 - c1))
            times.append((t1 - t0, t3 - t2, t2 - t1))
            if i == 0 {
                kept = [v, tree, lm]
                lexiconNodes = tree.nodeCount
                words = v.count
                if let c = lm as? CompactLanguageModel { counts = c.counts }
            }
        }
        let rssAfter = residentKiB()
        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] * 1000 }
        let total = times.map { $0.vocabulary + $0.lexicon + $0.lm }
        let size = { (p: String) in (try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int) ?? 0 }
        print("| measure | value |")
        print("|---|---|")
        print("| vocabulary | \(vocabulary): \(words) words, \(size(vocabulary)) bytes, prefix tree of \(lexiconNodes) nodes |")
        print("| language model | \(languageModel): \(size(languageModel)) bytes\(counts.isEmpty ? "" : ", n-grams " + counts.map(String.init).joined(separator: " / ")) |")
        let cpuTotal = cpu.map { $0.vocabulary + $0.lexicon + $0.lm }
        print("| load, median of \(repeats) (wall clock / CPU time of the loading thread) | |")
        print(String(format: "| read vocabulary | %.1f ms / %.1f ms |", median(times.map(\.vocabulary)), median(cpu.map(\.vocabulary))))
        print(String(format: "| build prefix tree (with unigram look-aheads) | %.1f ms / %.1f ms |", median(times.map(\.lexicon)), median(cpu.map(\.lexicon))))
        print(String(format: "| read language model | %.1f ms / %.1f ms |", median(times.map(\.lm)), median(cpu.map(\.lm))))
        print(String(format: "| all three | %.1f ms / %.1f ms |", median(total), median(cpuTotal)))
        print(String(format: "| all three, first load in the process | %.1f ms / %.1f ms |", total[0] * 1000, cpuTotal[0] * 1000))
        print(String(format: "| resident memory added by one loaded copy | %.1f MB |", Double(rssAfter - rssBefore) / 1024))
        if let lm = kept[2] as? any WordLanguageModel { queries(lm) }
        withExtendedLifetime(kept) {}
    }

    /// Cost of one `logProb` with a two-word context, as a word decoder asks at each word end:
    /// contexts and words drawn from the model's vocabulary by a fixed generator, so most
    /// contexts are unseen and back off (the slow path), pinned to one core.
    static func queries(_ lm: some WordLanguageModel, count: Int = 1_000_000) {
        Measure.pinToOneCore()
        var ids: [Int32] = []
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let words = Int32((lm as? CompactLanguageModel)?.vocabularySize ?? 1000)
        for _ in 0..<(count + 2) {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            // Word ids follow the ARPA file, where IRSTLM lists words as they first appear in its
            // text (frequent words early): squaring a uniform draw favours them, as text does.
            let u = Double(state >> 11) / Double(1 << 53)
            ids.append(Int32(u * u * Double(words)))
        }
        var sum: Float = 0
        let a0 = Measure.allocations, t0 = Measure.threadCPU
        for i in 0..<count { sum += lm.logProb(ids[i + 2], context: ids[i..<(i + 2)]) }
        let t1 = Measure.threadCPU, a1 = Measure.allocations
        print(String(format: "| one trigram query (`logProb`, 2 words of context; one core, CPU time) | %.0f ns; %.2f heap allocations |",
                     (t1 - t0) / Double(count) * 1e9, Double(a1 - a0) / Double(count)))
        if sum == 42 { print("") }                 // keeps the loop from being optimized away
    }

    /// VmRSS of this process, from /proc/self/status.
    static func residentKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
}
