/* hash.c - SHA-256 from nettle (Debian's nettle-dev): a maintained,
 * tested implementation rather than one of our own. */
#include "document/hash.h"

#include <nettle/sha2.h>
#include <stdint.h>
#include <stdio.h>

void hash_sha256_hex(const void *data, size_t len, char out[65])
{
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_digest(&ctx, sizeof digest, digest);
	for (size_t i = 0; i < sizeof digest; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}
