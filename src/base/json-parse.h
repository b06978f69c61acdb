/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one door for JSON text from outside input (tokens, signature files,
 * state.json, verity-sig partitions, LUKS2 metadata). */

#include <stddef.h>
#include <json-c/json.h>

/* Exactly one JSON object in text[0..len). Refused (-EBADMSG, *why says
 * which, see src/base/why.h): anything else, a NUL byte in the text, and a
 * "\u0000" escape anywhere. json-c keeps such a NUL inside a value but cuts
 * an object key there, and C code reading either up to the NUL sees another
 * text: "sha256\u0000x" would count as "sha256". */
int json_parse_object(const char *text, size_t len, struct json_object **ret, char **why);

/* Does text[0..len) escape a NUL ("\u0000") inside a string? */
int json_text_has_nul_escape(const char *text, size_t len);
