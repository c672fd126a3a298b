// Hark's C kernels: the 8-bit matrix-vector product of the streaming step, the trainer's
// per-time-step products, and the trainer's malloc setting (mallopt, which Swift's Glibc module
// does not export).
//
// A live step reads every weight of the model once, and between steps the weights leave the
// caches, so a live step is bound by memory bandwidth (BENCHMARKS.md, "Why live steps cost
// more"). 8-bit weights read a quarter of the bytes. The product widens int8 to float in vector
// registers (vpmovsxbd, vcvtdq2ps), which Swift's SIMD types do not emit: their integer → float
// conversions are lane loops (measured 3-4× slower than the f32 kernel).
#ifndef HARK_KERNELS_H
#define HARK_KERNELS_H

#include <stdint.h>

/// y[j] += scale[j] · Σₚ w[j·k + p] · x[p] for j < n: rows of int8 weights, one scale per row.
void hark_q8_matvec(int n, int k, const int8_t *w, const float *scale, const float *x, float *y);

/// The trainer's per-time-step products (small_gemm.c), with AVX-512 registers. Without AVX-512
/// (HARK_PORTABLE=1) `hark_small_m_available` returns 0 and the trainer uses BLAS instead.
int hark_small_m_available(void);
/// Floats that `hark_pack_panels` writes for a k × n matrix B (n rounded up to panels of 48).
long hark_panels_size(int k, int n);
/// Packs B[k × n], element (p, j) at b[p·row_stride + j·col_stride], into panels of 48 columns.
void hark_pack_panels(int k, int n, const float *b, long row_stride, long col_stride, float *out);
/// C[m × n] += A[m × k] · B[k × n] with B packed by `hark_pack_panels` (row-major A and C).
void hark_sgemm_small_m(int m, int n, int k, const float *a, int lda, const float *panels, float *c, int ldc);

/// Makes glibc keep freed memory for reuse instead of returning it to the kernel: the largest
/// mmap threshold glibc allows (32 MB) and no heap trimming below 1 GB. See `Trainer`.
void hark_keep_freed_memory(void);

#endif
