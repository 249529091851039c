/* Run directories: manifest, event log, checkpoint bookkeeping (rundir.h). */
#include "hetnas/rundir.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>
#include <zlib.h>
#ifdef HN_HAVE_OPENMP
#include <omp.h>
#endif
#ifdef HN_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

#include "hetnas/fileio.h"
#include "hetnas/log.h"
#include "hetnas/jv.h"

#ifdef HN_HAVE_BLAS
extern char *openblas_get_config(void);
#endif

#define MAX_MEMBERS 64

typedef struct member {
    char *key;
    char *json;
} member;

struct hn_rundir {
    char *dir;
    bool resumed;
    member m[MAX_MEMBERS]; /* manifest, in order */
    int nm;
    FILE *log;
    struct timespec t0;
};

/* ---- small helpers -------------------------------------------------------- */

static void iso_now(char *buf, size_t cap) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char b[32];
    strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, cap, "%s.%03ldZ", b, ts.tv_nsec / 1000000);
}

static double elapsed(const hn_rundir *rd) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - rd->t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - rd->t0.tv_nsec);
}

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

bool hn_rundir_exists(const char *dir) {
    char p[4200];
    snprintf(p, sizeof p, "%s/manifest.json", dir);
    return access(p, F_OK) == 0;
}

hn_status hn_rundir_join(const char *root, const char *name, char *buf,
                         size_t cap) {
    int n = snprintf(buf, cap, "%s/%s", root && *root ? root : ".", name);
    if (n < 0 || (size_t)n >= cap)
        return hn_fail(HN_ERR_RANGE, "run directory path too long: %s/%s", root, name);
    return HN_OK;
}

hn_status hn_rundir_file(const hn_rundir *rd, const char *rel, char *buf,
                         size_t cap) {
    int n = snprintf(buf, cap, "%s/%s", rd->dir, rel);
    if (n < 0 || (size_t)n >= cap)
        return hn_fail(HN_ERR_RANGE, "%s/%s: path too long", rd->dir, rel);
    return HN_OK;
}

const char *hn_rundir_path(const hn_rundir *rd) { return rd->dir; }
bool hn_rundir_resumed(const hn_rundir *rd) { return rd->resumed; }

/* Drops a partial last line (a write cut short by a kill), scanning only
 * the file's tail. */
