/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "record.h"

/* The upper and work directories of an ephemeral path on the overlay tmpfs,
 * Kairos' layout: BASE/<path>/.overlay/{upper,work}. */
int overlay_dirs(const char *path, char **ret_upper, char **ret_work);
