/* Whole-file reads and atomic writes (temp file in the same directory,
 * fsync, rename, fsync of the directory): a reader never sees a half-written
 * file, and a crash leaves the old file or the new one. */
#ifndef HETNAS_FILEIO_H
#define HETNAS_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

hn_status hn_file_write_atomic(const char *path, const void *data, size_t len);
/* Size caps of the readers (checked before a byte is read). */
#define HN_FILE_MAX_DEFAULT ((size_t)256 << 20)
#define HN_FILE_MAX_YAML ((size_t)16 << 20)     /* experiment/config YAML */
#define HN_FILE_MAX_JSON ((size_t)64 << 20)     /* manifest, side files */
#define HN_FILE_MAX_CSV ((size_t)256 << 20)     /* result tables */

/* Reads a whole regular file of at most max_bytes into a malloc'd buffer
 * with a trailing NUL (not counted in *len).  The caller frees *out.
 * Errors name the path: missing/unreadable (HN_ERR_IO), a directory,
 * device or pipe (HN_ERR_INVAL), larger than max_bytes (HN_ERR_RANGE). */
hn_status hn_file_read_max(const char *path, size_t max_bytes, char **out,
                           size_t *len);
/* hn_file_read_max with HN_FILE_MAX_DEFAULT. */
hn_status hn_file_read_all(const char *path, char **out, size_t *len);
/* Opens a regular file for reading (same checks and messages as
 * hn_file_read_max); *size is its size.  The caller closes *fd. */
hn_status hn_file_open_regular(const char *path, int *fd, uint64_t *size);
/* Reads up to len bytes (fewer only at EOF: *got says how many). */
hn_status hn_file_read_fd(int fd, const char *path, void *buf, size_t len,
                          size_t *got);
/* mkdir -p. */
hn_status hn_mkdirs(const char *path);

#ifdef __cplusplus
}
#endif
#endif
