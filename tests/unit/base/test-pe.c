/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PE/COFF section-table reader on files built here byte by byte: a good
 * one read field by field, the mapped bytes of a section (VirtualSize, zero
 * filled past SizeOfRawData), and each malformed header refused naming its
 * field, never read past the end of the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pe.h"
#include "util.h"

#define LFANEW 0x80
#define OPT_SIZE 0xf0                   /* PE32+ */
#define TABLE (LFANEW + 24 + OPT_SIZE)
#define FILE_SIZE 0x800

static uint8_t img[FILE_SIZE];

static void put16(size_t off, uint16_t v) { img[off] = (uint8_t) v; img[off + 1] = (uint8_t) (v >> 8); }
static void put32(size_t off, uint32_t v) { for (int i = 0; i < 4; i++) img[off + i] = (uint8_t) (v >> (8 * i)); }

static void section(int i, const char *name, uint32_t vsize, uint32_t va, uint32_t raw_size, uint32_t raw_off) {
        size_t o = TABLE + (size_t) i * 40;
        memcpy(img + o, name, strlen(name));
        put32(o + 8, vsize);
        put32(o + 12, va);
        put32(o + 16, raw_size);
        put32(o + 20, raw_off);
}

/* Two sections: .text, and .osrel whose VirtualSize (0x30) passes its
 * SizeOfRawData (0x20). */
static void build(void) {
        memset(img, 0, sizeof(img));
        put16(0, 0x5a4d);
        put32(0x3c, LFANEW);
        put32(LFANEW, 0x00004550);
        put16(LFANEW + 4, 0x8664);
        put16(LFANEW + 4 + 2, 2);
        put16(LFANEW + 4 + 16, OPT_SIZE);
        put16(LFANEW + 24, 0x20b);
        put32(LFANEW + 24 + 32, 0x1000);
        put32(LFANEW + 24 + 36, 0x200);
        section(0, ".text", 0x100, 0x1000, 0x200, 0x400);
        section(1, ".osrel", 0x30, 0x2000, 0x20, 0x600);
        memset(img + 0x600, 'A', 0x20);
}

static int file_of(size_t size) {
        int fd = memfd_create("pe", MFD_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, img, size), (ssize_t) size);
        return fd;
}

/* pe_read on the image (its first `size` bytes): the error, and the reason
 * must contain `field`. */
static void refused(size_t size, const char *field) {
        _cleanup_close_ int fd = file_of(size);
        _cleanup_free_ char *why = NULL;
        struct pe_image pe;

        assert_true(pe_read(fd, &pe, &why) < 0);
        assert_non_null(why);
        if (!strstr(why, field))
                fail_msg("reason \"%s\" does not name %s", why, field);
}

static void test_good(void **state) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ uint8_t *data = NULL;
        _cleanup_free_ char *why = NULL;
        struct pe_image pe;
        char lint[256];
        size_t size;

        (void) state;
        build();
        fd = file_of(FILE_SIZE);
        assert_int_equal(pe_read(fd, &pe, &why), 0);
        assert_int_equal(pe.magic, 0x20b);
        assert_int_equal(pe.section_alignment, 0x1000);
        assert_int_equal(pe.file_alignment, 0x200);
        assert_int_equal(pe.n_sections, 2);
        assert_string_equal(pe.sections[1].name, ".osrel");
        assert_int_equal(pe.sections[1].virtual_size, 0x30);
        assert_int_equal(pe.sections[1].virtual_address, 0x2000);
        assert_int_equal(pe.sections[1].raw_size, 0x20);
        assert_int_equal(pe.sections[1].raw_offset, 0x600);
        assert_ptr_equal(pe_find(&pe, ".osrel"), &pe.sections[1]);
        assert_null(pe_find(&pe, ".osre"));

        /* As the loader maps it: 0x20 bytes of the file, then zeros. */
        assert_int_equal(pe_section_read(fd, &pe, &pe.sections[1], 1024, &data, &size, &why), 0);
        assert_int_equal(size, 0x30);
        for (size_t i = 0; i < size; i++)
                assert_int_equal(data[i], i < 0x20 ? 'A' : 0);
        assert_int_equal(pe_section_read(fd, &pe, &pe.sections[1], 0x2f, &data, &size, &why), -EFBIG);

        assert_int_equal(pe_lint_alignment(&pe, lint, sizeof(lint)), 0);
        pe.sections[1].virtual_address = 0x2100;
        pe.sections[0].raw_offset = 0x410;
        assert_int_equal(pe_lint_alignment(&pe, lint, sizeof(lint)), 2);
        assert_non_null(strstr(lint, "section .text: PointerToRawData 0x410 is not a multiple of FileAlignment 0x200"));
        assert_non_null(strstr(lint, "section .osrel: VirtualAddress 0x2100 is not a multiple of SectionAlignment 0x1000"));
}

static void test_malformed(void **state) {
        (void) state;
        build();
        refused(32, "too short for a DOS header");
        refused(TABLE + 40, "NumberOfSections 2 at");       /* the table cut off */
        refused(0x610, "PointerToRawData 0x600 + SizeOfRawData 0x20");
        build(); put16(0, 0x4d5a);                  refused(FILE_SIZE, "e_magic");
        build(); put32(0x3c, FILE_SIZE - 8);        refused(FILE_SIZE, "e_lfanew");
        build(); put32(0x3c, 0xfffffff0);           refused(FILE_SIZE, "e_lfanew");
        build(); put32(LFANEW, 0x00004551);         refused(FILE_SIZE, "PE signature");
        build(); put16(LFANEW + 6, PE_MAX_SECTIONS + 1); refused(FILE_SIZE, "NumberOfSections");
        build(); put16(LFANEW + 6, 0xffff);         refused(FILE_SIZE, "NumberOfSections");
        build(); put16(LFANEW + 20, 39);            refused(FILE_SIZE, "SizeOfOptionalHeader");
        build(); put16(LFANEW + 20, 0xffff);        refused(FILE_SIZE, "section table");
        build(); put16(LFANEW + 24, 0x107);         refused(FILE_SIZE, "Magic");
        build(); put32(LFANEW + 24 + 32, 0x1001);   refused(FILE_SIZE, "SectionAlignment");
        build(); put32(LFANEW + 24 + 36, 0);        refused(FILE_SIZE, "FileAlignment");
        build(); section(1, ".osrel", 0x30, 0x2000, 0xfffffff0, 0x600); refused(FILE_SIZE, "SizeOfRawData 0xfffffff0");
        build(); section(1, ".osrel", 0x30, 0x2000, 0x20, 0xfffffff0);  refused(FILE_SIZE, "PointerToRawData 0xfffffff0");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_good),
                cmocka_unit_test(test_malformed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
