#ifndef HARK_CFFTW_SHIM_H
#define HARK_CFFTW_SHIM_H
#include <fftw3.h>
// fftwf_complex is float[2]; Swift imports arrays of it as tuples. Hark passes the output
// buffer as float* and lets this helper cast, so no Swift code depends on the tuple layout.
static inline void hark_fftwf_execute_r2c(const fftwf_plan plan, float *in, float *out) {
    fftwf_execute_dft_r2c(plan, in, (fftwf_complex *)out);
}
static inline fftwf_plan hark_fftwf_plan_r2c(int n, float *in, float *out, unsigned flags) {
    return fftwf_plan_dft_r2c_1d(n, in, (fftwf_complex *)out, flags);
}
#endif
