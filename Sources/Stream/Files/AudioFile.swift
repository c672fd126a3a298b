internal import CSndFile
internal import CSoxr
import Glibc

/// Reads an audio file (WAV in every PCM and float flavour, and whatever else libsndfile decodes:
/// FLAC, AIFF, Ogg) as 16 kHz mono, streaming: the file is decoded block by block, channels are
/// averaged, and files at another rate go through libsoxr's high-quality resampler.
public final class AudioFileSource: AudioSource {
    public let name: String
    public let sampleRate: Int
    /// The file's own rate and channel count, before conversion.
    public let fileSampleRate: Int
    public let fileChannels: Int
    /// Frames in the file at its own rate (libsndfile's count).
    public let fileFrames: Int64
    public private(set) var position: Int64 = 0
    public var losses: CaptureLosses { CaptureLosses() }

    private let file: OpaquePointer
    private let resampler: soxr_t?
    private let blockFrames = 4096
    private let interleaved: UnsafeMutablePointer<Float>
    private let mono: UnsafeMutablePointer<Float>
    private let converted: UnsafeMutablePointer<Float>
    private let convertedCapacity: Int
    private var convertedStart = 0, convertedEnd = 0
    private var decodedFrames: Int64 = 0
    private var inputDone = false, flushed = false
    private let stop = StopFlag()

    /// File rates accepted: from telephone speech (below 8 kHz speech loses what the model hears,
    /// and a 1 Hz file would need a 64-million-sample buffer per block) to studio rates.
    public static let fileRates = 8_000...384_000

    /// libsndfile's messages about its own structures ("Internal error : SF_INFO struct
    /// incomplete.", for a header whose rate is 0) in words about the file.
    static func plainWords(_ message: String) -> String {
        message.contains("SF_INFO") || message.contains("SF_PRIVATE") || message.hasPrefix("Internal error")
            ? "its header is invalid (a sample rate, channel count or format of zero, or a header cut short)"
            : message
    }

    public init(path: String, sampleRate: Int = AudioDefaults.sampleRate) throws(AudioError) {
        name = path
        self.sampleRate = sampleRate
        var info = SF_INFO()
        guard let f = sf_open(path, Int32(SFM_READ), &info) else {
            let reason = Self.plainWords(String(cString: sf_strerror(nil)))
            var st = stat()
            if stat(path, &st) != 0 {
                throw .unreadableFile(path: path, message: String(cString: strerror(errno)))
            }
            throw .unreadableFile(path: path, message: reason)
        }
        guard info.channels > 0, info.samplerate > 0 else {
            sf_close(f)
            throw .unsupportedFile(path: path, detail: "\(info.channels) channels at \(info.samplerate) Hz")
        }
        guard Self.fileRates.contains(Int(info.samplerate)) else {
            sf_close(f)
            throw .unsupportedFile(path: path, detail: "its rate is \(info.samplerate) Hz; Hark reads \(Self.fileRates.lowerBound) to \(Self.fileRates.upperBound) Hz")
        }
        guard info.channels <= 64 else {
            sf_close(f)
            throw .unsupportedFile(path: path, detail: "it has \(info.channels) channels; Hark reads up to 64")
        }
        file = f
        fileSampleRate = Int(info.samplerate)
        fileChannels = Int(info.channels)
        fileFrames = Int64(info.frames)
        // Float files are read as they are; integer files are scaled to [-1, 1) by libsndfile.
        sf_command(f, Int32(SFC_SET_NORM_FLOAT), nil, Int32(SF_TRUE))
        interleaved = .allocate(capacity: blockFrames * fileChannels)
        mono = .allocate(capacity: blockFrames)
        if fileSampleRate != sampleRate {
            var err: soxr_error_t?
            var io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
            var quality = soxr_quality_spec(UInt(SOXR_HQ), 0)
            resampler = soxr_create(Double(fileSampleRate), Double(sampleRate), 1, &err, &io, &quality, nil)
            if resampler == nil {
                sf_close(f)
                throw .unsupportedFile(path: path, detail: "cannot resample from \(fileSampleRate) Hz")
            }
        } else {
            resampler = nil
        }
        convertedCapacity = Int((Double(blockFrames) * Double(sampleRate) / Double(fileSampleRate)).rounded(.up)) + 256
        converted = .allocate(capacity: convertedCapacity)
    }

    deinit {
        sf_close(file)
        if let resampler { soxr_delete(resampler) }
        interleaved.deallocate()
        mono.deallocate()
        converted.deallocate()
    }

