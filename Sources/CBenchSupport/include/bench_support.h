#ifndef HARK_BENCH_SUPPORT_H
#define HARK_BENCH_SUPPORT_H
#include <stdint.h>
/// Heap allocations made so far by the whole process (malloc, calloc, realloc, aligned variants).
uint64_t hark_malloc_count(void);
/// Pins the calling thread to one CPU (sched_setaffinity needs _GNU_SOURCE, which Swift lacks).
int hark_pin_to_cpu(int cpu);
/// Bytes the process holds from malloc (mallinfo2: in use plus mmapped blocks), which a leak grows;
/// RSS also counts memory malloc keeps free for reuse.
uint64_t hark_heap_in_use(void);
/// A BLAS library loaded on its own (dlopen with RTLD_DEEPBIND), one thread inside it; NULL if it
/// cannot be loaded or has no cblas_sgemm.
void *hark_blas_open(const char *library);
/// Seconds of this thread's CPU time per C += op(A)·op(B) (row-major, m×n result, inner size k),
/// repeated for at least `min_seconds`.
double hark_blas_time_sgemm(void *library, int trans_a, int trans_b, int m, int n, int k, double min_seconds);

/// Seconds per product of Hark's per-step kernel (CKernels' hark_sgemm_small_m, what the trainer's
/// StepMatrix runs) on C[m × n] += A[m × k] · B, B packed once beforehand from [k × n], or from
/// [n × k] when b_transposed; -1 when the build has no AVX-512 (the trainer then uses BLAS).
double hark_small_m_time(int m, int n, int k, int b_transposed, double min_seconds);
#endif
