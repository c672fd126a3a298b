#ifndef HARK_ROOFLINE_H
#define HARK_ROOFLINE_H
/// y = W x for a row-major rows × cols matrix: the plain C loop the cells' streaming step is
/// measured against (built with -O3 -march=native; 16 partial sums so the compiler vectorizes
/// the reduction without -ffast-math).
void hark_roofline_matvec(const float *w, const float *x, float *y, int rows, int cols);
#endif
