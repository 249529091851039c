/* Thread counts for shared machines (threads.h). */
#define _GNU_SOURCE
#include "hetnas/threads.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "hetnas/log.h"

#ifdef HN_HAVE_OPENMP
#include <omp.h>
#endif

int hn_threads_cpus(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Aggregate jiffies of /proc/stat's first line: busy and total. */
static int read_stat(unsigned long long *busy, unsigned long long *total) {
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return -1;
    unsigned long long v[10] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
                   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7],
                   &v[8], &v[9]);
    fclose(f);
    if (n < 4) return -1;
    /* user nice system idle iowait irq softirq steal (guest is in user) */
    unsigned long long idle = v[3] + (n > 4 ? v[4] : 0), t = 0;
    for (int i = 0; i < n && i < 8; i++) t += v[i];
    *total = t;
    *busy = t - idle;
    return 0;
}

int hn_threads_available(int sample_ms) {
    int cpus = hn_threads_cpus();
    unsigned long long b0, t0, b1, t1;
    if (read_stat(&b0, &t0) != 0) return cpus;
    struct timespec ts = {sample_ms / 1000, (long)(sample_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    if (read_stat(&b1, &t1) != 0 || t1 <= t0) return cpus;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online < 1) online = cpus;
    /* busy CPUs of the whole machine; the caller sleeps meanwhile, so this
     * is other processes' load */
    double busy = (double)(b1 - b0) / (double)(t1 - t0) * (double)online;
    int free_cpus = cpus - (int)(busy + 0.5);
    return free_cpus < 1 ? 1 : free_cpus > cpus ? cpus : free_cpus;
}

int hn_threads_apply(int requested) {
    int n = requested;
    const char *env = getenv("OMP_NUM_THREADS");
    if (n <= 0 && env && atoi(env) > 0) {
        /* the user (or a job scheduler such as mpirun/srun) chose it */
        n = atoi(env);
        HN_INFO("threads: 0 -> %d (OMP_NUM_THREADS)", n);
    } else if (n <= 0) {
        n = hn_threads_available(100);
        HN_INFO("threads: 0 -> %d (%d CPUs, the rest busy with other work)", n,
                hn_threads_cpus());
    }
#ifdef HN_HAVE_OPENMP
    omp_set_num_threads(n);
#endif
    return n;
}

int hn_threads_tune_env(void) {
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return 0;
    if (setenv("GOMP_SPINCOUNT", HN_GOMP_SPINCOUNT, 1) != 0) return 0;
    return 1;
}
