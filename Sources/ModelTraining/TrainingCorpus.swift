/// What training reads: utterances by index, each its frames and labels. `FeatureSet` holds them
/// in memory; `FeatureCache` maps them from disk and decodes one at a time.
public protocol TrainingCorpus {
    var count: Int { get }
    var bands: Int { get }
    var totalFrames: Int { get }
    func frameCount(_ i: Int) -> Int
    /// frames × bands, row-major.
    func frames(_ i: Int) -> [Float]
    func labels(_ i: Int) -> [Int]
    /// Per-band mean and standard deviation over every frame.
    func normalization() -> (mean: [Float], std: [Float])
}

extension FeatureSet: TrainingCorpus {
    public var count: Int { utterances.count }
    public func frameCount(_ i: Int) -> Int { utterances[i].frameCount }
    public func frames(_ i: Int) -> [Float] { utterances[i].frames }
    public func labels(_ i: Int) -> [Int] { utterances[i].labels }
}
