/* libFuzzer target: arbitrary bytes as an experiment YAML document
 * (hn_experiment_load_string) with an optional `--set` override, then the
 * resolved-JSON echo and the architecture/configuration builders.  A first
 * line "#set a.b=value" is passed as a --set.  Errors must come back as
 * hn_status with a message; anything else is a bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hetnas/experiment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    const char *sets[1];
    char *set = NULL;
    if (!strncmp(text, "#set ", 5)) {
        size_t l = strcspn(text + 5, "\n");
        set = strndup(text + 5, l);
        if (!set) {
            free(text);
            return 0;
        }
        sets[0] = set;
    }
    int n_sets = set ? 1 : 0;
    hn_experiment e;
    hn_status st = hn_experiment_load_string(text, "fuzz.yaml", sets, n_sets, &e);
    if (st == HN_OK) {
        char *json = NULL;
        if (hn_experiment_to_json(&e, 0, &json) != HN_OK) abort();
        free(json);
        hn_arch *a = NULL;
        int c = e.model.in_c ? e.model.in_c : 1;
        int h = e.model.in_h ? e.model.in_h : 28;
        int w = e.model.in_w ? e.model.in_w : 28;
        if (hn_experiment_make_arch(&e, c, h, w, 10, &a) == HN_OK) {
            /* FILE configurations would read paths named by the input. */
            if (e.config.kind != HN_EXP_CONFIG_FILE) {
                hn_config *cf = NULL;
                if (hn_experiment_make_config(&e, a, &cf) == HN_OK)
                    hn_config_free(cf);
            }
            hn_arch_free(a);
        }
        hn_experiment_clear(&e);
    } else if (hn_error_msg()[0] == '\0') {
        abort(); /* failures always say why */
    }
    free(set);
    free(text);
    return 0;
}
