/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: a LUKS2 header through libcryptsetup's crypt_load() and
 * usi-init's judgement of it, as luks_load() does it (src/tpm/luks.c): the
 * first look, the copy of the metadata and keyslot areas into memory, the
 * second crypt_load() of that copy and the rules of src/tpm/luks-header.c;
 * then the systemd-tpm2 tokens it carries are read. Nothing is activated.
 *
 * The input is the start of a device: both metadata copies (the seeds are
 * made by cryptsetup luksFormat and cut there). It is written into a memfd
 * of a fixed size (DEVICE_SIZE: a hole after the input reads as zeros).
 * Before that, each binary header's SHA-256 checksum is recomputed when its
 * sizes allow, so that changes to the JSON reach the parser instead of
 * failing the checksum test. */
#include <endian.h>
#include <libcryptsetup.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "luks-header.h"
#include "luks.h"
#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define DEVICE_SIZE (16 * 1024 * 1024)
#define BIN_HDR 4096
/* Offsets in the binary header (cryptsetup's struct luks2_hdr_disk). */
#define OFF_HDR_SIZE 8
#define OFF_CSUM_ALG 72
#define OFF_HDR_OFFSET 256
#define OFF_CSUM 448

static void quiet(int level, const char *msg, void *usrptr) {
        (void) level, (void) msg, (void) usrptr;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) argc, (void) argv;
        crypt_set_log_callback(NULL, quiet, NULL);
        return 0;
}

static void fix_csum(uint8_t *dev, size_t size, uint64_t at) {
        uint64_t hdr_size;

        if (at > size || size - at < BIN_HDR || memcmp(dev + at + 6, "\0\2", 2) != 0)
                return;
        memcpy(&hdr_size, dev + at + OFF_HDR_SIZE, 8);
        hdr_size = be64toh(hdr_size);
        if (hdr_size < BIN_HDR || hdr_size > size - at || strncmp((char *) dev + at + OFF_CSUM_ALG, "sha256", 32) != 0)
                return;
        memset(dev + at + OFF_CSUM, 0, 64);
        EVP_Digest(dev + at, hdr_size, dev + at + OFF_CSUM, NULL, EVP_sha256(), NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t *dev;
        struct crypt_device *cd = NULL;
        char path[64], *why = NULL;
        uint64_t second;
        int fd = -1;

        if (size > DEVICE_SIZE)
                return 0;
        dev = malloc(size ? size : 1);
        if (!dev)
                return 0;
        memcpy(dev, data, size);
        fix_csum(dev, size, 0);
        if (size >= BIN_HDR) {
                memcpy(&second, dev + OFF_HDR_SIZE, 8);
                fix_csum(dev, size, be64toh(second));
        }
        /* The rest of the device reads as zeros (a hole). */
        fd = memfd_create("luks2", MFD_CLOEXEC);
        if (fd < 0 || (size && write(fd, dev, size) != (ssize_t) size) || ftruncate(fd, DEVICE_SIZE) < 0)
                goto out;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        if (luks_load(path, NULL, &cd, &why) >= 0) {
                int max = crypt_token_max(CRYPT_LUKS2);

                (void) luks_count_tpm2_tokens(cd);
                for (int id = 0; id < max; id++) {
                        struct tpm2_token t;
                        char *twhy = NULL;

                        if (!luks_is_tpm2_token(cd, id))
                                continue;
                        if (luks_tpm2_token_get(cd, id, &t, &twhy) >= 0) {
                                (void) tpm2_token_supported(&t, &twhy);
                                tpm2_token_done(&t);
                        }
                        free(twhy);
                }
                luks_free(cd);
        }
out:
        if (fd >= 0)
                close(fd);
        free(why);
        free(dev);
        return 0;
}
