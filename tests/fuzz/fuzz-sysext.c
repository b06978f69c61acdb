/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: an extension image as sysext_inspect() reads it
 * (src/sysext/sysext-verify.c): the GPT layout through libblkid, the file
 * system probe at offset 0, the verity superblock, the verity-sig
 * partition's JSON and its PKCS#7. The input is the image, in a memfd. The
 * anchor holds one certificate made at start-up, which signs no seed: the
 * signature check fails, the target must only not crash. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sysext-anchor.h"
#include "sysext-verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct sysext_anchor anchor;

/* A self-signed P-256 certificate, as PEM, for the anchor. */
static char *make_cert_pem(size_t *ret_size) {
        EVP_PKEY *k = EVP_EC_gen("P-256");
        X509 *x = X509_new();
        X509_NAME *n;
        BIO *b = BIO_new(BIO_s_mem());
        char *p, *out = NULL;
        long len;

        if (!k || !x || !b)
                abort();
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), 0);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        n = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *) "fuzz anchor", -1, -1, 0);
        X509_set_issuer_name(x, n);
        X509_set_pubkey(x, k);
        if (!X509_sign(x, k, EVP_sha256()) || !PEM_write_bio_X509(b, x))
                abort();
        len = BIO_get_mem_data(b, &p);
        out = strndup(p, (size_t) len);
        *ret_size = (size_t) len;
        BIO_free(b);
        X509_free(x);
        EVP_PKEY_free(k);
        return out;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        char *why = NULL, *pem;
        size_t n;

        (void) argc, (void) argv;
        pem = make_cert_pem(&n);
        if (!pem || sysext_anchor_init(&anchor) < 0 || sysext_anchor_add_pem(&anchor, pem, n, "fuzz", &why) < 0)
                abort();
        free(pem);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct sysext_image img = {};
        char *why = NULL;
        int fd = memfd_create("sysext", MFD_CLOEXEC);

        if (fd < 0)
                return 0;
        if (size && write(fd, data, size) != (ssize_t) size) {
                close(fd);
                return 0;
        }
        if (sysext_inspect(fd, &anchor, &img, &why) >= 0) {
                /* Only an image signed by the anchor's key gets here. */
                abort();
        }
        /* What was filled in lies inside the image. */
        if (img.sig.size && (img.sig.offset > size || img.sig.size > size - img.sig.offset))
                abort();
        free(why);
        sysext_image_done(&img);
        close(fd);
        return 0;
}
