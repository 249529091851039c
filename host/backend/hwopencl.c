/* The opencl backend (backend.h): the HLS kernel source hls/hn_bsconv.c,
 * unchanged, built as OpenCL C 1.2 for a device of an OpenCL platform (PoCL
 * on the CPU here; on Alveo, XRT's ICD with an xclbin is the same API) and
 * fed with the bit-plane packing of hwpack.c, one work-item per job.
 * The kernel source is read at open from $HN_HLS_DIR, else the source
 * tree's hls/ (HN_HLS_DIR at build time). */
#ifdef HN_HAVE_OPENCL
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/backend.h"
#include "hetnas/fileio.h"
#include "hetnas/hwref.h"
#include "hn_bsconv.h"

#ifndef HN_HLS_DIR
#define HN_HLS_DIR "hls"
#endif

typedef struct ocl {
    cl_context ctx;
    cl_command_queue q;
    cl_program prog;
    cl_kernel kern;
} ocl;

static void ocl_close(void *state) {
    ocl *c = state;
    if (!c) return;
    if (c->kern) clReleaseKernel(c->kern);
    if (c->prog) clReleaseProgram(c->prog);
    if (c->q) clReleaseCommandQueue(c->q);
    if (c->ctx) clReleaseContext(c->ctx);
    free(c);
}

static hn_status ocl_open(const hn_backend_opts *o, void **state) {
    *state = NULL;
    cl_platform_id plats[16];
    cl_uint np = 0;
    if (clGetPlatformIDs(16, plats, &np) != CL_SUCCESS || np == 0)
        return hn_fail(HN_ERR_UNSUPPORTED, "opencl: no OpenCL platform answers "
                       "(is an ICD such as pocl-opencl-icd installed?)");
    if (o->platform < 0 || (cl_uint)o->platform >= np)
        return hn_fail(HN_ERR_RANGE, "opencl: platform %d does not exist (%u "
                       "platform%s)", o->platform, np, np == 1 ? "" : "s");
    cl_device_id devs[16];
    cl_uint nd = 0;
    if (clGetDeviceIDs(plats[o->platform], CL_DEVICE_TYPE_ALL, 16, devs, &nd) !=
            CL_SUCCESS || nd == 0)
        return hn_fail(HN_ERR_UNSUPPORTED, "opencl: platform %d has no devices",
                       o->platform);
    if (o->device < 0 || (cl_uint)o->device >= nd)
        return hn_fail(HN_ERR_RANGE, "opencl: device %d does not exist on "
                       "platform %d (%u device%s)", o->device, o->platform, nd,
                       nd == 1 ? "" : "s");
    cl_device_id dev = devs[o->device];
    const char *dir = getenv("HN_HLS_DIR");
    if (!dir || !*dir) dir = HN_HLS_DIR;
    char path[1024];
    snprintf(path, sizeof path, "%s/hn_bsconv.c", dir);
    char *src = NULL;
    size_t len = 0;
    if (hn_file_read_all(path, &src, &len) != HN_OK)
        return hn_fail(HN_ERR_IO, "opencl: cannot read the kernel source %s "
                       "(set HN_HLS_DIR to the hls/ directory)", path);
    ocl *c = calloc(1, sizeof *c);
    hn_status s = HN_OK;
    cl_int err = CL_SUCCESS;
    if (!c) s = hn_fail(HN_ERR_NOMEM, "opencl");
    if (s == HN_OK) {
        c->ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
        if (err != CL_SUCCESS) s = hn_fail(HN_ERR_IO, "opencl: clCreateContext: %d", err);
    }
    if (s == HN_OK) {
        c->q = clCreateCommandQueue(c->ctx, dev, 0, &err);
        if (err != CL_SUCCESS) s = hn_fail(HN_ERR_IO, "opencl: clCreateCommandQueue: %d", err);
    }
    if (s == HN_OK) {
        const char *srcs[1] = {src};
        c->prog = clCreateProgramWithSource(c->ctx, 1, srcs, &len, &err);
        if (err != CL_SUCCESS) s = hn_fail(HN_ERR_IO, "opencl: clCreateProgramWithSource: %d", err);
    }
    if (s == HN_OK) {
        char flags[1200];
        snprintf(flags, sizeof flags, "-cl-std=CL1.2 -I %s", dir);
        err = clBuildProgram(c->prog, 1, &dev, flags, NULL, NULL);
        if (err != CL_SUCCESS) {
            char log[2048] = "";
            clGetProgramBuildInfo(c->prog, dev, CL_PROGRAM_BUILD_LOG, sizeof log - 1,
                                  log, NULL);
            s = hn_fail(HN_ERR_IO, "opencl: building %s failed (%d): %s", path, err, log);
        }
    }
    if (s == HN_OK) {
        c->kern = clCreateKernel(c->prog, "hn_bsconv", &err);
        if (err != CL_SUCCESS) s = hn_fail(HN_ERR_IO, "opencl: clCreateKernel: %d", err);
    }
    free(src);
    if (s != HN_OK) {
        ocl_close(c);
        return s;
    }
    *state = c;
    return HN_OK;
}

