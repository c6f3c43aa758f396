#ifndef CPREFETCH_H
#define CPREFETCH_H
#include <stdint.h>
/* A software prefetch hint, which Swift has no spelling for. The byte LM looks up a few random
   cache lines per order and byte; issuing those loads bytes ahead hides their latency. */
static inline void tk_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/* The index of byte `b` among the `n` >= 1 sorted bytes at `keys`, or -1. In C so that each
   step is a conditional move: which child a byte is, is as unpredictable as the text, and
   Swift's select compiled to a branch that mispredicted about every other step. */
static inline intptr_t tk_find_byte(const uint8_t *keys, intptr_t n, uint8_t b) {
    const uint8_t *base = keys;
    while (n > 1) {
        intptr_t half = n >> 1;
        base = __builtin_unpredictable(base[half] <= b) ? base + half : base;
        n -= half;
    }
    return *base == b ? base - keys : -1;
}
#endif
