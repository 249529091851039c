/* The grid's results file (grid.h): JSON lines, one per finished job,
 * each written by one write() + fsync and closed by a CRC-32 of its text.
 * A crash can only leave a torn last line; everything else that does not
 * check out was changed by someone and is an error with its line number. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "hetnas/fileio.h"
#include "hetnas/grid.h"
#include "hetnas/json.h"
#include "hetnas/jv.h"
#include "hetnas/log.h"

struct hn_grid_log {
    const hn_grid *g;
    char path[HN_EXP_PATH + 64];
    int fd;
    int n_done;
    bool *done;             /* (n_jobs) */
    hn_grid_result *res;    /* (n_jobs) */
};

#define CRC_KEY ",\"crc32\":\""

static uint32_t crc_of(const char *s, size_t n) {
    return (uint32_t)crc32(0L, (const Bytef *)s, (uInt)n);
}

static hn_status bad_line(const hn_grid_log *l, int line, const char *what) {
    return hn_fail(HN_ERR_FORMAT, "%s:%d: %s (the results file was changed "
                   "or damaged; restore or delete that line: its job then "
                   "runs again)", l->path, line, what);
}

static bool num_member(const hn_jv *v, const char *k, double *out) {
    const hn_jv *m = hn_jv_get(v, k);
    if (!m || m->kind != HN_JV_NUM) return false;
    *out = m->num;
    return true;
}

/* One complete line (without its newline). */
static hn_status parse_line(hn_grid_log *l, int line, const char *s, size_t n) {
    char msg[256];
    const char *ck = NULL;
    for (const char *p = s; p + sizeof CRC_KEY - 1 <= s + n; p++)
        if (!memcmp(p, CRC_KEY, sizeof CRC_KEY - 1)) ck = p;
    if (n == 0) return bad_line(l, line, "empty line");
    if (!ck) return bad_line(l, line, "no crc32 member: not a line hetnas wrote");
    unsigned want;
    if (sscanf(ck + sizeof CRC_KEY - 1, "%8x", &want) != 1)
        return bad_line(l, line, "unreadable crc32");
    if (crc_of(s, (size_t)(ck - s)) != (uint32_t)want)
        return bad_line(l, line, "crc32 mismatch: the line's text was changed");
    hn_jv *v;
    char name[HN_EXP_PATH + 80];
    snprintf(name, sizeof name, "%s:%d", l->path, line);
    if (hn_jv_parse(s, n, name, &v) != HN_OK)
        return bad_line(l, line, hn_error_msg());
    hn_status st = HN_OK;
    double job, seed_d, rep;
    const char *id = hn_jv_get_str(v, "id");
    const hn_jv *seed = hn_jv_get(v, "seed");
    hn_grid_result r = {0};
    double ep, be;
    const hn_jv *es = hn_jv_get(v, "early_stopped");
    if (v->kind != HN_JV_OBJ || !num_member(v, "job", &job) || !id ||
        !num_member(v, "repeat", &rep) || !seed || !seed->is_uint ||
        !num_member(v, "test_acc", &r.test_acc) ||
        !num_member(v, "best_val_acc", &r.best_val_acc) ||
        !num_member(v, "test_loss", &r.test_loss) ||
        !num_member(v, "epochs", &ep) || !num_member(v, "best_epoch", &be) ||
        !num_member(v, "seconds", &r.seconds) || !es || es->kind != HN_JV_BOOL) {
        st = bad_line(l, line, "a member is missing or has the wrong type");
        goto out;
    }
    (void)seed_d;
    int j = (int)job;
    if (job != j || j < 0 || j >= hn_grid_n_jobs(l->g)) {
        snprintf(msg, sizeof msg, "job %g is not a job of this grid (0..%d)",
                 job, hn_grid_n_jobs(l->g) - 1);
        st = bad_line(l, line, msg);
        goto out;
    }
    const hn_grid_job *pj = hn_grid_job_at(l->g, j);
    if (strcmp(id, pj->id) || seed->u != pj->seed || rep != pj->repeat) {
        snprintf(msg, sizeof msg, "job %d is %s (seed %llu) in this grid, the "
                 "line says %s (seed %llu): the experiment changed", j, pj->id,
                 (unsigned long long)pj->seed, id, (unsigned long long)seed->u);
        st = bad_line(l, line, msg);
        goto out;
    }
    if (l->done[j]) {
        snprintf(msg, sizeof msg, "job %d (%s) appears a second time", j, id);
        st = bad_line(l, line, msg);
        goto out;
    }
    double rk = 0;
    num_member(v, "rank", &rk);
    r.rank = (int)rk;
    r.epochs = (int)ep;
    r.best_epoch = (int)be;
    r.early_stopped = es->b;
    l->done[j] = true;
    l->res[j] = r;
    l->n_done++;
out:
    hn_jv_free(v);
    return st;
}

static hn_status read_existing(hn_grid_log *l) {
    char *buf;
    size_t len;
    HN_TRY(hn_file_read_max(l->path, HN_FILE_MAX_CSV, &buf, &len));
    size_t pos = 0;
    int line = 0;
    hn_status st = HN_OK;
    while (st == HN_OK && pos < len) {
        line++;
        const char *nl = memchr(buf + pos, '\n', len - pos);
        if (!nl) {
            /* a crash between write() starting and finishing: drop it */
            HN_WARN("%s:%d: incomplete last line (%zu bytes, a write cut short "
                    "by a crash) dropped; its job runs again", l->path, line,
                    len - pos);
            if (truncate(l->path, (off_t)pos) != 0)
                st = hn_fail(HN_ERR_IO, "%s: cannot cut the incomplete last "
                             "line: %s", l->path, strerror(errno));
            break;
        }
        st = parse_line(l, line, buf + pos, (size_t)(nl - (buf + pos)));
        pos = (size_t)(nl - buf) + 1;
    }
    free(buf);
    return st;
}

