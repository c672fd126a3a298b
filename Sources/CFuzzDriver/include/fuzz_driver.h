#ifndef HARK_FUZZ_DRIVER_H
#define HARK_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>
// libFuzzer's documented entry for programs that have their own main. SwiftPM gives every
// executable target its own entry symbol (<Target>_main) in place of main, so libFuzzer's main
// is never reached; the fuzz targets call this from that entry instead.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
#endif