static hn_status trim_partial_line(const char *path) {
    int fd = open(path, O_RDWR);
    if (fd < 0) {
        if (errno == ENOENT) return HN_OK;
        return hn_fail(HN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    off_t size = lseek(fd, 0, SEEK_END), pos = size, keep = 0;
    char buf[4096];
    while (pos > 0) {
        off_t st = pos > (off_t)sizeof buf ? pos - (off_t)sizeof buf : 0;
        ssize_t r = pread(fd, buf, (size_t)(pos - st), st);
        if (r <= 0) break;
        off_t i;
        for (i = r - 1; i >= 0 && buf[i] != '\n'; i--)
            ;
        if (i >= 0) {
            keep = st + i + 1;
            break;
        }
        pos = st;
    }
    hn_status s = HN_OK;
    if (keep < size) {
        HN_WARN("%s: dropping a partial last line (%lld bytes) left by an "
                "interrupted run", path, (long long)(size - keep));
        if (ftruncate(fd, keep) != 0)
            s = hn_fail(HN_ERR_IO, "%s: cannot truncate: %s", path, strerror(errno));
    }
    close(fd);
    return s;
}

/* ---- manifest ------------------------------------------------------------- */

static int find_member(const hn_rundir *rd, const char *key) {
    for (int i = 0; i < rd->nm; i++)
        if (!strcmp(rd->m[i].key, key)) return i;
    return -1;
}

static hn_status put_member(hn_rundir *rd, const char *key, const char *json) {
    char *j = strdup(json ? json : "null");
    if (!j) return hn_fail(HN_ERR_NOMEM, "out of memory");
    int i = find_member(rd, key);
    if (i >= 0) {
        free(rd->m[i].json);
        rd->m[i].json = j;
        return HN_OK;
    }
    if (rd->nm == MAX_MEMBERS) {
        free(j);
        return hn_fail(HN_ERR_RANGE, "%s: too many manifest members", rd->dir);
    }
    rd->m[rd->nm].key = strdup(key);
    if (!rd->m[rd->nm].key) {
        free(j);
        return hn_fail(HN_ERR_NOMEM, "out of memory");
    }
    rd->m[rd->nm++].json = j;
    return HN_OK;
}

static hn_status put_str(hn_rundir *rd, const char *key, const char *s) {
    hn_jw *w = hn_jw_new(0);
    if (!w) return hn_fail(HN_ERR_NOMEM, "out of memory");
    hn_jw_str(w, s);
    hn_status st = hn_jw_status(w);
    if (st == HN_OK) st = put_member(rd, key, hn_jw_data(w, NULL));
    hn_jw_free(w);
    return st;
}

static hn_status save_manifest(hn_rundir *rd) {
    /* "{\n", then per member '  "key": value,\n', then "}\n"; keys are
     * escaped by the JSON writer, values are already JSON */
    hn_jw *keys[MAX_MEMBERS];
    size_t cap = 8;
    hn_status s = HN_OK;
    for (int i = 0; i < rd->nm; i++) {
        keys[i] = hn_jw_new(0);
        if (!keys[i]) {
            for (int k = 0; k < i; k++) hn_jw_free(keys[k]);
            return hn_fail(HN_ERR_NOMEM, "out of memory");
        }
        hn_jw_str(keys[i], rd->m[i].key);
        size_t kl;
        hn_jw_data(keys[i], &kl);
        cap += kl + strlen(rd->m[i].json) + 8;
    }
    char *b = malloc(cap);
    if (!b) s = hn_fail(HN_ERR_NOMEM, "out of memory");
    size_t n = 0;
    if (s == HN_OK) {
        memcpy(b, "{\n", 2);
        n = 2;
        for (int i = 0; i < rd->nm; i++) {
            size_t kl, jl = strlen(rd->m[i].json);
            const char *k = hn_jw_data(keys[i], &kl);
            memcpy(b + n, "  ", 2);
            memcpy(b + n + 2, k, kl);
            memcpy(b + n + 2 + kl, ": ", 2);
            memcpy(b + n + 4 + kl, rd->m[i].json, jl);
            n += 4 + kl + jl;
            if (i + 1 < rd->nm) b[n++] = ',';
            b[n++] = '\n';
        }
        memcpy(b + n, "}\n", 2);
        n += 2;
        HN_ASSERT(n <= cap);
        char p[4200];
        snprintf(p, sizeof p, "%s/manifest.json", rd->dir);
        s = hn_file_write_atomic(p, b, n);
    }
    for (int i = 0; i < rd->nm; i++) hn_jw_free(keys[i]);
    free(b);
    return s;
}

static hn_status load_manifest(hn_rundir *rd) {
    char p[4200];
    snprintf(p, sizeof p, "%s/manifest.json", rd->dir);
    char *txt;
    size_t len;
    HN_TRY(hn_file_read_max(p, HN_FILE_MAX_JSON, &txt, &len));
    hn_jv *v = NULL;
    hn_status s = hn_jv_parse(txt, len, p, &v);
    if (s == HN_OK && v->kind != HN_JV_OBJ)
        s = hn_fail(HN_ERR_FORMAT, "%s: not a JSON object", p);
    for (size_t i = 0; s == HN_OK && i < v->n; i++) {
        const hn_jv *m = &v->items[i];
        char *raw = strndup(txt + m->src_begin, m->src_end - m->src_begin);
        if (!raw) {
            s = hn_fail(HN_ERR_NOMEM, "out of memory");
            break;
        }
        s = put_member(rd, v->keys[i], raw);
        free(raw);
    }
    hn_jv_free(v);
    free(txt);
    return s;
}

static char *run_cmd(const char *cmd) {
    FILE *f = popen(cmd, "r");
    if (!f) return NULL;
    char buf[256] = "";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    int rc = pclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = 0;
    if (rc != 0) return NULL;
    return strdup(buf);
}

static void write_git(hn_jw *w) {
    char *commit = run_cmd("git rev-parse HEAD 2>/dev/null");
    if (!commit || strlen(commit) < 7) {
        free(commit);
        hn_jw_null(w);
        return;
    }
    char *st = run_cmd("git status --porcelain --untracked-files=no 2>/dev/null | head -c 1");
    hn_jw_obj_begin(w);
    hn_jw_key(w, "commit");
    hn_jw_str(w, commit);
    hn_jw_key(w, "dirty");
    if (st)
        hn_jw_bool(w, st[0] != 0);
    else
        hn_jw_null(w);
    hn_jw_obj_end(w);
    free(commit);
    free(st);
}

static void write_tools(hn_jw *w) {
    hn_jw_obj_begin(w);
    hn_jw_key(w, "hetnas");
    hn_jw_str(w, HN_VERSION);
#if defined(__clang__)
    hn_jw_key(w, "compiler");
    hn_jw_str(w, "clang " __clang_version__);
#elif defined(__GNUC__)
    hn_jw_key(w, "compiler");
    hn_jw_str(w, "gcc " __VERSION__);
#endif
    hn_jw_key(w, "zlib");
    hn_jw_str(w, zlibVersion());
    hn_jw_key(w, "libyaml");
    hn_jw_str(w, yaml_get_version_string());
#ifdef HN_HAVE_BLAS
    hn_jw_key(w, "openblas");
    hn_jw_str(w, openblas_get_config());
#endif
#ifdef HN_HAVE_DNNL
    {
        const dnnl_version_t *v = dnnl_version();
        char b[96];
        snprintf(b, sizeof b, "%d.%d.%d (%s)", v->major, v->minor, v->patch,
                 v->hash ? v->hash : "");
        hn_jw_key(w, "onednn");
        hn_jw_str(w, b);
    }
#endif
#ifdef _OPENMP
    hn_jw_key(w, "openmp");
    hn_jw_int(w, _OPENMP);
#endif
    hn_jw_obj_end(w);
}

static void write_host(hn_jw *w) {
    hn_jw_obj_begin(w);
    char h[256] = "";
    if (gethostname(h, sizeof h - 1) == 0) {
        hn_jw_key(w, "hostname");
        hn_jw_str(w, h);
    }
    struct utsname u;
    if (uname(&u) == 0) {
        char b[600];
        snprintf(b, sizeof b, "%s %s %s", u.sysname, u.release, u.machine);
        hn_jw_key(w, "os");
        hn_jw_str(w, b);
    }
    hn_jw_key(w, "cpus");
    hn_jw_int(w, sysconf(_SC_NPROCESSORS_ONLN));
#ifdef HN_HAVE_OPENMP
    hn_jw_key(w, "omp_max_threads");
    hn_jw_int(w, omp_get_max_threads());
#endif
    hn_jw_obj_end(w);
}

/* One JSON value built by fn into the manifest member key. */
static hn_status put_built(hn_rundir *rd, const char *key, void (*fn)(hn_jw *)) {
    hn_jw *w = hn_jw_new(0);
    if (!w) return hn_fail(HN_ERR_NOMEM, "out of memory");
    fn(w);
    hn_status s = hn_jw_status(w);
    if (s == HN_OK) s = put_member(rd, key, hn_jw_data(w, NULL));
    hn_jw_free(w);
    return s;
}

static hn_status command_json(const hn_run_info *info, char **out) {
    hn_jw *w = hn_jw_new(0);
    if (!w) return hn_fail(HN_ERR_NOMEM, "out of memory");
    hn_jw_arr_begin(w);
    for (int i = 0; info && i < info->argc; i++) hn_jw_str(w, info->argv[i]);
    hn_jw_arr_end(w);
    hn_status s = hn_jw_status(w);
    if (s == HN_OK) {
        *out = strdup(hn_jw_data(w, NULL));
        if (!*out) s = hn_fail(HN_ERR_NOMEM, "out of memory");
    }
    hn_jw_free(w);
    return s;
}

/* ---- open / start / finish ------------------------------------------------ */

/* hn_file_write_atomic writes X.tmp.PID and renames it; a process killed
 * in between leaves the temp file behind.  Removes those of processes that
 * no longer exist (a live PID may be another writer of this directory). */
static void clean_stale_tmp(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *t = strstr(e->d_name, ".tmp.");
        const char *last = t;
        while (t && (t = strstr(t + 1, ".tmp."))) last = t;
        if (!last || !last[5]) continue;
        char *end;
        long pid = strtol(last + 5, &end, 10);
        if (*end || pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) == 0)
            HN_WARN("removed %s, a temporary file left by killed process %ld",
                    p, pid);
    }
    closedir(d);
}