void hn_grid_log_close(hn_grid_log *l) {
    if (!l) return;
    if (l->fd >= 0) close(l->fd);
    free(l->done);
    free(l->res);
    free(l);
}

hn_status hn_grid_log_open(const char *path, const hn_grid *g,
                           hn_grid_log **out) {
    *out = NULL;
    hn_grid_log *l = calloc(1, sizeof *l);
    if (!l) return hn_fail(HN_ERR_NOMEM, "out of memory");
    l->g = g;
    l->fd = -1;
    snprintf(l->path, sizeof l->path, "%s", path);
    int n = hn_grid_n_jobs(g);
    l->done = calloc((size_t)n, sizeof *l->done);
    l->res = calloc((size_t)n, sizeof *l->res);
    hn_status st = l->done && l->res ? HN_OK : hn_fail(HN_ERR_NOMEM, "out of memory");
    struct stat sb;
    bool existed = stat(path, &sb) == 0;
    if (st == HN_OK && existed) st = read_existing(l);
    if (st == HN_OK) {
        l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (l->fd < 0)
            st = hn_fail(HN_ERR_IO, "%s: cannot open for appending: %s", path,
                         strerror(errno));
    }
    if (st == HN_OK && !existed) {
        /* make the new file's directory entry durable */
        char dir[HN_EXP_PATH + 64];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        else snprintf(dir, sizeof dir, ".");
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    if (st != HN_OK) {
        hn_grid_log_close(l);
        return st;
    }
    *out = l;
    return HN_OK;
}

bool hn_grid_log_done(const hn_grid_log *l, int job) { return l->done[job]; }
const hn_grid_result *hn_grid_log_result(const hn_grid_log *l, int job) {
    return l->done[job] ? &l->res[job] : NULL;
}
int hn_grid_log_n_done(const hn_grid_log *l) { return l->n_done; }

hn_status hn_grid_log_append(hn_grid_log *l, const hn_grid_job *job,
                             const hn_grid_result *r) {
    if (l->done[job->index])
        return hn_fail(HN_ERR_INTERNAL, "%s: job %s recorded twice", l->path,
                       job->id);
    const hn_grid_cfg *c = hn_grid_cfg_at(l->g, job->cfg);
    hn_jw *w = hn_jw_new(0);
    if (!w) return hn_fail(HN_ERR_NOMEM, "out of memory");
    char tbuf[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    hn_jw_obj_begin(w);
    hn_jw_key(w, "job");
    hn_jw_int(w, job->index);
    hn_jw_key(w, "id");
    hn_jw_str(w, job->id);
    hn_jw_key(w, "config");
    hn_jw_str(w, c->id);
    hn_jw_key(w, "family");
    hn_jw_str(w, c->family == HN_GRID_QUANT ? "quant" : "prune");
    hn_jw_key(w, "repeat");
    hn_jw_int(w, job->repeat);
    hn_jw_key(w, "seed");
    hn_jw_uint(w, job->seed);
    hn_jw_key(w, "test_acc");
    hn_jw_double(w, r->test_acc);
    hn_jw_key(w, "best_val_acc");
    hn_jw_double(w, r->best_val_acc);
    hn_jw_key(w, "test_loss");
    hn_jw_double(w, r->test_loss);
    hn_jw_key(w, "epochs");
    hn_jw_int(w, r->epochs);
    hn_jw_key(w, "best_epoch");
    hn_jw_int(w, r->best_epoch);
    hn_jw_key(w, "early_stopped");
    hn_jw_bool(w, r->early_stopped);
    hn_jw_key(w, "seconds");
    hn_jw_double(w, r->seconds);
    hn_jw_key(w, "rank");
    hn_jw_int(w, r->rank);
    hn_jw_key(w, "time");
    hn_jw_str(w, tbuf);
    hn_jw_obj_end(w);
    hn_status st = hn_jw_status(w);
    if (st != HN_OK) {
        hn_jw_free(w);
        return st;
    }
    /* the CRC covers the text before the closing brace */
    size_t n;
    const char *body = hn_jw_data(w, &n);
    n--;
    size_t cap = n + 64;
    char *line = malloc(cap);
    if (!line) {
        hn_jw_free(w);
        return hn_fail(HN_ERR_NOMEM, "out of memory");
    }
    int m = snprintf(line, cap, "%.*s" CRC_KEY "%08x\"}\n", (int)n, body,
                     crc_of(body, n));
    hn_jw_free(w);
    /* one write: O_APPEND puts it at the end in one piece; a crash can
     * only cut it short (the reader drops such a last line) */
    size_t off = 0;
    while (off < (size_t)m) {
        ssize_t k = write(l->fd, line + off, (size_t)m - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            st = hn_fail(HN_ERR_IO, "%s: write failed: %s", l->path,
                         strerror(errno));
            break;
        }
        off += (size_t)k;
    }
    free(line);
    if (st == HN_OK && fsync(l->fd) != 0)
        st = hn_fail(HN_ERR_IO, "%s: fsync failed: %s", l->path, strerror(errno));
    if (st == HN_OK) {
        l->done[job->index] = true;
        l->res[job->index] = *r;
        l->n_done++;
    }
    return st;
}
