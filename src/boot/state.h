/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "record.h"

#define STATE_FILE "/run/usi-init/state.json"
#define STATE_VERSION 1

/* struct boot (and the plan it ran, may be NULL) as one JSON object. Keys are
 * stable (see usi-init(8)); new facts are new keys, never renamed ones.
 * Nothing secret is ever in struct boot, so nothing secret can get here. */
struct json_object *state_to_json(const struct plan *p, const struct boot *b);

/* Write it to `path` (NULL: ROOT/run/usi-init/state.json, through the root fd),
 * as a temporary file renamed over the old one. Logs its own failure. */
int state_write(const struct plan *p, const struct boot *b, const char *path);
