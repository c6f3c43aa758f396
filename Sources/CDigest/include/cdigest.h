#ifndef CDIGEST_H
#define CDIGEST_H
#include <stddef.h>
#include <stdint.h>
/* SHA-256 of a byte buffer into out[32]. Uses the x86 SHA extensions when the CPU has them
   (about 2.3 GB/s measured here): the model cache hashes every model file it loads, so the hash
   must cost a few ms on a 16 MB tokenizer.json. Other CPUs take the portable rounds. */
void tk_sha256(const uint8_t *data, size_t length, uint8_t out[32]);
/* The same digest on the portable rounds only (tests compare the two paths). */
void tk_sha256_portable(const uint8_t *data, size_t length, uint8_t out[32]);

/* A fast 64-bit checksum (four independent multiply-xor lanes) for detecting damaged cache
   entries; not cryptographic. */
uint64_t tk_checksum64(const uint8_t *data, size_t length);
#endif
