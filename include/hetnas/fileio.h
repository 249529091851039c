/* Whole-file reads and atomic writes (temp file in the same directory,
 * fsync, rename, fsync of the directory): a reader never sees a half-written
 * file, and a crash leaves the old file or the new one. */
#ifndef HETNAS_FILEIO_H
#define HETNAS_FILEIO_H

#include <stddef.h>

#include "hetnas/status.h"

#ifdef __cplusplus
extern "C" {
#endif

hn_status hn_file_write_atomic(const char *path, const void *data, size_t len);
/* Reads a whole file into a malloc'd buffer with a trailing NUL (not counted
 * in *len).  The caller frees *out. */
hn_status hn_file_read_all(const char *path, char **out, size_t *len);
/* mkdir -p. */
hn_status hn_mkdirs(const char *path);

#ifdef __cplusplus
}
#endif
#endif
