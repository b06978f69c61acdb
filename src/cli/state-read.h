/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* state.json read back, for the commands that show what a boot did
 * (`usi-init status`, `unlock --explain`). src/boot/state.c writes it; this is
 * its one reader. The file is a record, not something to trust: a
 * --state-file may name anything, and a missing or mistyped key reads as
 * its default. */

/* Read by safe_read_path() with a cap of SAFE_STATE_MAX; it must hold one
 * JSON object. -EBADMSG when it does not parse. `*why` (src/base/why.h) names the
 * file and the reason. */
int state_read(const char *path, struct json_object **ret, char **why);

/* The value of `key`, or NULL / 0 / false / NULL when absent or of another type. */
const char *state_str(struct json_object *o, const char *key);
int64_t state_num(struct json_object *o, const char *key);
bool state_flag(struct json_object *o, const char *key);
struct json_object *state_arr(struct json_object *o, const char *key);

/* A 32-byte value kept as 64 hex digits (pcr11_base). -ENOENT when absent
 * or not that. */
int state_hex32(struct json_object *o, const char *key, uint8_t out[32]);
