/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pe.h"
#include "why.h"

/* Offsets of the PE/COFF format (Microsoft PE format specification). */
#define DOS_MAGIC               0x5a4d          /* "MZ" */
#define DOS_LFANEW              0x3c            /* e_lfanew: offset of the PE signature */
#define PE_SIGNATURE            0x00004550      /* "PE\0\0" */
#define COFF_HEADER_SIZE        20
#define OPT_MAGIC_PE32          0x10b
#define OPT_MAGIC_PE32PLUS      0x20b
#define OPT_SECTION_ALIGNMENT   32              /* same offset in PE32 and PE32+ */
#define OPT_FILE_ALIGNMENT      36
#define OPT_MIN_SIZE            40              /* up to and including FileAlignment */
#define SECTION_HEADER_SIZE     40

static uint16_t le16(const uint8_t *p) { return (uint16_t) (p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24; }
static bool power_of_two(uint32_t v) { return v && !(v & (v - 1)); }

int pe_read(int fd, struct pe_image *ret, char **why) {
        uint8_t dos[64], hdr[4 + COFF_HEADER_SIZE + OPT_MIN_SIZE], sh[SECTION_HEADER_SIZE];
        uint64_t pe_off, table_off;
        uint16_t n, opt_size;
        struct stat st;
        int r;

        memset(ret, 0, sizeof(*ret));
        if (fstat(fd, &st) < 0)
                return why_set(why, errno, "cannot stat: %s", strerror(errno));
        if (!S_ISREG(st.st_mode))
                return why_set(why, EBADF, "not a regular file");
        ret->file_size = (uint64_t) st.st_size;
        if (ret->file_size < sizeof(dos))
                return why_set(why, EBADMSG, "%llu bytes: too short for a DOS header", (unsigned long long) ret->file_size);
        if ((r = pread_exact(fd, dos, sizeof(dos), 0)) < 0)
                return why_set(why, r, "cannot read the DOS header: %s", strerror(-r));
        if (le16(dos) != DOS_MAGIC)
                return why_set(why, EBADMSG, "DOS header: e_magic is not \"MZ\"");
        pe_off = le32(dos + DOS_LFANEW);
        if (pe_off + sizeof(hdr) > ret->file_size)
                return why_set(why, EBADMSG, "DOS header: e_lfanew %#llx leaves no room for the PE headers in %llu bytes",
                               (unsigned long long) pe_off, (unsigned long long) ret->file_size);
        if ((r = pread_exact(fd, hdr, sizeof(hdr), pe_off)) < 0)
                return why_set(why, r, "cannot read the PE headers: %s", strerror(-r));
        if (le32(hdr) != PE_SIGNATURE)
                return why_set(why, EBADMSG, "PE signature at e_lfanew %#llx is not \"PE\\0\\0\"", (unsigned long long) pe_off);
        n = le16(hdr + 4 + 2);
        opt_size = le16(hdr + 4 + 16);
        if (n > PE_MAX_SECTIONS)
                return why_set(why, EBADMSG, "COFF header: NumberOfSections %u is more than %d", n, PE_MAX_SECTIONS);
        if (opt_size < OPT_MIN_SIZE)
                return why_set(why, EBADMSG, "COFF header: SizeOfOptionalHeader %u is too small for FileAlignment", opt_size);
        ret->magic = le16(hdr + 4 + COFF_HEADER_SIZE);
        if (ret->magic != OPT_MAGIC_PE32 && ret->magic != OPT_MAGIC_PE32PLUS)
                return why_set(why, EBADMSG, "optional header: Magic %#x is neither PE32 nor PE32+", ret->magic);
        ret->section_alignment = le32(hdr + 4 + COFF_HEADER_SIZE + OPT_SECTION_ALIGNMENT);
        ret->file_alignment = le32(hdr + 4 + COFF_HEADER_SIZE + OPT_FILE_ALIGNMENT);
        if (!power_of_two(ret->section_alignment))
                return why_set(why, EBADMSG, "optional header: SectionAlignment %#x is not a power of two", ret->section_alignment);
        if (!power_of_two(ret->file_alignment))
                return why_set(why, EBADMSG, "optional header: FileAlignment %#x is not a power of two", ret->file_alignment);

        table_off = pe_off + 4 + COFF_HEADER_SIZE + opt_size;
        if (table_off + (uint64_t) n * SECTION_HEADER_SIZE > ret->file_size)
                return why_set(why, EBADMSG, "section table: NumberOfSections %u at %#llx runs past the end of the file (%llu bytes)",
                               n, (unsigned long long) table_off, (unsigned long long) ret->file_size);
        for (uint16_t i = 0; i < n; i++) {
                struct pe_section *s = &ret->sections[i];

                if ((r = pread_exact(fd, sh, sizeof(sh), table_off + (uint64_t) i * SECTION_HEADER_SIZE)) < 0)
                        return why_set(why, r, "cannot read section header %u: %s", i, strerror(-r));
                memcpy(s->name, sh, 8);
                s->name[8] = 0;
                for (size_t c = 0; c < 8 && s->name[c]; c++)
                        if ((unsigned char) s->name[c] < 0x20 || (unsigned char) s->name[c] > 0x7e)
                                s->name[c] = '?';       /* printable in every message */
                s->virtual_size = le32(sh + 8);
                s->virtual_address = le32(sh + 12);
                s->raw_size = le32(sh + 16);
                s->raw_offset = le32(sh + 20);
                if (s->raw_size && (uint64_t) s->raw_offset + s->raw_size > ret->file_size)
                        return why_set(why, EBADMSG, "section %u (%s): PointerToRawData %#x + SizeOfRawData %#x runs past the end of the file (%llu bytes)",
                                       i, s->name, s->raw_offset, s->raw_size, (unsigned long long) ret->file_size);
        }
        ret->n_sections = n;
        return 0;
}

const struct pe_section *pe_find(const struct pe_image *pe, const char *name) {
        for (size_t i = 0; i < pe->n_sections; i++)
                if (strncmp(pe->sections[i].name, name, 8) == 0 && strlen(name) <= 8)
                        return &pe->sections[i];
        return NULL;
}

int pe_section_stream(int fd, const struct pe_image *pe, const struct pe_section *s, pe_chunk_fn fn,
                      void *userdata, char **why) {
        uint8_t buf[64 * 1024];
        uint32_t from_file = s->virtual_size < s->raw_size ? s->virtual_size : s->raw_size;
        uint32_t done = 0;
        int r;

        /* pe_read checked the raw range against the file. */
        if ((uint64_t) s->raw_offset + from_file > pe->file_size)
                return why_set(why, EBADMSG, "section %s lies past the end of the file", s->name);
        while (done < s->virtual_size) {
                size_t chunk = s->virtual_size - done < sizeof(buf) ? s->virtual_size - done : sizeof(buf);

                if (done < from_file) {
                        if (chunk > from_file - done)
                                chunk = from_file - done;
                        if ((r = pread_exact(fd, buf, chunk, (uint64_t) s->raw_offset + done)) < 0)
                                return why_set(why, r, "cannot read section %s: %s", s->name, strerror(-r));
                } else
                        memset(buf, 0, chunk);
                if ((r = fn(buf, chunk, userdata)) < 0)
                        return why_set(why, r, "section %s: %s", s->name, strerror(-r));
                done += (uint32_t) chunk;
        }
        return 0;
}

struct collect {
        uint8_t *buf;
        size_t len;
};

static int collect_chunk(const uint8_t *data, size_t size, void *userdata) {
        struct collect *c = userdata;
        memcpy(c->buf + c->len, data, size);
        c->len += size;
        return 0;
}

int pe_section_read(int fd, const struct pe_image *pe, const struct pe_section *s, size_t max,
                    uint8_t **ret, size_t *ret_size, char **why) {
        struct collect c = {};
        int r;

        if (s->virtual_size > max)
                return why_set(why, EFBIG, "section %s: VirtualSize %u is more than %zu bytes", s->name, s->virtual_size, max);
        c.buf = malloc((size_t) s->virtual_size + 1);
        if (!c.buf)
                return -ENOMEM;
        r = pe_section_stream(fd, pe, s, collect_chunk, &c, why);
        if (r < 0) {
                free(c.buf);
                return r;
        }
        c.buf[c.len] = 0;       /* text sections can be used as strings */
        *ret = c.buf;
        *ret_size = c.len;
        return 0;
}

size_t pe_lint_alignment(const struct pe_image *pe, char *out, size_t size) {
        size_t n = 0, len = 0;

        if (size)
                out[0] = 0;
        for (size_t i = 0; i < pe->n_sections; i++) {
                const struct pe_section *s = &pe->sections[i];
                bool va = s->virtual_address % pe->section_alignment != 0;
                bool raw = s->raw_size && s->raw_offset % pe->file_alignment != 0;
                int w;

                if (!va && !raw)
                        continue;
                n++;
                if (len >= size)
                        continue;
                if (va)
                        w = snprintf(out + len, size - len, "%ssection %s: VirtualAddress %#x is not a multiple of SectionAlignment %#x",
                                     len ? "; " : "", s->name, s->virtual_address, pe->section_alignment);
                else
                        w = snprintf(out + len, size - len, "%ssection %s: PointerToRawData %#x is not a multiple of FileAlignment %#x",
                                     len ? "; " : "", s->name, s->raw_offset, pe->file_alignment);
                if (w > 0)
                        len += (size_t) w;
        }
        return n;
}
