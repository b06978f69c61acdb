/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>

#include "util.h"

/* JSON null for NULL, so optional fields keep their key in the output. */
static inline struct json_object *jstr(const char *s) {
        return s ? json_object_new_string(s) : NULL;
}

static inline struct json_object *jstrv(const strv *s) {
        struct json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < s->n; i++)
                json_object_array_add(a, json_object_new_string(s->v[i]));
        return a;
}
