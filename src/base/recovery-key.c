/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "recovery-key.h"
#include "util.h"

static const char modhex[16] = "cbdefghijklnrtuv";

/* The 64 digits into the formatted text, NUL-terminated. */
static void format(const char digits[RECOVERY_KEY_BYTES * 2], uint8_t *out) {
        size_t o = 0;

        for (size_t i = 0; i < RECOVERY_KEY_BYTES * 2; i++) {
                if (i && i % 8 == 0)
                        out[o++] = '-';
                out[o++] = (uint8_t) digits[i];
        }
        out[o] = '\0';
}

int recovery_key_generate(struct secret **ret) {
        _cleanup_secret_ struct secret *raw = NULL, *digits = NULL, *key = NULL;
        int r;

        r = secret_random(RECOVERY_KEY_BYTES, &raw);
        if (r >= 0)
                r = secret_new(RECOVERY_KEY_BYTES * 2, &digits);
        if (r >= 0)
                r = secret_new(RECOVERY_KEY_CHARS + 1, &key);
        if (r < 0)
                return r;
        for (size_t i = 0; i < RECOVERY_KEY_BYTES; i++) {
                digits->data[2 * i] = (uint8_t) modhex[raw->data[i] >> 4];
                digits->data[2 * i + 1] = (uint8_t) modhex[raw->data[i] & 0x0f];
        }
        format((const char *) digits->data, key->data);
        key->size = RECOVERY_KEY_CHARS;
        *ret = TAKE_PTR(key);
        return 0;
}

static bool is_modhex(uint8_t c) {
        for (size_t i = 0; i < sizeof(modhex); i++)
                if (c == (uint8_t) modhex[i])
                        return true;
        return false;
}

int recovery_key_normalize(const struct secret *typed, struct secret **ret) {
        _cleanup_secret_ struct secret *digits = NULL, *key = NULL;
        size_t n = 0;
        int r;

        *ret = NULL;
        r = secret_new(RECOVERY_KEY_BYTES * 2, &digits);
        if (r < 0)
                return r;
        for (size_t i = 0; i < typed->size; i++) {
                uint8_t c = typed->data[i];

                if (c == ' ' || c == '-' || c == '\t')
                        continue;
                if (c >= 'A' && c <= 'Z')
                        c = (uint8_t) (c - 'A' + 'a');
                if (!is_modhex(c) || n == RECOVERY_KEY_BYTES * 2)
                        return 0;
                digits->data[n++] = c;
        }
        if (n != RECOVERY_KEY_BYTES * 2)
                return 0;
        r = secret_new(RECOVERY_KEY_CHARS + 1, &key);
        if (r < 0)
                return r;
        format((const char *) digits->data, key->data);
        key->size = RECOVERY_KEY_CHARS;
        *ret = TAKE_PTR(key);
        return 1;
}