hn_status hn_rundir_open(const char *dir, hn_rundir_mode mode,
                         hn_rundir **out) {
    if (!dir || !*dir) return hn_fail(HN_ERR_INVAL, "run directory: empty path");
    bool exists = hn_rundir_exists(dir);
    if (mode == HN_RUNDIR_NEW && exists)
        return hn_fail(HN_ERR_INVAL,
                       "%s already holds a run (manifest.json): continue it "
                       "with --resume, or choose another --out or name",
                       dir);
    if (mode == HN_RUNDIR_RESUME && !exists)
        return hn_fail(HN_ERR_IO,
                       "%s: no run to resume (no manifest.json; directory %s)",
                       dir, is_dir(dir) ? "exists" : "does not exist");
    hn_rundir *rd = calloc(1, sizeof *rd);
    if (!rd) return hn_fail(HN_ERR_NOMEM, "out of memory");
    clock_gettime(CLOCK_MONOTONIC, &rd->t0);
    rd->dir = strdup(dir);
    size_t l = rd->dir ? strlen(rd->dir) : 0;
    while (l > 1 && rd->dir[l - 1] == '/') rd->dir[--l] = 0;
    rd->resumed = exists;
    hn_status s = rd->dir ? HN_OK : hn_fail(HN_ERR_NOMEM, "out of memory");
    char p[4200];
    if (s == HN_OK) s = hn_mkdirs(rd->dir);
    if (s == HN_OK) {
        snprintf(p, sizeof p, "%s/checkpoints", rd->dir);
        s = hn_mkdirs(p);
    }
    if (s == HN_OK) {
        snprintf(p, sizeof p, "%s/plots", rd->dir);
        s = hn_mkdirs(p);
    }
    if (s == HN_OK && exists) s = load_manifest(rd);
    if (s == HN_OK) {
        clean_stale_tmp(rd->dir);
        snprintf(p, sizeof p, "%s/checkpoints", rd->dir);
        clean_stale_tmp(p);
    }
    if (s != HN_OK) {
        hn_rundir_free(rd);
        return s;
    }
    *out = rd;
    return HN_OK;
}

