#include <stdint.h>
uint64_t hark_malloc_count(void);
