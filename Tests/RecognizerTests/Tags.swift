import Testing

extension Tag {
    /// The test asserts transcripts, words or detections of the shipped model
    /// (share/model.safetensors) on held-out synthetic voices, allowing one wrong word per
    /// utterance (`wordErrors`): after retraining the model, a failure here may be the model's,
    /// not the code's.
    @Tag static var shippedModelTranscript: Self
}
