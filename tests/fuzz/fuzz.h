/* fuzz.h - helpers shared by the libFuzzer targets (make fuzz).
 *
 * The parsers under test read files by path, as contend does, so an input
 * is handed to them as a file: a memfd (no disk, no leftovers) reached
 * through /proc/self/fd, or a file in one private temp dir when the
 * parser needs a directory of its own (SQLite's journal, a wheel's name). */
#ifndef CONTEND_FUZZ_H
#define CONTEND_FUZZ_H

#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A property of the parser failed: crash, so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "fuzz: %s:%d: %s does not hold\n", \
				__FILE__, __LINE__, #cond);                \
			abort();                                           \
		}                                                          \
	} while (0)

/* data as a NUL-terminated string (caller frees). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = 0;
	return s;
}

static inline int write_all_fd(int fd, const uint8_t *data, size_t size)
{
	while (size) {
		ssize_t k = write(fd, data, size);
		if (k <= 0)
			return -1;
		data += k;
		size -= (size_t)k;
	}
	return 0;
}

/* data in a memfd; *path names it for fopen(). Close the fd when done. */
static inline int fuzz_memfd(const uint8_t *data, size_t size, char *path,
			     size_t len)
{
	int fd = memfd_create("fuzz-input", 0);
	if (fd < 0 || write_all_fd(fd, data, size))
		abort();
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

/* One private directory for the whole fuzzing process, removed at exit
 * (nftw, not a shell: the path comes from $TMPDIR). */
static char fuzz_dir_path[256];

static inline int fuzz_rm_one(const char *path, const struct stat *st,
			      int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static inline void fuzz_dir_remove(void)
{
	if (fuzz_dir_path[0])
		nftw(fuzz_dir_path, fuzz_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static inline const char *fuzz_dir(void)
{
	if (!fuzz_dir_path[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(fuzz_dir_path, sizeof fuzz_dir_path,
			 "%s/contend-fuzz-XXXXXX", t ? t : "/tmp");
		if (!mkdtemp(fuzz_dir_path))
			abort();
		atexit(fuzz_dir_remove);
	}
	return fuzz_dir_path;
}

/* data as the file fuzz_dir()/name (replaced each run). */
static inline void fuzz_file(const char *name, const uint8_t *data,
			     size_t size, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", fuzz_dir(), name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f))
		abort();
}

#endif
