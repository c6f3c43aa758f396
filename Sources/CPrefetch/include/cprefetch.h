#ifndef CPREFETCH_H
#define CPREFETCH_H
#include <stdint.h>
/* A software prefetch hint, which Swift has no spelling for. The byte LM looks up a few random
   cache lines per order and byte; issuing those loads bytes ahead hides their latency. */
static inline void tk_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/* Where byte `b` is or would be among the `n` (1...256) sorted bytes at `keys`: the last
   index whose byte is <= b, or 0. Eight fixed steps of a conditional move each (once n is 1,
   half is 0 and nothing moves), in C so that they stay moves: which child a byte is, is as
   unpredictable as the text, and a loop whose trip count follows the context's child count
   mispredicts its exit at every order. */
static inline intptr_t tk_byte_position(const uint8_t *keys, intptr_t n, uint8_t b) {
    const uint8_t *base = keys;
    for (int step = 0; step < 8; step++) {
        intptr_t half = n >> 1;
        base = __builtin_unpredictable(base[half] <= b) ? base + half : base;
        n -= half;
    }
    return base - keys;
}
#endif
