/* The xrt backend (backend.h): the HLS kernel hn_bsconv (hls/, built into
 * an xclbin by the Alveo flow, docs/hardware.md) on an Alveo card through
 * XRT's native C API: xrtDeviceOpen, xrtDeviceLoadXclbinFile,
 * xrtPLKernelOpen, xrtBOAlloc, xrtKernelRun, xrtRunWaitFor.
 *
 * XRT is unforgiving when it is not set up: Debian's libxrt aborts the
 * process (an uncaught C++ exception) when XILINX_XRT is unset or does not
 * hold its libraries, and a device or kernel can stop answering.  So:
 *   - the preconditions that make XRT abort are checked first, without
 *     calling XRT (XILINX_XRT, $XILINX_XRT/lib/libxrt_core.so.2, the xclbin
 *     file and its magic);
 *   - opening the device, loading the xclbin and opening the kernel run
 *     once in a forked child first, with a time limit: an abort, a crash
 *     or a hang there becomes a clear error here, not the caller's death;
 *   - every kernel run waits at most opts.timeout_ms (default 10 s).
 * Kernel time is measured on the host around start..wait (per job). */
#ifdef HN_HAVE_XRT
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>
#include <xrt/xrt_kernel.h>

#include "hetnas/backend.h"
#include "hetnas/hwref.h"
#include "hn_bsconv.h"

typedef struct xrtb {
    xrtDeviceHandle dev;
    xrtKernelHandle kern;
    unsigned timeout_ms;
    uint64_t kernel_ns;
} xrtb;

static hn_status preconditions(const hn_backend_opts *o) {
    const char *root = getenv("XILINX_XRT");
    if (!root || !*root)
        return hn_fail(HN_ERR_UNSUPPORTED, "xrt: XILINX_XRT is not set (XRT aborts "
                       "without it): point it at the XRT install whose lib/ "
                       "holds libxrt_core.so.2 (/opt/xilinx/xrt for AMD's "
                       "packages; for Debian's, a directory with a lib/ link "
                       "to /usr/lib/x86_64-linux-gnu/libxrt_core.so.2)");
    char lib[1200];
    snprintf(lib, sizeof lib, "%s/lib/libxrt_core.so.2", root);
    struct stat sb;
    if (stat(lib, &sb) != 0)
        return hn_fail(HN_ERR_UNSUPPORTED, "xrt: XILINX_XRT=%s has no "
                       "lib/libxrt_core.so.2 (XRT aborts without it)", root);
    if (!o->xclbin || !*o->xclbin)
        return hn_fail(HN_ERR_INVAL, "xrt: no xclbin given (--xclbin FILE: the "
                       "HLS kernel built for the card, docs/hardware.md)");
    FILE *f = fopen(o->xclbin, "rb");
    if (!f)
        return hn_fail(HN_ERR_IO, "xrt: cannot open the xclbin %s: %s", o->xclbin,
                       strerror(errno));
    char magic[8] = {0};
    size_t got = fread(magic, 1, sizeof magic, f);
    fclose(f);
    if (got != sizeof magic || memcmp(magic, "xclbin2", 8) != 0)
        return hn_fail(HN_ERR_FORMAT, "xrt: %s is not an xclbin (no \"xclbin2\" "
                       "magic at its start)", o->xclbin);
    if (o->device < 0)
        return hn_fail(HN_ERR_RANGE, "xrt: device index %d is negative", o->device);
    return HN_OK;
}

/* Opens device, xclbin and kernel into x; returns a stage code (0 = ok). */
enum { ST_OK = 0, ST_DEVICE = 10, ST_XCLBIN, ST_UUID, ST_KERNEL };

static int open_all(const hn_backend_opts *o, xrtb *x) {
    x->dev = xrtDeviceOpen((unsigned)o->device);
    if (!x->dev) return ST_DEVICE;
    if (xrtDeviceLoadXclbinFile(x->dev, o->xclbin) != 0) return ST_XCLBIN;
    xuid_t uuid;
    if (xrtDeviceGetXclbinUUID(x->dev, uuid) != 0) return ST_UUID;
    x->kern = xrtPLKernelOpen(x->dev, uuid, "hn_bsconv");
    if (!x->kern) return ST_KERNEL;
    return ST_OK;
}

static void close_all(xrtb *x) {
    if (x->kern) xrtKernelClose(x->kern);
    if (x->dev) xrtDeviceClose(x->dev);
    x->kern = NULL;
    x->dev = NULL;
}

static hn_status stage_error(int code, const hn_backend_opts *o) {
    switch (code) {
    case ST_DEVICE:
        return hn_fail(HN_ERR_UNSUPPORTED, "xrt: no device with index %d (is an "
                       "Alveo card installed, with its xocl/xclmgmt drivers? "
                       "`xbutil examine` lists devices)", o->device);
    case ST_XCLBIN:
        return hn_fail(HN_ERR_IO, "xrt: device %d refused the xclbin %s (built "
                       "for another platform or shell?)", o->device, o->xclbin);
    case ST_UUID:
        return hn_fail(HN_ERR_IO, "xrt: no UUID for the loaded xclbin %s", o->xclbin);
    case ST_KERNEL:
        return hn_fail(HN_ERR_FORMAT, "xrt: the xclbin %s has no kernel "
                       "'hn_bsconv'", o->xclbin);
    default:
        return hn_fail(HN_ERR_INTERNAL, "xrt: open failed (stage %d)", code);
    }
}

