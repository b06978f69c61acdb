/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

struct json_object;

/* `usi-init status --svg FILE` ("-": standard output): the boot's timeline
 * from its record, one bar per stage and per volume step (found, unsealed,
 * opened, mounted). -ENODATA when the record has no timed stage. */
int status_svg(struct json_object *state, const char *path, char **why);
