/* Whole-file reads, atomic writes, mkdir -p. */
#include "hetnas/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

hn_status hn_file_write_atomic(const char *path, const void *data,
                               size_t len) {
    size_t n = strlen(path);
    char *tmp = malloc(n + 32);
    if (!tmp) return hn_fail(HN_ERR_NOMEM, "%s: out of memory", path);
    snprintf(tmp, n + 32, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        hn_status s = hn_fail(HN_ERR_IO, "%s: cannot create: %s", path,
                              strerror(errno));
        free(tmp);
        return s;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            hn_status s = hn_fail(HN_ERR_IO, "%s: write failed: %s", path,
                                  strerror(errno));
            close(fd);
            unlink(tmp);
            free(tmp);
            return s;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        hn_status s = hn_fail(HN_ERR_IO, "%s: fsync/close failed: %s", path,
                              strerror(errno));
        unlink(tmp);
        free(tmp);
        return s;
    }
    if (rename(tmp, path) != 0) {
        hn_status s = hn_fail(HN_ERR_IO, "%s: rename failed: %s", path,
                              strerror(errno));
        unlink(tmp);
        free(tmp);
        return s;
    }
    free(tmp);
    /* Make the rename itself durable. */
    char *dir = strdup(path);
    if (dir) {
        char *slash = strrchr(dir, '/');
        if (slash == dir) slash[1] = '\0';
        else if (slash) *slash = '\0';
        else strcpy(dir, ".");
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    return HN_OK;
}

hn_status hn_file_read_all(const char *path, char **out, size_t *len) {
    *out = NULL;
    if (len) *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return hn_fail(HN_ERR_IO, "%s: cannot open: %s", path,
                       strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return hn_fail(HN_ERR_NOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                fclose(f);
                return hn_fail(HN_ERR_NOMEM, "%s: out of memory", path);
            }
            buf = b;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return hn_fail(HN_ERR_IO, "%s: read error", path);
    }
    buf[n] = '\0';
    *out = buf;
    if (len) *len = n;
    return HN_OK;
}

hn_status hn_mkdirs(const char *path) {
    char *p = strdup(path);
    if (!p) return hn_fail(HN_ERR_NOMEM, "out of memory");
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            hn_status st = hn_fail(HN_ERR_IO, "%s: cannot create directory: %s",
                                   p, strerror(errno));
            free(p);
            return st;
        }
        *s = '/';
    }
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        hn_status st = hn_fail(HN_ERR_IO, "%s: cannot create directory: %s",
                               p, strerror(errno));
        free(p);
        return st;
    }
    struct stat sb;
    if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        hn_status st = hn_fail(HN_ERR_IO, "%s: exists and is not a directory", p);
        free(p);
        return st;
    }
    free(p);
    return HN_OK;
}
