/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

#include "encoding.h"
#include "util.h"

int base64_decode(const char *s, uint8_t **ret, size_t *ret_size) {
        size_t len = strlen(s);
        _cleanup_free_ uint8_t *buf = NULL;
        EVP_ENCODE_CTX *ctx;
        int n = 0, m = 0, ok;

        /* Padded base64 always comes in groups of four characters. */
        if (len == 0 || len % 4 != 0 || len > INT32_MAX)
                return -EINVAL;
        buf = malloc(len / 4 * 3 + 1);
        if (!buf)
                return -ENOMEM;
        ctx = EVP_ENCODE_CTX_new();
        if (!ctx)
                return -ENOMEM;
        EVP_DecodeInit(ctx);
        ok = EVP_DecodeUpdate(ctx, buf, &n, (const unsigned char *) s, (int) len) >= 0 &&
             EVP_DecodeFinal(ctx, buf + n, &m) == 1;
        EVP_ENCODE_CTX_free(ctx);
        if (!ok)
                return -EINVAL;
        *ret_size = (size_t) (n + m);
        *ret = TAKE_PTR(buf);
        return 0;
}

size_t base64_encode(const uint8_t *data, size_t n, char *out) {
        return (size_t) EVP_EncodeBlock((unsigned char *) out, data, (int) n);
}

char *hex_string(const uint8_t *data, size_t size, char *out) {
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < size; i++) {
                out[2 * i] = digits[data[i] >> 4];
                out[2 * i + 1] = digits[data[i] & 15];
        }
        out[2 * size] = 0;
        return out;
}

int hex_parse(const char *s, uint8_t *buf, size_t size_max, size_t *ret_size) {
        unsigned char *b;
        long len = 0;

        if (!s || !*s || strchr(s, ':'))
                return -EINVAL;
        b = OPENSSL_hexstr2buf(s, &len);
        if (!b)
                return -EINVAL;
        if ((size_t) len > size_max || (!ret_size && (size_t) len != size_max)) {
                OPENSSL_free(b);
                return -EINVAL;
        }
        memcpy(buf, b, (size_t) len);
        OPENSSL_free(b);
        if (ret_size)
                *ret_size = (size_t) len;
        return 0;
}
