/* Whole-file reads, atomic writes, mkdir -p. */
#include "hetnas/fileio.h"

#include <errno.h>
#include <stdint.h>
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

hn_status hn_file_open_regular(const char *path, int *fd_out,
                               uint64_t *size) {
    /* O_NONBLOCK: opening a FIFO must not hang; regular files ignore it. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return hn_fail(HN_ERR_IO, "%s: cannot open: %s", path,
                       strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        hn_status s = hn_fail(HN_ERR_IO, "%s: cannot stat: %s", path,
                              strerror(errno));
        close(fd);
        return s;
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return hn_fail(HN_ERR_INVAL, "%s: is %s, expected a regular file",
                       path, S_ISDIR(sb.st_mode)    ? "a directory"
                             : S_ISCHR(sb.st_mode)  ? "a character device"
                             : S_ISBLK(sb.st_mode)  ? "a block device"
                             : S_ISFIFO(sb.st_mode) ? "a pipe"
                             : S_ISSOCK(sb.st_mode) ? "a socket"
                                                    : "not a regular file");
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    *fd_out = fd;
    if (size) *size = (uint64_t)sb.st_size;
    return HN_OK;
}

hn_status hn_file_read_fd(int fd, const char *path, void *buf, size_t len,
                          size_t *got) {
    size_t n = 0;
    while (n < len) {
        ssize_t r = read(fd, (char *)buf + n, len - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            return hn_fail(HN_ERR_IO, "%s: read error: %s", path,
                           strerror(errno));
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    if (got) *got = n;
    return HN_OK;
}

hn_status hn_file_read_max(const char *path, size_t max_bytes, char **out,
                           size_t *len) {
    *out = NULL;
    if (len) *len = 0;
    int fd;
    uint64_t size;
    HN_TRY(hn_file_open_regular(path, &fd, &size));
    /* Checked before reading anything: a 3 GB file given as a config must
     * not be loaded to find that out. */
    if (size > max_bytes) {
        close(fd);
        return hn_fail(HN_ERR_RANGE, "%s: %llu bytes is larger than the %zu "
                       "bytes allowed for this kind of file (wrong file?)",
                       path, (unsigned long long)size, max_bytes);
    }
    /* One byte more than announced: a file that grows while read is
     * caught by the cap, not read without bound. */
    size_t cap = (size_t)size + 2;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return hn_fail(HN_ERR_NOMEM, "%s: out of memory (%zu bytes)", path,
                       cap);
    }
    size_t n;
    hn_status s = hn_file_read_fd(fd, path, buf, cap - 1, &n);
    close(fd);
    if (s == HN_OK && n > max_bytes)
        s = hn_fail(HN_ERR_RANGE, "%s: larger than the %zu bytes allowed for "
                    "this kind of file", path, max_bytes);
    if (s != HN_OK) {
        free(buf);
        return s;
    }
    buf[n] = '\0';
    *out = buf;
    if (len) *len = n;
    return HN_OK;
}

hn_status hn_file_read_all(const char *path, char **out, size_t *len) {
    return hn_file_read_max(path, HN_FILE_MAX_DEFAULT, out, len);
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
