/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include "efisiglist.h"
#include "sysext-anchor.h"

/* Debian's Secure Boot firmware (package ovmf) enrolls one certificate as
 * PK, KEK and db; the variable store is walked by tests/sysext/ovmf-vars.py. */
#define SNAKEOIL_VARS "/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd"
#define SNAKEOIL_PEM "/usr/share/ovmf/PkKek-1-snakeoil.pem"
#define DB_VAR "db-d719b2cb-3d3a-4596-a3bc-dad00e67656f"
#define OVMF_VARS_PY SYSEXT_TEST_DIR "/ovmf-vars.py"

struct buf {
        uint8_t b[4096];
        size_t n;
};

static void put32(struct buf *b, uint32_t v) {
        for (int i = 0; i < 4; i++)
                b->b[b->n++] = (uint8_t) (v >> (8 * i));
}

/* A list of `count` entries of `data_size` bytes each (after the owner). */
static void add_list(struct buf *b, const uint8_t type[16], uint32_t count, uint32_t data_size, uint32_t header) {
        uint32_t sig = 16 + data_size;
        memcpy(b->b + b->n, type, 16);
        b->n += 16;
        put32(b, 28 + header + count * sig);
        put32(b, header);
        put32(b, sig);
        memset(b->b + b->n, 0xee, header);
        b->n += header;
        for (uint32_t i = 0; i < count; i++) {
                memset(b->b + b->n, 0x11, 16);            /* owner */
                memset(b->b + b->n + 16, (int) i, data_size);
                b->n += sig;
        }
}

struct seen {
        unsigned n;
        size_t sizes[8];
        unsigned lists[8];
};

static int collect(const struct efi_sig_entry *e, void *userdata) {
        struct seen *s = userdata;
        assert_true(s->n < 8);
        s->sizes[s->n] = e->size;
        s->lists[s->n] = e->list;
        s->n++;
        return 0;
}

static void test_empty(void **state) {
        struct efi_siglist_stats st;
        assert_int_equal(efi_siglist_parse(NULL, 0, collect, &(struct seen) {}, &st, NULL), 0);
        assert_int_equal(st.lists, 0);
}

static void test_lists(void **state) {
        struct buf b = {};
        struct seen s = {};
        struct efi_siglist_stats st;

        add_list(&b, efi_cert_sha256_guid, 3, 32, 0);  /* hashes: ignored */
        add_list(&b, efi_cert_x509_guid, 1, 100, 0);
        add_list(&b, efi_cert_x509_guid, 2, 50, 8);    /* a header is skipped */
        assert_int_equal(efi_siglist_parse(b.b, b.n, collect, &s, &st, NULL), 3);
        assert_int_equal(st.lists, 3);
        assert_int_equal(st.skipped, 3);
        assert_int_equal(s.n, 3);
        assert_int_equal(s.sizes[0], 100);
        assert_int_equal(s.lists[0], 1);
        assert_int_equal(s.sizes[2], 50);
        assert_int_equal(s.lists[2], 2);
}

static void expect_bad(struct buf *b, unsigned delivered, const char *words) {
        struct seen s = {};
        char *why = NULL;
        assert_int_equal(efi_siglist_parse(b->b, b->n, collect, &s, NULL, &why), -EBADMSG);
        assert_non_null(why);
        if (!strstr(why, words))
                fail_msg("reason '%s' lacks '%s'", why, words);
        assert_int_equal(s.n, delivered);
        free(why);
}

