/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "json-parse.h"
#include "why.h"

int json_text_has_nul_escape(const char *text, size_t len) {
        /* json-c takes 'single-quoted' strings too: inside one, a '"' is
         * text, and the other way round. */
        char quote = 0;

        for (size_t i = 0; i < len; i++) {
                if (!quote) {
                        if (text[i] == '"' || text[i] == '\'')
                                quote = text[i];
                } else if (text[i] == quote)
                        quote = 0;
                else if (text[i] == '\\') {
                        /* An escape: "\\" and "\"" must not end or start
                         * anything, so the next character is skipped. */
                        if (i + 5 < len && text[i + 1] == 'u' && strncmp(text + i + 2, "0000", 4) == 0)
                                return 1;
                        i++;
                }
        }
        return 0;
}

int json_parse_object(const char *text, size_t len, struct json_object **ret, char **why) {
        struct json_tokener *tok;
        struct json_object *o;
        bool whole;

        if (len > INT_MAX)
                return why_set(why, EFBIG, "JSON text of %zu bytes is too large", len);
        if (!text || strnlen(text, len) != len)
                return why_set(why, EBADMSG, "not a JSON object (a NUL byte in the text)");
        if (json_text_has_nul_escape(text, len))
                return why_set(why, EBADMSG, "a JSON string holds \\u0000 (a NUL)");
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, text, (int) len);
        whole = json_tokener_get_error(tok) == json_tokener_success;
        /* Only white space may follow the object. */
        for (size_t i = whole ? (size_t) tok->char_offset : len; i < len; i++)
                if (!strchr(" \t\r\n", text[i]))
                        whole = false;
        json_tokener_free(tok);
        if (!o || !whole || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return why_set(why, EBADMSG, "not a JSON object");
        }
        *ret = o;
        return 0;
}
