import Testing

extension Tag {
    /// The test asserts exact transcripts, words or detections of the shipped model
    /// (share/model.safetensors): after retraining the model, a failure here may be the model's,
    /// not the code's.
    @Tag static var shippedModelTranscript: Self
}
