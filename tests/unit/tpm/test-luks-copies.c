/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <endian.h>
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>

#include "luks-copies.h"

/* Two metadata copies of the smallest size, built as the on-disk format
 * lays them out; each test breaks one field. */
#define MD 16384
static uint8_t area[2 * MD];

static void put_be64(uint8_t *p, uint64_t v) {
        v = htobe64(v);
        memcpy(p, &v, sizeof(v));
}

/* Recompute the checksum of the copy at `at` in algorithm `alg`. */
static void seal(size_t at, const char *alg) {
        uint8_t *c = area + at;
        unsigned len = 0;

        memset(c + 448, 0, 64);
        assert_int_equal(EVP_Digest(c, MD, c + 448, &len, EVP_get_digestbyname(alg), NULL), 1);
}

static void make_copy(size_t at, const char *magic, uint64_t seqid) {
        uint8_t *c = area + at;

        memset(c, 0, MD);
        memcpy(c, magic, 6);
        c[7] = 2;
        put_be64(c + 8, MD);
        put_be64(c + 16, seqid);
        strcpy((char *) c + 72, "sha256");
        put_be64(c + 256, at);
        strcpy((char *) c + 4096, "{\"config\":{}}");
        seal(at, "sha256");
}

static int setup(void **state) {
        (void) state;
        make_copy(0, "LUKS\xba\xbe", 7);
        make_copy(MD, "SKUL\xba\xbe", 7);
        return 0;
}

static struct luks_copies judge(void) {
        struct luks_copies c;
        assert_int_equal(luks_copies_judge(area, sizeof(area), MD, &c), 0);
        assert_int_equal(c.metadata_size, MD);
        return c;
}

static void test_intact(void **state) {
        (void) state;
        struct luks_copies c = judge();
        assert_int_equal(c.state[0], LUKS_COPY_OK);
        assert_int_equal(c.state[1], LUKS_COPY_OK);
        assert_int_equal(c.seqid[0], 7);
        assert_int_equal(c.seqid[1], 7);
        assert_int_equal(luks_copy_size_primary(area), MD);
        assert_int_equal(luks_copy_size_backup(area + MD, MD), MD);
        assert_false(luks_copy_is_luks1(area));
}

static void test_damage(void **state) {
        (void) state;
        struct luks_copies c;

        area[4096 + 3] ^= 1;            /* the JSON, under the checksum */
        c = judge();
        assert_int_equal(c.state[0], LUKS_COPY_BAD_CHECKSUM);
        assert_int_equal(c.state[1], LUKS_COPY_OK);
        assert_string_equal(luks_copy_state_to_string(c.state[0]), "its checksum does not match");

        setup(NULL);
        memset(area + MD, 0, 4096);     /* the backup's binary header wiped */
        c = judge();
        assert_int_equal(c.state[0], LUKS_COPY_OK);
        assert_int_equal(c.state[1], LUKS_COPY_NO_MAGIC);
        assert_int_equal(luks_copy_size_backup(area + MD, MD), 0);
}

/* Fields that place or size a copy: a copy elsewhere than it says, of a
 * size LUKS2 does not allow, or of another version, is not that copy. */
static void test_fields(void **state) {
        static const struct {
                size_t offset;
                uint64_t value;
        } edits[] = {
                { 8, 12345 },           /* hdr_size not an allowed size */
                { 8, 2 * MD },          /* allowed, but not this copy's size */
                { 256, 4096 },          /* hdr_offset not where it lies */
        };
        (void) state;
        for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
                setup(NULL);
                put_be64(area + edits[i].offset, edits[i].value);
                seal(0, "sha256");
                assert_int_equal(judge().state[0], LUKS_COPY_BAD_FIELDS);
        }
        setup(NULL);
        area[7] = 3;
        seal(0, "sha256");
        assert_int_equal(judge().state[0], LUKS_COPY_BAD_FIELDS);
        assert_int_equal(luks_copy_size_primary(area), 0);
        area[7] = 1;
        assert_true(luks_copy_is_luks1(area));
}

static void test_checksum_algorithms(void **state) {
        (void) state;
        memset(area + 72, 0, 32);
        strcpy((char *) area + 72, "sha512");
        seal(0, "sha512");
        assert_int_equal(judge().state[0], LUKS_COPY_OK);
        memset(area + 72, 0, 32);
        strcpy((char *) area + 72, "md5");
        seal(0, "md5");
        assert_int_equal(judge().state[0], LUKS_COPY_UNKNOWN_CHECKSUM);
}

static void test_sequence(void **state) {
        (void) state;
        put_be64(area + MD + 16, 9);
        seal(MD, "sha256");
        struct luks_copies c = judge();
        assert_int_equal(c.state[1], LUKS_COPY_OK);
        assert_int_equal(c.seqid[0], 7);
        assert_int_equal(c.seqid[1], 9);
}

static void test_bounds(void **state) {
        struct luks_copies c;
        (void) state;
        assert_int_equal(luks_copies_judge(area, sizeof(area) - 1, MD, &c), -EINVAL);
        assert_int_equal(luks_copies_judge(area, sizeof(area), 12288, &c), -EINVAL);
        for (const uint64_t *o = luks_copy_backup_offsets; *o; o++)
                assert_true(*o >= MD && *o <= 4 * 1024 * 1024 && (*o & (*o - 1)) == 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_intact, setup),
                cmocka_unit_test_setup(test_damage, setup),
                cmocka_unit_test_setup(test_fields, setup),
                cmocka_unit_test_setup(test_checksum_algorithms, setup),
                cmocka_unit_test_setup(test_sequence, setup),
                cmocka_unit_test_setup(test_bounds, setup),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
