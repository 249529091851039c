/* libFuzzer target: arbitrary bytes through the YAML reader, the schema
 * checks and the configuration loader.  Any crash, leak or sanitizer report
 * is a bug; errors must come back as hn_status. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/arch.h"
#include "hetnas/config.h"
#include "hetnas/doc.h"

static hn_arch *g_arch;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_arch) {
        hn_resnet_spec spec = hn_resnet_spec_default();
        spec.depth = 8; /* small model: more inputs reach deep validation */
        if (hn_arch_resnet(&spec, &g_arch) != HN_OK) abort();
    }
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    hn_config *c = NULL;
    if (hn_config_load_string(text, "fuzz", g_arch, &c) == HN_OK) {
        /* A config that loads must be internally consistent. */
        for (int l = 0; l < hn_config_n_layers(c); l++) {
            int w = hn_config_width(c, l);
            if (w < 1 || w > hn_arch_layer(g_arch, l)->c_out) abort();
            if (hn_config_filter_op(c, l, w - 1) < 0) abort();
            if (hn_config_filter_op(c, l, w) != -1) abort();
        }
        hn_config_free(c);
    } else if (c != NULL || hn_error_msg()[0] == '\0') {
        abort(); /* failures leave no object and always say why */
    }
    hn_doc *d = NULL;
    if (hn_doc_load_string(text, size, "fuzz", &d) == HN_OK) {
        static const hn_field f[] = {{"a", HN_FIELD_INT, true, 0, 10},
                                     {"b", HN_FIELD_SEQ, false, 0, 0}};
        (void)hn_schema_check(d, hn_doc_root(d), "", f, 2);
        hn_doc_free(d);
    }
    free(text);
    return 0;
}
