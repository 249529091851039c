/* libFuzzer target: arbitrary bytes as an IDX file (plain or gzip) through
 * both IDX readers.  The readers take a path and go through zlib's gzopen
 * (which sniffs gzip vs plain), so the input is written to a memfd and
 * read back as /proc/self/fd/N: the fuzzed code is exactly the file path
 * the trainer uses.  Errors must come back as hn_status with a message. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hetnas/data.h"

static int g_fd = -1;
static char g_path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (g_fd < 0) {
        g_fd = memfd_create("fuzz_idx", 0);
        if (g_fd < 0) abort();
        snprintf(g_path, sizeof g_path, "/proc/self/fd/%d", g_fd);
    }
    if (ftruncate(g_fd, 0) != 0) abort();
    if (size && pwrite(g_fd, data, size, 0) != (ssize_t)size) abort();

    int n = -1, h = -1, w = -1;
    uint8_t *px = NULL;
    hn_status s = hn_idx_load_images(g_path, &n, &h, &w, &px);
    if (s == HN_OK) {
        if (!px || n < 1 || h < 1 || w < 1) abort();
        if ((size_t)n * h * w > 0) px[(size_t)n * h * w - 1] ^= 1; /* ASan: length */
        free(px);
    } else if (px || hn_error_msg()[0] == '\0') {
        abort();
    }
    uint8_t *lb = NULL;
    s = hn_idx_load_labels(g_path, &n, &lb);
    if (s == HN_OK) {
        if (!lb || n < 1) abort();
        lb[n - 1] ^= 1;
        free(lb);
    } else if (lb || hn_error_msg()[0] == '\0') {
        abort();
    }
    return 0;
}
