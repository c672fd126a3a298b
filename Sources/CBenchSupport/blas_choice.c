// The BLAS choice (BENCHMARKS.md "BLAS for training"): each candidate library is loaded on its
// own with dlopen (RTLD_LOCAL | RTLD_DEEPBIND, so two libraries that both export cblas_sgemm can
// be measured in one process) and timed on the products training makes.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

#include "bench_support.h"
#include "hark_kernels.h"

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                         float *, int);
typedef void (*set_threads_fn)(int);
typedef void (*set_threads64_fn)(long long);

static double thread_cpu(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void *hark_blas_open(const char *library) {
    void *h = dlopen(library, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!h) return NULL;
    // One thread inside the library, as training uses it (its own threads split the minibatch).
    set_threads_fn openblas = (set_threads_fn)dlsym(h, "openblas_set_num_threads");
    if (openblas) openblas(1);
    set_threads64_fn blis = (set_threads64_fn)dlsym(h, "bli_thread_set_num_threads");
    if (blis) blis(1);
    if (!dlsym(h, "cblas_sgemm")) { dlclose(h); return NULL; }
    return h;
}

double hark_blas_time_sgemm(void *library, int trans_a, int trans_b, int m, int n, int k, double min_seconds) {
    sgemm_fn sgemm = (sgemm_fn)dlsym(library, "cblas_sgemm");
    float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)n * k);
    float *c = calloc((size_t)m * n, sizeof(float));
    for (long i = 0; i < (long)m * k; i++) a[i] = (float)(i % 7) * 0.1f - 0.3f;
    for (long i = 0; i < (long)n * k; i++) b[i] = (float)(i % 5) * 0.1f - 0.2f;
    const int row_major = 101, no_trans = 111, trans = 112;
    int lda = trans_a ? m : k, ldb = trans_b ? k : n;
    sgemm(row_major, trans_a ? trans : no_trans, trans_b ? trans : no_trans, m, n, k, 1, a, lda, b, ldb, 1, c, n);
    int reps = 0;
    double t0 = thread_cpu(), t;
    do {
        sgemm(row_major, trans_a ? trans : no_trans, trans_b ? trans : no_trans, m, n, k, 1, a, lda, b, ldb, 1, c, n);
        reps++;
        t = thread_cpu() - t0;
    } while (t < min_seconds);
    free(a); free(b); free(c);
    return t / reps;
}

double hark_small_m_time(int m, int n, int k, int b_transposed, double min_seconds) {
    if (!hark_small_m_available()) return -1;
    float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)n * k);
    float *panels = malloc(sizeof(float) * (size_t)hark_panels_size(k, n));
    float *c = calloc((size_t)m * n, sizeof(float));
    for (long i = 0; i < (long)m * k; i++) a[i] = (float)(i % 7) * 0.1f - 0.3f;
    for (long i = 0; i < (long)n * k; i++) b[i] = (float)(i % 5) * 0.1f - 0.2f;
    // As StepMatrix: B packed once (it is the same for every step of a pass), then only products.
    if (b_transposed) hark_pack_panels(k, n, b, 1, k, panels);
    else hark_pack_panels(k, n, b, n, 1, panels);
    hark_sgemm_small_m(m, n, k, a, k, panels, c, n);
    int reps = 0;
    double t0 = thread_cpu(), t;
    do {
        hark_sgemm_small_m(m, n, k, a, k, panels, c, n);
        reps++;
        t = thread_cpu() - t0;
    } while (t < min_seconds);
    free(a); free(b); free(panels); free(c);
    return t / reps;
}
