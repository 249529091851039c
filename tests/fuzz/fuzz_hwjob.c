/* libFuzzer target: arbitrary bytes as a hardware job JSON file
 * (hn_hwjob_load_string).  A job that loads must pass hn_hwjob_validate and
 * run through the integer reference convolution.  Errors must come back as
 * hn_status with a message and leave nothing allocated. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/hwjob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hn_hwjob job;
    hn_status st = hn_hwjob_load_string((const char *)data, size, "fuzz.json", &job);
    if (st != HN_OK) {
        if (job.weights || job.acts || hn_error_msg()[0] == '\0') abort();
        return 0;
    }
    if (hn_hwjob_validate(&job, 16, 16) != HN_OK) abort();
    int oh, ow;
    hn_hwjob_out_dims(&job, &oh, &ow);
    size_t no = (size_t)job.c_out * oh * ow;
    size_t macs = no * (size_t)job.c_in * job.k * job.k;
    if (macs <= (1u << 22)) { /* keep each input cheap */
        int32_t *acc = malloc((no ? no : 1) * sizeof *acc);
        if (acc && hn_hwref_conv(&job, acc) != HN_OK) abort();
        free(acc);
    }
    hn_hwjob_free(&job);
    return 0;
}
