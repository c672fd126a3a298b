#include "roofline.h"

void hark_roofline_matvec(const float *w, const float *x, float *y, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
        const float *row = w + (long)r * cols;
        float acc[16] = {0};
        int c = 0;
        for (; c + 16 <= cols; c += 16)
            for (int l = 0; l < 16; l++) acc[l] += row[c + l] * x[c + l];
        float s = 0;
        for (int l = 0; l < 16; l++) s += acc[l];
        for (; c < cols; c++) s += row[c] * x[c];
        y[r] = s;
    }
}