static void test_malformed(void **state) {
        struct buf b = {};

        /* A good list, then a truncated header: the good entry stays. */
        add_list(&b, efi_cert_x509_guid, 1, 40, 0);
        memcpy(b.b + b.n, efi_cert_x509_guid, 16);
        b.n += 20;
        expect_bad(&b, 1, "list header needs 28");

        /* SignatureListSize past the end. */
        b = (struct buf) {};
        add_list(&b, efi_cert_x509_guid, 1, 40, 0);
        b.b[16] = 0xff;
        expect_bad(&b, 0, "SignatureListSize");

        /* SignatureListSize smaller than the header. */
        b = (struct buf) {};
        add_list(&b, efi_cert_x509_guid, 1, 40, 0);
        memset(b.b + 16, 0, 4);
        b.b[16] = 27;
        expect_bad(&b, 0, "SignatureListSize");

        /* SignatureHeaderSize larger than the list. */
        b = (struct buf) {};
        add_list(&b, efi_cert_x509_guid, 1, 40, 0);
        b.b[20] = 0xff;
        b.b[21] = 0xff;
        expect_bad(&b, 0, "SignatureHeaderSize");

        /* SignatureSize that does not divide the entries. */
        b = (struct buf) {};
        add_list(&b, efi_cert_x509_guid, 2, 40, 0);
        b.b[24] = 57;
        expect_bad(&b, 0, "SignatureSize 57");

        /* SignatureSize 0 and 16: no room for data, no division by zero. */
        b = (struct buf) {};
        add_list(&b, efi_cert_x509_guid, 1, 40, 0);
        memset(b.b + 24, 0, 4);
        expect_bad(&b, 0, "SignatureSize 0");
        b.b[24] = 16;
        expect_bad(&b, 0, "SignatureSize 16");

        /* A list with no entries at all. */
        b = (struct buf) {};
        add_list(&b, efi_cert_x509_guid, 0, 40, 0);
        expect_bad(&b, 0, "no entries");
}

static void test_var_data(void **state) {
        static const uint8_t v[] = { 0x27, 0, 0, 0, 0xaa };
        const uint8_t *d;
        size_t n;
        uint32_t attr;
        assert_int_equal(efi_var_data(v, 3, &d, &n, &attr), -EBADMSG);
        assert_int_equal(efi_var_data(v, sizeof(v), &d, &n, &attr), 0);
        assert_int_equal(attr, 0x27);
        assert_int_equal(n, 1);
        assert_int_equal(d[0], 0xaa);
}

/* The firmware's variables, extracted into a fresh directory. */
struct fw {
        char dir[64];
        uint8_t *db;
        size_t db_size;
};