void hn_rundir_free(hn_rundir *rd) {
    if (!rd) return;
    if (rd->log) fclose(rd->log);
    for (int i = 0; i < rd->nm; i++) {
        free(rd->m[i].key);
        free(rd->m[i].json);
    }
    free(rd->dir);
    free(rd);
}

static hn_status open_log(hn_rundir *rd) {
    if (rd->log) return HN_OK;
    char p[4200];
    snprintf(p, sizeof p, "%s/log.jsonl", rd->dir);
    HN_TRY(trim_partial_line(p));
    rd->log = fopen(p, "a");
    if (!rd->log) return hn_fail(HN_ERR_IO, "%s: cannot open: %s", p, strerror(errno));
    return HN_OK;
}

hn_status hn_rundir_start(hn_rundir *rd, const hn_run_info *info) {
    char now[64];
    iso_now(now, sizeof now);
    char *cmd = NULL;
    HN_TRY(command_json(info, &cmd));
    hn_status s = HN_OK;
    if (!rd->resumed) {
        const char *base = strrchr(rd->dir, '/');
        s = put_str(rd, "format", "hetnas-run/1");
        if (s == HN_OK) s = put_str(rd, "name", base ? base + 1 : rd->dir);
        if (s == HN_OK) s = put_str(rd, "status", "running");
        if (s == HN_OK) s = put_str(rd, "start", now);
        if (s == HN_OK) s = put_member(rd, "end", "null");
        if (s == HN_OK) s = put_member(rd, "command", cmd);
        char cwd[4096];
        if (s == HN_OK && getcwd(cwd, sizeof cwd)) s = put_str(rd, "cwd", cwd);
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)(info ? info->seed : 0));
        if (s == HN_OK) s = put_member(rd, "seed", seed);
        if (s == HN_OK)
            s = put_member(rd, "experiment",
                           info && info->experiment_json ? info->experiment_json : "null");
        if (s == HN_OK) s = put_built(rd, "git", write_git);
        if (s == HN_OK) s = put_built(rd, "tools", write_tools);
        if (s == HN_OK) s = put_built(rd, "host", write_host);
        if (s == HN_OK) s = put_member(rd, "resumes", "[]");
    } else {
        /* keep the history: append {time, command} to resumes */
        int i = find_member(rd, "resumes");
        const char *old = i >= 0 ? rd->m[i].json : "[]";
        size_t ol = strlen(old);
        while (ol > 0 && (old[ol - 1] == ' ' || old[ol - 1] == '\n')) ol--;
        if (ol < 2 || old[0] != '[' || old[ol - 1] != ']') {
            free(cmd);
            return hn_fail(HN_ERR_FORMAT, "%s/manifest.json: 'resumes' is not a list",
                           rd->dir);
        }
        bool empty = true;
        for (size_t k = 1; k + 1 < ol; k++)
            if (old[k] != ' ' && old[k] != '\n') empty = false;
        size_t cap = ol + strlen(cmd) + 128;
        char *nj = malloc(cap);
        if (!nj) {
            free(cmd);
            return hn_fail(HN_ERR_NOMEM, "out of memory");
        }
        snprintf(nj, cap, "%.*s%s{\"time\":\"%s\",\"command\":%s}]", (int)(ol - 1), old,
                 empty ? "" : ",", now, cmd);
        s = put_member(rd, "resumes", nj);
        free(nj);
        if (s == HN_OK) s = put_str(rd, "status", "running");
        if (s == HN_OK) s = put_member(rd, "end", "null");
    }
    free(cmd);
    if (s == HN_OK) s = save_manifest(rd);
    if (s == HN_OK) s = open_log(rd);
    if (s == HN_OK) {
        hn_jw *w = hn_rundir_event_begin(rd, rd->resumed ? "resume" : "start");
        if (!w) return hn_fail(HN_ERR_NOMEM, "out of memory");
        hn_jw_key(w, "seed");
        hn_jw_uint(w, info ? info->seed : 0);
        s = hn_rundir_event_end(rd, w);
    }
    return s;
}

