/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A unified kernel image read offline: the PCR 11 values systemd-stub and the
 * phase words will give it, its .pcrsig entries and whether each verifies
 * against its .pcrpkey. For the upgrade preflight (`unlock --check --explain
 * --uki`). */

#include <stdbool.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "pe.h"
#include "window.h"

struct json_object;

/* The sections systemd-stub 252 (Debian bookworm) measures into PCR 11, in
 * this order: src/fundamental/tpm-pcr.h's UnifiedSection enum (.linux .osrel
 * .cmdline .initrd .splash .dtb .pcrsig .pcrpkey) with .pcrsig left out by
 * unified_section_measure(), the loop in src/boot/efi/stub.c. Later stubs
 * measure more, so a UKI carrying these sections boots to another PCR 11
 * under them: .uname and .sbat between .dtb and .pcrpkey (in the stub by
 * v254; an upstream tpm-pcr.h with .uname and no .sbat shows .uname came
 * first), .ucode after .initrd (v256). Debian's stub 252 carries its own
 * .sbat, unmeasured by it, measured by the later stubs. usi-init predicts
 * the 252 stub's value. */
#define UKI_N_MEASURED 7
extern const char *const uki_measured[UKI_N_MEASURED];

#define UKI_N_BANKS 4
struct uki_bank {
        TPMI_ALG_HASH bank;
        size_t size;                            /* digest size */
        uint8_t base[64];                       /* PCR 11 after the sections */
        uint8_t pcr11[WINDOW_N_PATHS][64];      /* after each phase path */
        uint8_t policy[WINDOW_N_PATHS][32];     /* PolicyPCR(bank, PCR 11) from zero */
};

/* Zeros the loader adds past a measured section's data, at most. */
#define UKI_ZERO_FILL_MAX (1024 * 1024)
#define UKI_PCRSIG_MAX (1024 * 1024)
#define UKI_PCRPKEY_MAX (64 * 1024)

struct uki {
        struct pe_image pe;
        int measured[UKI_N_MEASURED];           /* index into pe.sections, -1: absent */
        struct uki_bank banks[UKI_N_BANKS];
        char *pcrpkey;                          /* NUL-terminated, NULL: no section */
        size_t pcrpkey_size;
        struct json_object *pcrsig;             /* NULL: no section */
        char *pcrsig_why;                       /* .pcrsig present but unreadable */
};

/* Read the UKI at `path` (through safe_open_path). */
int uki_load(const char *path, struct uki *ret, char **why);
/* The same from an open file (the fuzz target, the tests). */
int uki_load_fd(int fd, struct uki *ret, char **why);
void uki_done(struct uki *u);

const struct uki_bank *uki_bank(const struct uki *u, TPMI_ALG_HASH bank);

/* One entry of .pcrsig. */
#define UKI_MAX_ENTRIES 64
struct uki_entry {
        TPMI_ALG_HASH bank;
        size_t index;                   /* in the bank's array */
        char pkfp[65];                  /* as the entry states it, "" when missing */
        uint8_t pol[32];
        bool pol_ok;                    /* "pol" is 32 bytes of hex */
        uint32_t pcrs;                  /* its PCR mask */
        int path;                       /* window_paths index whose policy it signs, -1 */
        int verified;                   /* 1 valid against .pcrpkey, 0 not, <0 unreadable */
        char why[160];                  /* when verified < 0 */
};
/* Every entry of every bank, in file order, at most `max`. */
size_t uki_entries(const struct uki *u, struct uki_entry *out, size_t max);
