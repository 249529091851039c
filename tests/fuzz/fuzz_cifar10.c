/* libFuzzer target: arbitrary bytes as a CIFAR-10 binary batch
 * (hn_cifar10_load_batch_buffer), appended to a batch already loaded, as
 * hn_dataset_load does for data_batch_1..5.  Errors must come back as
 * hn_status with a message; the earlier records must survive. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const size_t rec = 3073;
    uint8_t first[3073];
    memset(first, 7, sizeof first);
    first[0] = 3;
    int n = 0;
    uint8_t *px = NULL, *lb = NULL;
    if (hn_cifar10_load_batch_buffer(first, rec, "first", &n, &px, &lb) != HN_OK ||
        n != 1)
        abort();
    hn_status s = hn_cifar10_load_batch_buffer(data, size, "fuzz.bin", &n, &px, &lb);
    if (s == HN_OK) {
        if (n != 1 + (int)(size / rec) || size % rec) abort();
        for (int i = 1; i < n; i++)
            if (lb[i] > 9) abort();
        if (memcmp(px + 3072 * (size_t)(n - 1), data + size - 3072, 3072)) abort();
    } else if (n != 1 || hn_error_msg()[0] == '\0') {
        abort();
    }
    if (lb[0] != 3 || px[0] != 7) abort();
    free(px);
    free(lb);
    return 0;
}
