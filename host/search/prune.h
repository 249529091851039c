/* The pruning searches, Algorithms C.2-C.5 (private to the search layer;
 * search.h's hn_search_validate / hn_search_run dispatch here on
 * search.algorithm c2..c5).  docs/search.md describes them. */
#ifndef HN_SEARCH_PRUNE_H
#define HN_SEARCH_PRUNE_H

#include <stdbool.h>

#include "hetnas/search.h"

/* search.algorithm is one of c2..c5. */
bool hn_prune_is(const hn_experiment *e);
hn_status hn_prune_validate(const hn_experiment *e);
hn_status hn_prune_run(const hn_experiment *e, const hn_search_opts *o,
                       hn_search_result *r);

#endif
