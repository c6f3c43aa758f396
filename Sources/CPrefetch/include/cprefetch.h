#ifndef CPREFETCH_H
#define CPREFETCH_H
/* A software prefetch hint, which Swift has no spelling for. The byte LM looks up one random
   cache line per order and byte; issuing those loads a few bytes ahead hides their latency. */
static inline void tk_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }
#endif
