#ifndef HARK_CBLAS_SHIM_H
#define HARK_CBLAS_SHIM_H
#include <stdint.h>
// The training path's matrix products go to BLIS (Debian's libblis-dev): measured against
// OpenBLAS on this CPU for the shapes training uses (`hark-bench blas`, BENCHMARKS.md).
//
// Debian installs BLIS's cblas.h in one folder per threading variant (…/blis-openmp,
// …/blis-pthread, …/blis-serial) with no pkg-config file, so no include path names it. The two
// functions Hark calls are declared here instead, exactly as the CBLAS standard (netlib's
// cblas.h) declares them, with the 32-bit integers of libblis.so.4 (libblis64 is another
// library).
enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112, CblasConjTrans = 113 };

void cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB,
                 int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
                 float beta, float *c, int ldc);
void cblas_dgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB,
                 int m, int n, int k, double alpha, const double *a, int lda, const double *b, int ldb,
                 double beta, double *c, int ldc);

// BLIS's own threads stay off: Hark's trainer splits each minibatch over its own threads, one
// product per thread at a time, which keeps results independent of timing (BLIS's
// bli_thread_set_num_threads, from blis.h; dim_t is int64_t in this build).
void bli_thread_set_num_threads(int64_t n_threads);
#endif