    public func read(into buffer: UnsafeMutableBufferPointer<Float>) throws -> Int {
        guard let out = buffer.baseAddress, buffer.count > 0, !stop.isSet else { return 0 }
        while convertedStart == convertedEnd {
            if flushed { return 0 }
            try refill()
        }
        let n = min(buffer.count, convertedEnd - convertedStart)
        out.update(from: converted + convertedStart, count: n)
        convertedStart += n
        position += Int64(n)
        return n
    }

    /// Ends the stream at the next read (an hour-long file need not be read to its end).
    public func requestStop() { stop.set() }

    /// Decodes the next block, downmixes and resamples it into `converted`.
    private func refill() throws(AudioError) {
        convertedStart = 0
        convertedEnd = 0
        var frames = 0
        if !inputDone {
            frames = Int(sf_readf_float(file, interleaved, sf_count_t(blockFrames)))
            if frames <= 0 {
                inputDone = true
                frames = 0
                let err = sf_error(file)
                if err != 0 {
                    throw .unreadableFile(path: name, message: String(cString: sf_error_number(err)))
                }
            }
            try downmix(frames)
            decodedFrames += Int64(frames)
        }
        guard let resampler else {
            if frames == 0 { flushed = true; return }
            converted.update(from: mono, count: frames)
            convertedEnd = frames
            return
        }
        var done = 0
        // A nil input tells soxr that the input has ended and it should flush its tail.
        let err = soxr_process(resampler, inputDone ? nil : UnsafeRawPointer(mono), inputDone ? 0 : frames,
                               nil, converted, convertedCapacity, &done)
        if let err {
            throw .unreadableFile(path: name, message: "resampling failed: \(String(cString: err))")
        }
        convertedEnd = done
        if inputDone && done == 0 { flushed = true }
    }

    private func downmix(_ frames: Int) throws(AudioError) {
        let c = fileChannels
        let scale = 1 / Float(c)
        for i in 0..<frames {
            var s: Float = 0
            for ch in 0..<c { s += interleaved[i * c + ch] }
            let v = c == 1 ? s : s * scale
            guard v.isFinite else {
                throw .invalidSamples(source: name, detail: "sample \(decodedFrames + Int64(i)) is \(v)")
            }
            mono[i] = v
        }
    }
}

/// Writes 16-bit mono WAV safely: samples go to a temporary file beside the target, which is
/// renamed into place only by `finish()`. A failure, or a writer dropped without `finish()`, leaves
/// no half-written file under the target name. The target must be a name `OutputFile` accepts (a
/// new file, or a regular file, whose permissions are kept); anything else is refused here,
/// before a sample is written.
public final class WAVWriter {
    public let path: String
    public let sampleRate: Int
    private let target: OutputFile
    private var file: OpaquePointer?
    public private(set) var samplesWritten: Int64 = 0

    public init(path: String, sampleRate: Int = AudioDefaults.sampleRate) throws(AudioError) {
        self.path = path
        self.sampleRate = sampleRate
        do { target = try OutputFile.check(path) } catch { throw .unwritableFile(path: path, message: error.reason) }
        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = 1
        info.format = Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16)
        guard let f = sf_open(target.temporaryPath, Int32(SFM_WRITE), &info) else {
            let reason = String(cString: sf_strerror(nil))
            throw .unwritableFile(path: path, message: reason)
        }
        // Clip rather than wrap when a float sample is outside [-1, 1].
        sf_command(f, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
        file = f
    }

    deinit {
        if let file {
            sf_close(file)
            unlink(target.temporaryPath)
        }
    }

    public func write(_ samples: UnsafeBufferPointer<Float>) throws(AudioError) {
        guard let file, let base = samples.baseAddress, samples.count > 0 else { return }
        let n = sf_writef_float(file, base, sf_count_t(samples.count))
        if n != samples.count {
            throw .unwritableFile(path: path, message: String(cString: sf_strerror(file)))
        }
        samplesWritten += Int64(n)
    }

    /// Flushes, closes and renames the file into place.
    public func finish() throws(AudioError) {
        guard let f = file else { return }
        file = nil
        sf_write_sync(f)
        let rc = sf_close(f)
        if rc != 0 {
            unlink(target.temporaryPath)
            throw .unwritableFile(path: path, message: String(cString: sf_error_number(rc)))
        }
        do { try target.replace(with: target.temporaryPath) } catch { throw .unwritableFile(path: path, message: error.reason) }
    }

    /// Closes and removes the temporary file without writing the target: what was written is
    /// dropped (a recording that failed before it held anything).
    public func discard() {
        guard let f = file else { return }
        file = nil
        sf_close(f)
        unlink(target.temporaryPath)
    }
}
