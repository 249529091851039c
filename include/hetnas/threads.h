/* Thread counts and OpenMP waiting that suit a machine shared with other
 * work (docs/train.md, "Threads on a busy machine"). */
#ifndef HETNAS_THREADS_H
#define HETNAS_THREADS_H

#ifdef __cplusplus
extern "C" {
#endif

/* The spin count libgomp gets when the user set neither OMP_WAIT_POLICY nor
 * GOMP_SPINCOUNT (hn_threads_tune_env): threads that wait at a barrier spin
 * this many times, then sleep.  libgomp's default (300000, or 30 billion
 * with OMP_WAIT_POLICY=active) burns a whole time slice when a sibling thread
 * was preempted by another process, which made training 6-9x slower beside
 * one compile job; bench/under_load measures the choice. */
#define HN_GOMP_SPINCOUNT "10000"

/* CPUs this process may run on (its affinity mask), >= 1. */
int hn_threads_cpus(void);

/* CPUs not busy with other processes: the affinity CPUs minus the busy
 * share of the whole machine sampled from /proc/stat over sample_ms
 * (rounded), at least 1.  Without /proc/stat: hn_threads_cpus(). */
int hn_threads_available(int sample_ms);

/* requested > 0: requested.  0: OMP_NUM_THREADS when it is set (a job
 * scheduler's choice), else hn_threads_available(100); logged at info
 * level with what was seen.  Sets OpenMP's thread count when built with it
 * and returns the count used.  A count chosen from the load may differ
 * between runs: reproducible runs fix train.threads. */
int hn_threads_apply(int requested);

/* Sets GOMP_SPINCOUNT=HN_GOMP_SPINCOUNT in the environment unless the user
 * chose a wait policy (OMP_WAIT_POLICY or GOMP_SPINCOUNT set) or it is
 * already done; returns 1 when the environment changed.  libgomp reads its
 * environment when it is loaded, so a process must re-execute itself for
 * the change to act (the CLI's main does). */
int hn_threads_tune_env(void);

#ifdef __cplusplus
}
#endif
#endif
