#include "malloc_counter.h"
uint64_t hark_malloc_count(void){return 0;}
