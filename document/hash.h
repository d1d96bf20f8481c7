/* hash.h - content hashes of documents (the history's duplicate key). */
#ifndef CONTEND_HASH_H
#define CONTEND_HASH_H

#include <stddef.h>

/* SHA-256 of data as 64 lowercase hex digits and a NUL. */
void hash_sha256_hex(const void *data, size_t len, char out[65]);

#endif
