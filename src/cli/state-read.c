/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>

#include "json-parse.h"
#include "encoding.h"
#include "why.h"
#include "safe-open.h"
#include "state-read.h"
#include "util.h"

/* Every string of the file as str_escape() shows it, so what status and
 * --explain print of it (a label, a path, a reason) stays one plain line. */
static int escape_strings(struct json_object *o) {
        if (json_object_is_type(o, json_type_string)) {
                _cleanup_free_ char *e = str_escape_dup(json_object_get_string(o));
                if (!e)
                        return -ENOMEM;
                return json_object_set_string(o, e) ? 0 : -ENOMEM;
        }
        if (json_object_is_type(o, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(o); i++)
                        if (escape_strings(json_object_array_get_idx(o, i)) < 0)
                                return -ENOMEM;
        } else if (json_object_is_type(o, json_type_object)) {
                json_object_object_foreach(o, k, v) {
                        (void) k;
                        if (escape_strings(v) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

int state_read(const char *path, struct json_object **ret, char **why) {
        _cleanup_free_ char *text = NULL;
        struct json_object *o;
        int r = safe_read_path(path, SAFE_STATE_MAX, &text, NULL, why);

        if (r < 0)
                return r;
        r = json_parse_object(text, strlen(text), &o, why);
        if (r < 0) {
                why_prefix(why, "%s", path);
                return r;
        }
        if (escape_strings(o) < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        *ret = o;
        return 0;
}

static struct json_object *get(struct json_object *o, const char *key, enum json_type type) {
        struct json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, type) ? v : NULL;
}

const char *state_str(struct json_object *o, const char *key) {
        struct json_object *v = get(o, key, json_type_string);
        return v ? json_object_get_string(v) : NULL;
}

int64_t state_num(struct json_object *o, const char *key) {
        struct json_object *v;
        return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

bool state_flag(struct json_object *o, const char *key) {
        struct json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

struct json_object *state_arr(struct json_object *o, const char *key) {
        return get(o, key, json_type_array);
}

int state_hex32(struct json_object *o, const char *key, uint8_t out[32]) {
        const char *s = state_str(o, key);
        return s && hex_parse(s, out, 32, NULL) >= 0 ? 0 : -ENOENT;
}