static const char *const k_reserved[] = {"format", "name", "status", "start",
                                         "end", "command", "cwd", "seed",
                                         "git", "tools", "host", "resumes"};

hn_status hn_rundir_manifest_set(hn_rundir *rd, const char *key,
                                 const char *json) {
    for (size_t i = 0; i < sizeof k_reserved / sizeof *k_reserved; i++)
        if (!strcmp(key, k_reserved[i]))
            return hn_fail(HN_ERR_INVAL, "manifest key '%s' is managed by the "
                           "run directory", key);
    hn_jv *v = NULL;
    char what[200];
    snprintf(what, sizeof what, "manifest member '%s'", key);
    HN_TRY(hn_jv_parse(json, strlen(json), what, &v));
    hn_jv_free(v);
    HN_TRY(put_member(rd, key, json));
    return save_manifest(rd);
}

const char *hn_rundir_manifest_get(hn_rundir *rd, const char *key) {
    int i = find_member(rd, key);
    return i >= 0 ? rd->m[i].json : NULL;
}

hn_status hn_rundir_finish(hn_rundir *rd, const char *status) {
    char now[64];
    iso_now(now, sizeof now);
    HN_TRY(put_str(rd, "status", status ? status : "finished"));
    HN_TRY(put_str(rd, "end", now));
    hn_jw *w = hn_rundir_event_begin(rd, "end");
    if (w) {
        hn_jw_key(w, "status");
        hn_jw_str(w, status ? status : "finished");
        HN_TRY(hn_rundir_event_end(rd, w));
    }
    HN_TRY(hn_rundir_sync(rd));
    return save_manifest(rd);
}

/* ---- log ------------------------------------------------------------------ */

