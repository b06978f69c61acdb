/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "boot.h"

#define STATE_FILE "/run/usi-init/state.json"
#define STATE_VERSION 1

/* struct boot (and the plan it ran, may be NULL) as one JSON object. Keys are
 * stable (see usi-init(8)); new facts are new keys, never renamed ones.
 * Nothing secret is ever in struct boot, so nothing secret can get here. */
struct json_object *state_to_json(const struct plan *p, const struct boot *b);

/* Write it to `path` (NULL: ROOT/run/usi-init/state.json, through the root fd),
 * as a temporary file renamed over the old one. Logs its own failure. */
int state_write(const struct plan *p, const struct boot *b, const char *path);

/* Read a state.json back (`usi-init status`, `unlock --explain`): the file is
 * read by safe_read_path() with a cap of SAFE_STATE_MAX, since a --state-file
 * may name anything; it must hold one JSON object. -EBADMSG when it does not
 * parse. `why` (WHY_MAX) names the file and the reason. */
int state_read(const char *path, struct json_object **ret, char *why);
