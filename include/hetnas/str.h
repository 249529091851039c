/* Small string helpers shared by the parsers' messages. */
#ifndef HETNAS_STR_H
#define HETNAS_STR_H

#ifdef __cplusplus
extern "C" {
#endif

/* Levenshtein distance of two short names, for "did you mean" suggestions;
 * names longer than 128 bytes are 1000 apart (never suggested). */
int hn_str_edit_distance(const char *a, const char *b);

#ifdef __cplusplus
}
#endif
#endif