hn_jw *hn_rundir_event_begin(hn_rundir *rd, const char *event) {
    hn_jw *w = hn_jw_new(0);
    if (!w) return NULL;
    char now[64];
    iso_now(now, sizeof now);
    hn_jw_obj_begin(w);
    hn_jw_key(w, "time");
    hn_jw_str(w, now);
    hn_jw_key(w, "elapsed");
    hn_jw_double(w, (double)(long long)(elapsed(rd) * 1000) / 1000.0);
    hn_jw_key(w, "event");
    hn_jw_str(w, event);
    return w;
}

hn_status hn_rundir_event_end(hn_rundir *rd, hn_jw *w) {
    hn_jw_obj_end(w);
    hn_status s = hn_jw_status(w);
    if (s == HN_OK) s = hn_rundir_log_line(rd, hn_jw_data(w, NULL));
    hn_jw_free(w);
    return s;
}

hn_status hn_rundir_log_line(hn_rundir *rd, const char *json_object) {
    HN_TRY(open_log(rd));
    if (strchr(json_object, '\n'))
        return hn_fail(HN_ERR_INVAL, "log event contains a newline");
    if (fprintf(rd->log, "%s\n", json_object) < 0 || fflush(rd->log) != 0)
        return hn_fail(HN_ERR_IO, "%s/log.jsonl: write failed: %s", rd->dir,
                       strerror(errno));
    return HN_OK;
}

hn_status hn_rundir_sync(hn_rundir *rd) {
    if (!rd->log) return HN_OK;
    if (fflush(rd->log) != 0 || fsync(fileno(rd->log)) != 0)
        return hn_fail(HN_ERR_IO, "%s/log.jsonl: sync failed: %s", rd->dir,
                       strerror(errno));
    return HN_OK;
}

/* ---- checkpoints ---------------------------------------------------------- */

hn_status hn_rundir_ckpt_path(const hn_rundir *rd, int epoch, char *buf,
                              size_t cap) {
    char rel[64];
    snprintf(rel, sizeof rel, "checkpoints/epoch_%04d.safetensors", epoch);
    return hn_rundir_file(rd, rel, buf, cap);
}

static int cmp_desc(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x < y) - (x > y);
}

/* Epochs of checkpoints/epoch_NNNN.safetensors, newest first. */
static hn_status list_epochs(const hn_rundir *rd, int **out, int *n) {
    char p[4200];
    snprintf(p, sizeof p, "%s/checkpoints", rd->dir);
    *out = NULL;
    *n = 0;
    DIR *d = opendir(p);
    if (!d) {
        if (errno == ENOENT) return HN_OK;
        return hn_fail(HN_ERR_IO, "%s: cannot list: %s", p, strerror(errno));
    }
    int cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int ep;
        char tail[32], canon[64];
        if (sscanf(e->d_name, "epoch_%d.%31s", &ep, tail) != 2 || ep < 0) continue;
        snprintf(canon, sizeof canon, "epoch_%04d.safetensors", ep);
        if (strcmp(canon, e->d_name)) continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            int *ni = realloc(*out, sizeof(int) * (size_t)cap);
            if (!ni) {
                closedir(d);
                free(*out);
                *out = NULL;
                return hn_fail(HN_ERR_NOMEM, "out of memory");
            }
            *out = ni;
        }
        (*out)[(*n)++] = ep;
    }
    closedir(d);
    if (*n) qsort(*out, (size_t)*n, sizeof(int), cmp_desc);
    return HN_OK;
}

hn_status hn_rundir_latest_ckpt(const hn_rundir *rd, hn_rundir_ckpt_check check,
                                void *ud, char *buf, size_t cap, int *epoch) {
    int *eps, n;
    HN_TRY(list_epochs(rd, &eps, &n));
    *epoch = -1;
    if (cap) buf[0] = 0;
    char first_err[1024] = "";
    for (int i = 0; i < n; i++) {
        char p[4200];
        hn_rundir_ckpt_path(rd, eps[i], p, sizeof p);
        if (check(p, ud) != HN_OK) {
            if (!first_err[0])
                snprintf(first_err, sizeof first_err, "%s", hn_error_msg());
            HN_WARN("skipping damaged checkpoint: %s", hn_error_msg());
            continue;
        }
        if (strlen(p) >= cap) {
            free(eps);
            return hn_fail(HN_ERR_RANGE, "%s: path too long", p);
        }
        memcpy(buf, p, strlen(p) + 1);
        *epoch = eps[i];
        break;
    }
    free(eps);
    /* Checkpoints exist but none loads: restarting from scratch would
     * silently throw the run's progress away. */
    if (n > 0 && *epoch < 0)
        return hn_fail(HN_ERR_FORMAT, "%s/checkpoints: all %d epoch "
                       "checkpoints are damaged (newest: %s); not restarting "
                       "from scratch: delete them to start over", rd->dir, n,
                       first_err);
    return HN_OK;
}

