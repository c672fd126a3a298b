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

    /// C ← op(A) · op(B) + C on row-major matrices, op = transpose where asked: BLAS's gemm with
    /// α = β = 1 (`sgemm` for `Float`, `dgemm` for `Double`, which serves gradient checks).
    static func gemm(transposeA: Bool, transposeB: Bool, _ m: Int, _ n: Int, _ k: Int,
                     _ a: UnsafePointer<Self>, lda: Int, _ b: UnsafePointer<Self>, ldb: Int,
                     _ c: UnsafeMutablePointer<Self>, ldc: Int)
    /// x[i] = σ(x[i]) for i < count.
    static func sigmoid(_ x: UnsafeMutablePointer<Self>, count: Int)
    /// x[i] = tanh(x[i]) for i < count.
    static func tanh(_ x: UnsafeMutablePointer<Self>, count: Int)
}

extension CellScalar {
    public static func sigmoid(_ x: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { x[i] = 1 / (1 + exp(-x[i])) }
    }

    public static func tanh(_ x: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { x[i] = tanh(x[i]) }
    }
}

extension Float: CellScalar {
    @inline(__always)
    public static func gemm(transposeA: Bool, transposeB: Bool, _ m: Int, _ n: Int, _ k: Int,
                            _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                            _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        Gemm.sgemm(transposeA, transposeB, m, n, k, a, lda, b, ldb, c, ldc)
    }
    public static func sigmoid(_ x: UnsafeMutablePointer<Float>, count: Int) { FloatKernels.sigmoid(x, count: count) }
    public static func tanh(_ x: UnsafeMutablePointer<Float>, count: Int) { FloatKernels.tanh(x, count: count) }
    @inline(__always) public static func exp(_ x: Float) -> Float { expf(x) }
    @inline(__always) public static func tanh(_ x: Float) -> Float { tanhf(x) }
    @inline(__always) public static func log(_ x: Float) -> Float { logf(x) }
    public static var dtypeName: String { "F32" }
}

extension Double: CellScalar {
    @inline(__always)
    public static func gemm(transposeA: Bool, transposeB: Bool, _ m: Int, _ n: Int, _ k: Int,
                            _ a: UnsafePointer<Double>, lda: Int, _ b: UnsafePointer<Double>, ldb: Int,
                            _ c: UnsafeMutablePointer<Double>, ldc: Int) {
        Gemm.dgemm(transposeA, transposeB, m, n, k, a, lda, b, ldb, c, ldc)
    }
    @inline(__always) public static func exp(_ x: Double) -> Double { Glibc.exp(x) }
    @inline(__always) public static func tanh(_ x: Double) -> Double { Glibc.tanh(x) }
    @inline(__always) public static func log(_ x: Double) -> Double { Glibc.log(x) }
    public static var dtypeName: String { "F64" }
}

@inline(__always)
func sigmoid<T: CellScalar>(_ x: T) -> T { 1 / (1 + T.exp(-x)) }
