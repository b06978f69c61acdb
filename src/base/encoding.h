/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Bytes as text and back, for what tokens, signatures and state.json carry. */

/* Standard padded base64 (OpenSSL). Decoding is strict: no trailing garbage. */
int base64_decode(const char *s, uint8_t **ret, size_t *ret_size);
/* Encodes into out, which must hold 4*ceil(n/3)+1 bytes; returns the length. */
size_t base64_encode(const uint8_t *data, size_t n, char *out);

/* Lowercase hex of `size` bytes into out (2*size+1 bytes). */
char *hex_string(const uint8_t *data, size_t size, char *out);
/* Parse even-length hex into buf (exactly `size` bytes wanted unless
 * size_max: then any length up to it, stored in *ret_size). */
int hex_parse(const char *s, uint8_t *buf, size_t size_max, size_t *ret_size);
