#include "hark_kernels.h"

// The per-time-step products of the trainer: C[m × n] += A[m × k] · B[k × n], with m the few
// sequences of one training thread (8 in `hark-bench training`) and B a recurrent weight matrix
// that stays the same for every step of a pass. BLIS packs all of B into its panel layout on
// every call, which at 8 rows costs about as much as the product. Here B is packed once per pass
// (`hark_pack_panels`) into panels of 48 columns, each k × 48 and contiguous, so a tile reads one
// sequential stream; a tile of up to 8 rows × 48 columns lives in 24 AVX-512 registers, and each
// B row segment is loaded once and meets every row of A by broadcast. Each C element is one sum
// over p in order, so results do not depend on timing or tiling.
#if defined(__AVX512F__)
#include <immintrin.h>

enum { NR = 48 };

int hark_small_m_available(void) { return 1; }

long hark_panels_size(int k, int n) { return (long)((n + NR - 1) / NR) * NR * k; }

void hark_pack_panels(int k, int n, const float *b, long row_stride, long col_stride, float *out) {
    for (int j0 = 0; j0 < n; j0 += NR) {
        float *panel = out + (long)j0 * k;
        int cols = n - j0 < NR ? n - j0 : NR;
        // Read along whichever index is contiguous in b.
        if (col_stride == 1) {
            for (int p = 0; p < k; p++) {
                const float *src = b + (long)p * row_stride + j0;
                float *dst = panel + (long)p * NR;
                for (int c = 0; c < NR; c++) dst[c] = c < cols ? src[c] : 0;
            }
        } else {
            for (int c = 0; c < NR; c++) {
                const float *src = b + (long)(j0 + c) * col_stride;
                if (c < cols)
                    for (int p = 0; p < k; p++) panel[(long)p * NR + c] = src[(long)p * row_stride];
                else
                    for (int p = 0; p < k; p++) panel[(long)p * NR + c] = 0;
            }
        }
    }
}

// One tile: MR rows (≤ 8, a constant at every call so the loops unroll) × one panel, of which
// `cols` columns are stored. Unrolling the p loop too makes clang spill the accumulators
// (measured: 62 against 108 GFLOP/s), hence the pragma.
static inline __attribute__((always_inline))
void tile(const int MR, int cols, int k, const float *a, int lda, const float *panel, float *c, int ldc) {
    __m512 acc[8][3];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < 3; j++) acc[i][j] = _mm512_setzero_ps();
#pragma clang loop unroll(disable)
    for (int p = 0; p < k; p++) {
        const float *bp = panel + (long)p * NR;
        __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16), b2 = _mm512_loadu_ps(bp + 32);
        for (int i = 0; i < MR; i++) {
            __m512 ai = _mm512_set1_ps(a[(long)i * lda + p]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
            acc[i][2] = _mm512_fmadd_ps(ai, b2, acc[i][2]);
        }
    }
    for (int j = 0; j < 3; j++) {
        int left = cols - 16 * j;
        if (left <= 0) break;
        __mmask16 mask = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
        for (int i = 0; i < MR; i++) {
            float *cp = c + (long)i * ldc + 16 * j;
            _mm512_mask_storeu_ps(cp, mask, _mm512_add_ps(_mm512_maskz_loadu_ps(mask, cp), acc[i][j]));
        }
    }
}

#define ROWS(MR)                                                                             \
    static void rows_##MR(int n, int k, const float *a, int lda, const float *panels, float *c, \
                          int ldc) {                                                          \
        for (int j = 0; j < n; j += NR)                                                       \
            tile(MR, n - j < NR ? n - j : NR, k, a, lda, panels + (long)j * k, c + j, ldc);   \
    }
ROWS(1) ROWS(2) ROWS(3) ROWS(4) ROWS(5) ROWS(6) ROWS(7) ROWS(8)

void hark_sgemm_small_m(int m, int n, int k, const float *a, int lda, const float *panels, float *c, int ldc) {
    for (int i = 0; i < m; i += 8) {
        const float *ai = a + (long)i * lda;
        float *ci = c + (long)i * ldc;
        switch (m - i < 8 ? m - i : 8) {
        case 1: rows_1(n, k, ai, lda, panels, ci, ldc); break;
        case 2: rows_2(n, k, ai, lda, panels, ci, ldc); break;
        case 3: rows_3(n, k, ai, lda, panels, ci, ldc); break;
        case 4: rows_4(n, k, ai, lda, panels, ci, ldc); break;
        case 5: rows_5(n, k, ai, lda, panels, ci, ldc); break;
        case 6: rows_6(n, k, ai, lda, panels, ci, ldc); break;
        case 7: rows_7(n, k, ai, lda, panels, ci, ldc); break;
        default: rows_8(n, k, ai, lda, panels, ci, ldc); break;
        }
    }
}
#else
// Built without AVX-512 (HARK_PORTABLE=1): the trainer uses BLAS for these products instead.
int hark_small_m_available(void) { return 0; }
long hark_panels_size(int k, int n) { (void)k; (void)n; return 0; }
void hark_pack_panels(int k, int n, const float *b, long row_stride, long col_stride, float *out) {
    (void)k; (void)n; (void)b; (void)row_stride; (void)col_stride; (void)out;
}
void hark_sgemm_small_m(int m, int n, int k, const float *a, int lda, const float *panels, float *c, int ldc) {
    (void)m; (void)n; (void)k; (void)a; (void)lda; (void)panels; (void)c; (void)ldc;
}
#endif