static int fw_setup(void **state) {
        struct fw *f = calloc(1, sizeof(*f));
        char cmd[512];
        int fd;

        assert_non_null(f);
        *state = f;
        if (access(SNAKEOIL_VARS, R_OK) < 0)
                return 0;  /* each test skips */
        snprintf(f->dir, sizeof(f->dir), "/tmp/test-efisiglist.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(cmd, sizeof(cmd), "python3 '%s' '%s' '%s'", OVMF_VARS_PY, SNAKEOIL_VARS, f->dir);
        assert_int_equal(system(cmd), 0);
        fd = open(f->dir, O_RDONLY | O_DIRECTORY);
        assert_true(fd >= 0);
        assert_int_equal(sysext_read_file_at(fd, DB_VAR, 1 << 20, &f->db, &f->db_size), 0);
        close(fd);
        return 0;
}

static int fw_teardown(void **state) {
        struct fw *f = *state;
        char cmd[256];
        if (f->dir[0]) {
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
                assert_int_equal(system(cmd), 0);
        }
        free(f->db);
        free(f);
        return 0;
}

static X509 *snakeoil_cert(void) {
        FILE *fp = fopen(SNAKEOIL_PEM, "re");
        X509 *c;
        assert_non_null(fp);
        c = PEM_read_X509(fp, NULL, NULL, NULL);
        fclose(fp);
        assert_non_null(c);
        return c;
}

static int db_entry(const struct efi_sig_entry *e, void *userdata) {
        X509 **ret = userdata;
        const unsigned char *p = e->data;
        assert_null(*ret);
        *ret = d2i_X509(NULL, &p, (long) e->size);
        assert_non_null(*ret);
        /* A list of X.509 entries sizes each to its certificate. */
        assert_ptr_equal(p, e->data + e->size);
        return 0;
}

static void test_snakeoil_db(void **state) {
        struct fw *f = *state;
        struct efi_siglist_stats st;
        const uint8_t *data;
        size_t n;
        uint32_t attr;
        X509 *cert = NULL, *want;
        char *why = NULL;

        if (!f->db)
                skip();
        assert_int_equal(efi_var_data(f->db, f->db_size, &data, &n, &attr), 0);
        /* NV | BS | RT | time-based authenticated write */
        assert_int_equal(attr, 0x27);
        assert_int_equal(efi_siglist_parse(data, n, db_entry, &cert, &st, &why), 1);
        assert_null(why);
        assert_int_equal(st.lists, 1);
        assert_int_equal(st.skipped, 0);
        want = snakeoil_cert();
        assert_int_equal(X509_cmp(cert, want), 0);
        X509_free(cert);
        X509_free(want);
}

static void test_snakeoil_anchor(void **state) {
        struct fw *f = *state;
        struct sysext_anchor a;
        char out[128], path[256];
        int fd, dfd;
        char *why = NULL;
        X509 *want, *got;
        FILE *fp;

        if (!f->db)
                skip();
        assert_int_equal(sysext_anchor_init(&a), 0);
        fd = open(f->dir, O_RDONLY | O_DIRECTORY);
        assert_true(fd >= 0);
        /* PK, KEK and db hold the same certificate: it is kept once. */
        assert_int_equal(sysext_anchor_add_efivars(&a, fd), 1);
        close(fd);
        assert_int_equal(sysext_anchor_count(&a), 1);
        assert_string_equal(a.origins.v[0], "efi-PK");

        /* The same db, as an efivarfs file and as a bare list. */
        snprintf(path, sizeof(path), "%s/%s", f->dir, DB_VAR);
        assert_int_equal(sysext_anchor_add_efi_file(&a, path, &why), 0);
        assert_null(why);
        snprintf(path, sizeof(path), "%s/bare", f->dir);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        assert_int_equal(write(fd, f->db + 4, f->db_size - 4), (ssize_t) (f->db_size - 4));
        close(fd);
        assert_int_equal(sysext_anchor_add_efi_file(&a, path, &why), 0);

        /* Written as PEM, one certificate per file, as systemd reads verity.d. */
        snprintf(out, sizeof(out), "%s/verity.d", f->dir);
        assert_int_equal(mkdir(out, 0755), 0);
        dfd = open(out, O_RDONLY | O_DIRECTORY);
        assert_int_equal(sysext_anchor_write_pem(&a, dfd, &why), 0);
        close(dfd);
        snprintf(path, sizeof(path), "%s/00-efi-PK.crt", out);
        fp = fopen(path, "re");
        assert_non_null(fp);
        got = PEM_read_X509(fp, NULL, NULL, NULL);
        fclose(fp);
        want = snakeoil_cert();
        assert_int_equal(X509_cmp(got, want), 0);
        X509_free(got);
        X509_free(want);
        sysext_anchor_done(&a);
}

static void test_anchor_refuses_bad_entry(void **state) {
        struct fw *f = *state;
        struct sysext_anchor a;
        char *why = NULL;
        uint8_t *copy;

        if (!f->db)
                skip();
        /* A certificate entry whose DER is broken: refused, with a reason. */
        copy = malloc(f->db_size);
        memcpy(copy, f->db, f->db_size);
        copy[4 + 28 + 16] ^= 0xff;  /* the certificate's first byte (SEQUENCE) */
        assert_int_equal(sysext_anchor_init(&a), 0);
        assert_int_equal(sysext_anchor_add_efi_var(&a, copy, f->db_size, true, "db", &why), -EBADMSG);
        assert_non_null(why);
        assert_non_null(strstr(why, "not a DER certificate"));
        assert_int_equal(sysext_anchor_count(&a), 0);
        free(why);
        why = NULL;
        /* A truncated variable: the list size runs past the end. */
        assert_int_equal(sysext_anchor_add_efi_var(&a, f->db, f->db_size - 10, true, "db", &why), -EBADMSG);
        assert_non_null(strstr(why, "db: signature list 0 at offset 0: SignatureListSize"));
        free(why);
        free(copy);
        sysext_anchor_done(&a);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_lists),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_var_data),
                cmocka_unit_test(test_snakeoil_db),
                cmocka_unit_test(test_snakeoil_anchor),
                cmocka_unit_test(test_anchor_refuses_bad_entry),
        };
        return cmocka_run_group_tests(tests, fw_setup, fw_teardown);
}
