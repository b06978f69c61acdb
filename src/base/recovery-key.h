/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "secret.h"

/* Recovery keys in systemd's format, so that a keyslot made by either opens
 * by either: 32 random bytes as 64 "modhex" characters (the alphabet
 * cbdefghijklnrtuv, the high half of each byte first), a dash after every
 * 8, 71 characters in all. The keyslot's passphrase is that text. */

#define RECOVERY_KEY_BYTES 32
#define RECOVERY_KEY_CHARS (RECOVERY_KEY_BYTES * 2 + RECOVERY_KEY_BYTES * 2 / 8 - 1)

/* A new random key, formatted (size RECOVERY_KEY_CHARS, NUL after it). */
int recovery_key_generate(struct secret **ret);

/* What a person typed, as the keyslot's passphrase: spaces and dashes
 * anywhere are dropped and case is ignored; 64 modhex characters then give
 * the formatted key (returns 1). Anything else is not a recovery key
 * (returns 0, *ret NULL): the caller keeps the text as typed. */
int recovery_key_normalize(const struct secret *typed, struct secret **ret);
