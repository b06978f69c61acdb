/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: json_parse_object() (src/base/json-parse.c), the one door
 * for JSON from outside (tokens, signature files, state.json, verity-sig
 * partitions, LUKS2 metadata). The input is the text as read, NULs and all;
 * what it accepts must be one object whose strings hold no NUL. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every key and string of an accepted object is NUL-free C text. */
static void walk(struct json_object *o, unsigned depth) {
        if (depth > 64)
                return;
        if (json_object_is_type(o, json_type_string)) {
                if (memchr(json_object_get_string(o), 0, (size_t) json_object_get_string_len(o)))
                        abort();
        } else if (json_object_is_type(o, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(o); i++)
                        walk(json_object_array_get_idx(o, i), depth + 1);
        } else if (json_object_is_type(o, json_type_object)) {
                json_object_object_foreach(o, k, v) {
                        (void) strlen(k);
                        walk(v, depth + 1);
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* A copy of exactly `size` bytes: the parser must not read past len. */
        char *text = malloc(size ? size : 1);
        struct json_object *o = NULL;
        char *why = NULL;

        if (!text)
                return 0;
        memcpy(text, data, size);
        (void) json_text_has_nul_escape(text, size);
        if (json_parse_object(text, size, &o, &why) >= 0) {
                if (!json_object_is_type(o, json_type_object) || json_text_has_nul_escape(text, size) > 0)
                        abort();
                walk(o, 0);
                json_object_put(o);
        } else if (!why)
                abort();
        free(why);
        free(text);
        return 0;
}
