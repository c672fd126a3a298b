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
#endif