/* The open sequence in a child process, at most limit_s seconds. */
static hn_status probe(const hn_backend_opts *o, unsigned limit_s) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return hn_fail(HN_ERR_IO, "xrt: fork: %s", strerror(errno));
    if (pid == 0) {
        /* XRT's chatter stays in the child's stderr; only its verdict counts */
        xrtb x;
        memset(&x, 0, sizeof x);
        int code = open_all(o, &x);
        close_all(&x);
        _exit(code);
    }
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int status = 0;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            if (WIFEXITED(status))
                return WEXITSTATUS(status) == ST_OK ? HN_OK
                                                    : stage_error(WEXITSTATUS(status), o);
            return hn_fail(HN_ERR_UNSUPPORTED, "xrt: opening device %d with %s "
                           "killed the process (signal %d%s): the XRT runtime "
                           "is not usable here", o->device, o->xclbin,
                           WIFSIGNALED(status) ? WTERMSIG(status) : 0,
                           WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT
                               ? ", an abort inside XRT" : "");
        }
        if (r < 0) return hn_fail(HN_ERR_IO, "xrt: waitpid: %s", strerror(errno));
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((double)(t.tv_sec - t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - t0.tv_nsec) >
            (double)limit_s) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return hn_fail(HN_ERR_TIMEOUT, "xrt: opening device %d with %s did not "
                           "finish within %u s", o->device, o->xclbin, limit_s);
        }
        usleep(20000);
    }
}

static void xrt_close(void *state) {
    xrtb *x = state;
    if (!x) return;
    close_all(x);
    free(x);
}

static hn_status xrt_open(const hn_backend_opts *o, void **state) {
    *state = NULL;
    HN_TRY(preconditions(o));
    HN_TRY(probe(o, o->timeout_ms ? (o->timeout_ms + 999) / 1000 + 20 : 30));
    xrtb *x = calloc(1, sizeof *x);
    if (!x) return hn_fail(HN_ERR_NOMEM, "xrt");
    x->timeout_ms = o->timeout_ms ? o->timeout_ms : 10000;
    int code = open_all(o, x);
    if (code != ST_OK) {
        xrt_close(x);
        return stage_error(code, o);
    }
    *state = x;
    return HN_OK;
}

static hn_status xrt_run(void *state, const hn_hwjob *job, int32_t *acc,
                         uint64_t *cycles, uint64_t *work) {
    (void)cycles; /* no cycle counter on this path: host-measured time only */
    xrtb *x = state;
    hn_hwpack p;
    HN_TRY(hn_hwpack_build(job, &p));
    size_t nacc = (size_t)job->c_out * p.out_h * p.out_w;
    size_t sz[4] = {p.n_desc * 4, p.n_wpk * 8, p.n_apk * 8, (nacc ? nacc : 1) * 4};
    const void *src[3] = {p.desc, p.wpk, p.apk};
    xrtBufferHandle bo[4] = {NULL, NULL, NULL, NULL};
    hn_status st = HN_OK;
    for (int i = 0; i < 4 && st == HN_OK; i++) {
        bo[i] = xrtBOAlloc(x->dev, sz[i], XRT_BO_FLAGS_NONE,
                           (xrtMemoryGroup)xrtKernelArgGroupId(x->kern, i));
        if (!bo[i]) st = hn_fail(HN_ERR_NOMEM, "xrt: buffer %d of %zu bytes", i, sz[i]);
        else if (i < 3 && (xrtBOWrite(bo[i], src[i], sz[i], 0) != 0 ||
                           xrtBOSync(bo[i], XCL_BO_SYNC_BO_TO_DEVICE, sz[i], 0) != 0))
            st = hn_fail(HN_ERR_IO, "xrt: copying buffer %d to the device", i);
    }
    if (st == HN_OK) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        xrtRunHandle r = xrtKernelRun(x->kern, bo[0], bo[1], bo[2], bo[3]);
        if (!r) {
            st = hn_fail(HN_ERR_IO, "xrt: starting the kernel failed");
        } else {
            enum ert_cmd_state s = xrtRunWaitFor(r, x->timeout_ms);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            x->kernel_ns += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL +
                                       (t1.tv_nsec - t0.tv_nsec));
            if (s != ERT_CMD_STATE_COMPLETED)
                st = hn_fail(s == ERT_CMD_STATE_NEW || s == ERT_CMD_STATE_QUEUED ||
                                     s == ERT_CMD_STATE_RUNNING
                                 ? HN_ERR_TIMEOUT : HN_ERR_IO,
                             "xrt: the kernel did not complete within %u ms (state %d)",
                             x->timeout_ms, (int)s);
            xrtRunClose(r);
        }
    }
    if (st == HN_OK &&
        (xrtBOSync(bo[0], XCL_BO_SYNC_BO_FROM_DEVICE, sz[0], 0) != 0 ||
         xrtBORead(bo[0], p.desc, sz[0], 0) != 0 ||
         xrtBOSync(bo[3], XCL_BO_SYNC_BO_FROM_DEVICE, sz[3], 0) != 0 ||
         (nacc && xrtBORead(bo[3], acc, nacc * 4, 0) != 0)))
        st = hn_fail(HN_ERR_IO, "xrt: copying the results back");
    if (st == HN_OK) st = hn_hwpack_verdict(&p, "xrt", work);
    for (int i = 0; i < 4; i++)
        if (bo[i]) xrtBOFree(bo[i]);
    hn_hwpack_free(&p);
    return st;
}

static void xrt_stats(void *state, hn_backend_stats *s) {
    s->kernel_ns = ((xrtb *)state)->kernel_ns;
}

const hn_backend_ops hn_backend_xrt_ops = {
    .name = "xrt",
    .desc = "HLS kernel hn_bsconv on an Alveo card (XRT native API, --xclbin)",
    .runs_jobs = 1, .open = xrt_open, .run_job = xrt_run, .stats = xrt_stats,
    .close = xrt_close, .needs_device = 1};
#else
typedef int hn_hwxrt_unused;
#endif
