import Glibc

/// The number types the cells run in: `Float` in production, `Double` for gradient checks.
/// Kernels are generic over it and specialized for both, so the check and the product run the
/// same code.
public protocol CellScalar: BinaryFloatingPoint, SIMDScalar, Sendable, Codable {
    static func exp(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    /// Safetensors dtype name.
    static var dtypeName: String { get }
}

extension Float: CellScalar {
    @inline(__always) public static func exp(_ x: Float) -> Float { expf(x) }
    @inline(__always) public static func tanh(_ x: Float) -> Float { tanhf(x) }
    @inline(__always) public static func log(_ x: Float) -> Float { logf(x) }
    public static var dtypeName: String { "F32" }
}

extension Double: CellScalar {
    @inline(__always) public static func exp(_ x: Double) -> Double { Glibc.exp(x) }
    @inline(__always) public static func tanh(_ x: Double) -> Double { Glibc.tanh(x) }
    @inline(__always) public static func log(_ x: Double) -> Double { Glibc.log(x) }
    public static var dtypeName: String { "F64" }
}

@inline(__always)
func sigmoid<T: CellScalar>(_ x: T) -> T { 1 / (1 + T.exp(-x)) }
