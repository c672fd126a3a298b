#ifndef HARK_CSOXR_SHIM_H
#define HARK_CSOXR_SHIM_H
#include <soxr.h>
#endif