static hn_status ocl_run(void *state, const hn_hwjob *job, int32_t *acc,
                         uint64_t *cycles, uint64_t *work) {
    (void)cycles;
    ocl *c = state;
    hn_hwpack p;
    HN_TRY(hn_hwpack_build(job, &p));
    size_t nacc = (size_t)job->c_out * p.out_h * p.out_w;
    cl_int err = CL_SUCCESS;
    cl_mem b[4] = {NULL, NULL, NULL, NULL};
    hn_status s = HN_OK;
    b[0] = clCreateBuffer(c->ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                          p.n_desc * 4, p.desc, &err);
    if (err == CL_SUCCESS)
        b[1] = clCreateBuffer(c->ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                              p.n_wpk * 8, p.wpk, &err);
    if (err == CL_SUCCESS)
        b[2] = clCreateBuffer(c->ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                              p.n_apk * 8, p.apk, &err);
    if (err == CL_SUCCESS)
        b[3] = clCreateBuffer(c->ctx, CL_MEM_WRITE_ONLY, (nacc ? nacc : 1) * 4, NULL, &err);
    for (int i = 0; err == CL_SUCCESS && i < 4; i++)
        err = clSetKernelArg(c->kern, (cl_uint)i, sizeof b[i], &b[i]);
    size_t one = 1;
    if (err == CL_SUCCESS)
        err = clEnqueueNDRangeKernel(c->q, c->kern, 1, NULL, &one, &one, 0, NULL, NULL);
    if (err == CL_SUCCESS)
        err = clEnqueueReadBuffer(c->q, b[3], CL_TRUE, 0, nacc * 4, acc, 0, NULL, NULL);
    if (err == CL_SUCCESS)
        err = clEnqueueReadBuffer(c->q, b[0], CL_TRUE, 0, p.n_desc * 4, p.desc, 0,
                                  NULL, NULL);
    if (err != CL_SUCCESS) s = hn_fail(HN_ERR_IO, "opencl: running the kernel: error %d", err);
    else
        s = hn_hwpack_verdict(&p, "opencl", work);
    for (int i = 0; i < 4; i++)
        if (b[i]) clReleaseMemObject(b[i]);
    hn_hwpack_free(&p);
    return s;
}

const hn_backend_ops hn_backend_opencl_ops = {
    .name = "opencl",
    .desc = "HLS kernel source through OpenCL (PoCL here; XRT's ICD on Alveo)",
    .runs_jobs = 1, .open = ocl_open, .run_job = ocl_run, .close = ocl_close};
#else
/* ISO C wants a translation unit to declare something. */
typedef int hn_hwopencl_unused;
#endif
