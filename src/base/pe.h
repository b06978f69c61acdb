/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The section table of a PE/COFF file (a UKI: systemd-stub with its
 * sections), read from a file descriptor with bounded reads. Every offset
 * and size in the headers is checked against the file's size before it is
 * used; a malformed file is refused with a reason naming the field. */

/* The PE specification's limit ("the Windows loader limits the number of
 * sections to 96"). */
#define PE_MAX_SECTIONS 96

struct pe_section {
        char name[9];                   /* the 8 bytes of Name, NUL-terminated */
        uint32_t virtual_size;          /* VirtualSize */
        uint32_t virtual_address;       /* VirtualAddress (RVA) */
        uint32_t raw_size;              /* SizeOfRawData */
        uint32_t raw_offset;            /* PointerToRawData */
};

struct pe_image {
        uint64_t file_size;
        uint16_t magic;                 /* 0x10b PE32, 0x20b PE32+ */
        uint32_t section_alignment;     /* SectionAlignment */
        uint32_t file_alignment;        /* FileAlignment */
        size_t n_sections;
        struct pe_section sections[PE_MAX_SECTIONS];
};

/* Read the headers and the section table of the file open at fd. */
int pe_read(int fd, struct pe_image *ret, char **why);

/* The section with exactly this name (the first one), or NULL. */
const struct pe_section *pe_find(const struct pe_image *pe, const char *name);

/* The section as the loader maps it: its first min(VirtualSize,
 * SizeOfRawData) bytes from the file, zeros up to VirtualSize. Refused above
 * `max` bytes. */
int pe_section_read(int fd, const struct pe_image *pe, const struct pe_section *s, size_t max,
                    uint8_t **ret, size_t *ret_size, char **why);

/* Feed the mapped bytes of a section to `fn` in pieces (the same bytes as
 * pe_section_read, never all in memory). */
typedef int (*pe_chunk_fn)(const uint8_t *data, size_t size, void *userdata);
int pe_section_stream(int fd, const struct pe_image *pe, const struct pe_section *s, pe_chunk_fn fn,
                      void *userdata, char **why);

/* Alignment lint (the Kairos #4885 stall: misaligned sections make some
 * Secure Boot firmware take minutes): VirtualAddress a multiple of
 * SectionAlignment, PointerToRawData of FileAlignment. Writes one sentence
 * per problem into `out` ("; " between), returns how many. */
size_t pe_lint_alignment(const struct pe_image *pe, char *out, size_t size);