hn_status hn_rundir_prune_ckpts(const hn_rundir *rd, int keep) {
    int *eps, n;
    HN_TRY(list_epochs(rd, &eps, &n));
    hn_status s = HN_OK;
    for (int i = keep < 0 ? 0 : keep; i < n; i++) {
        char p[4200], rel[64];
        hn_rundir_ckpt_path(rd, eps[i], p, sizeof p);
        if (unlink(p) != 0 && errno != ENOENT)
            s = hn_fail(HN_ERR_IO, "%s: cannot delete: %s", p, strerror(errno));
        snprintf(rel, sizeof rel, "checkpoints/epoch_%04d.json", eps[i]);
        hn_rundir_file(rd, rel, p, sizeof p);
        unlink(p);
    }
    free(eps);
    return s;
}

/* ---- resuming the same experiment ----------------------------------------- */

static void json_diff(const char *ta, const hn_jv *a, const char *tb,
                      const hn_jv *b, const char *path, char *buf, size_t cap,
                      int *n) {
    if (a->kind == HN_JV_OBJ && b->kind == HN_JV_OBJ) {
        for (int pass = 0; pass < 2; pass++) {
            const hn_jv *x = pass ? b : a, *y = pass ? a : b;
            for (size_t i = 0; i < x->n; i++) {
                char sub[512];
                snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "",
                         x->keys[i]);
                /* not part of what is trained */
                if (!strcmp(sub, "source") || !strcmp(sub, "description"))
                    continue;
                const hn_jv *yv = hn_jv_get(y, x->keys[i]);
                if (!yv) {
                    size_t l = strlen(buf);
                    snprintf(buf + l, cap - l, "%s%s", *n ? ", " : "", sub);
                    (*n)++;
                } else if (!pass) {
                    json_diff(ta, &x->items[i], tb, yv, sub, buf, cap, n);
                }
            }
        }
        return;
    }
    size_t la = a->src_end - a->src_begin, lb = b->src_end - b->src_begin;
    if (a->kind != b->kind || la != lb ||
        memcmp(ta + a->src_begin, tb + b->src_begin, la)) {
        size_t l = strlen(buf);
        snprintf(buf + l, cap - l, "%s%s", *n ? ", " : "", path);
        (*n)++;
    }
}

hn_status hn_rundir_check_experiment(hn_rundir *rd, const char *now) {
    const char *was = hn_rundir_manifest_get(rd, "experiment");
    if (!was || !strcmp(was, "null")) return HN_OK; /* not a training run */
    hn_jv *a = NULL, *b = NULL;
    char what[1200];
    snprintf(what, sizeof what, "%s/manifest.json: experiment",
             hn_rundir_path(rd));
    hn_status st = hn_jv_parse(was, strlen(was), what, &a);
    if (st == HN_OK) st = hn_jv_parse(now, strlen(now), "experiment", &b);
    if (st == HN_OK) {
        char keys[600] = "";
        int n = 0;
        json_diff(was, a, now, b, "", keys, sizeof keys, &n);
        if (n > 0)
            st = hn_fail(HN_ERR_INVAL, "%s: --resume with a changed "
                         "experiment (%d key%s differ%s from the run's "
                         "manifest.json: %s); resume with the original "
                         "experiment, or start a new run with another --out",
                         hn_rundir_path(rd), n, n == 1 ? "" : "s",
                         n == 1 ? "s" : "", keys);
    }
    hn_jv_free(a);
    hn_jv_free(b);
    return st;
}
