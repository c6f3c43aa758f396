#ifndef CDIGEST_H
#define CDIGEST_H
#include <stddef.h>
#include <stdint.h>
/* SHA-256 of a byte buffer into out[32]. Uses the x86 SHA extensions when the CPU has them
   (about 2 GB/s, against ~0.2 GB/s for the portable rounds): the model cache hashes every model
   file it loads, and a 16 MB tokenizer.json must not cost 80 ms before the cache is even read. */
void tk_sha256(const uint8_t *data, size_t length, uint8_t out[32]);

/* A fast 64-bit checksum (four independent multiply-xor lanes) for detecting damaged cache
   entries; not cryptographic. */
uint64_t tk_checksum64(const uint8_t *data, size_t length);
#endif
