/// A value handed to another thread where the code's structure makes that safe (the receiver
/// alone uses it, or each worker writes only its own slot): the one `@unchecked Sendable` box.
public struct UncheckedSendable<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
