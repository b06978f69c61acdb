/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <libcryptsetup.h>
#include <string.h>

#include "encoding.h"
#include "log.h"
#include "luks.h"
#include "measure.h"
#include "pcrsig.h"
#include "policy.h"
#include "preflight.h"
#include "uki.h"

#define PCR11_MASK (UINT32_C(1) << MEASURE_PCR_PHASE)
#define ENTER_INITRD 0          /* window_paths[0] */

static const char *verdict(const struct uki_entry *e) {
        return e->verified > 0 ? "valid" : e->verified == 0 ? "INVALID" : "not verifiable";
}

/* The first entry of `bank` that signs enter-initrd for key `fp` (NULL: any
 * key) and verifies against .pcrpkey. */
static const struct uki_entry *enter_initrd_signed(const struct uki_entry *e, size_t n, TPMI_ALG_HASH bank,
                                                   const char *fp) {
        for (size_t i = 0; i < n; i++)
                if (e[i].bank == bank && e[i].path == ENTER_INITRD && e[i].verified > 0 &&
                    (!fp || strcasecmp(e[i].pkfp, fp) == 0))
                        return &e[i];
        return NULL;
}

static void lint_add(char *lint, size_t size, const char *what) {
        size_t len = strlen(lint);
        snprintf(lint + len, size - len, "%s%s", len ? "; " : "", what);
}

/* One token under the new UKI: NULL when it opens, else the reason. */
static const char *token_verdict(const struct uki *u, const struct uki_entry *e, size_t n, const struct tpm2_token *t,
                                 const char *uki_fp, char *reason, size_t size, char *fp_out) {
        TPMI_ALG_HASH bank = t->pcr_bank ? t->pcr_bank : TPM2_ALG_SHA256;
        _cleanup_free_ char *why = NULL;
        struct pcrsig_key key;
        char lm[64];

        if (!t->pubkey_pcr_mask)
                return snprintf(reason, size, "the token has no signed PCR policy"), reason;
        if (t->pubkey_pcr_mask != PCR11_MASK)
                return snprintf(reason, size, "the token's signed PCRs are not PCR 11 alone"), reason;
        if (pcrsig_key_from_pem(t->pubkey_pem, t->pubkey_pem_size, &key, &why) < 0)
                return snprintf(reason, size, "field 'tpm2_pubkey': %s", why_or(why)), reason;
        hex_string(key.fingerprint, 32, fp_out);
        if (!u->pcrpkey)
                return snprintf(reason, size, "the UKI has no .pcrpkey"), reason;
        if (!u->pcrsig)
                return snprintf(reason, size, "the UKI has no readable .pcrsig"), reason;
        if (!uki_fp[0] || strcasecmp(uki_fp, fp_out) != 0)
                return snprintf(reason, size, "the UKI's .pcrpkey %.8s.. is not the token's key %.8s..",
                                uki_fp[0] ? uki_fp : "(unreadable)", fp_out), reason;
        if (!enter_initrd_signed(e, n, bank, fp_out))
                return snprintf(reason, size, "no valid %s signature of enter-initrd by key %.8s..",
                                strempty(tpm2_hash_to_string(bank)), fp_out), reason;
        /* These literal PCRs move with a new UKI (4: the image itself), an
         * extra command line (12) or a new extension (13). */
        if (t->pcr_mask & (UINT32_C(1) << 4 | UINT32_C(1) << 12 | UINT32_C(1) << 13))
                return snprintf(reason, size, "its literal PCR %s changes with a new UKI, command line or extension",
                                pcr_mask_to_string(t->pcr_mask & (UINT32_C(1) << 4 | UINT32_C(1) << 12 | UINT32_C(1) << 13),
                                                   lm, sizeof(lm))), reason;
        return NULL;
}

/* Each volume: opens when one of its systemd-tpm2 tokens does. */
static int preflight_volume(FILE *out, const char *uki_path, const struct uki *u, const struct uki_entry *e, size_t n,
                            const char *uki_fp, const char *image) {
        _cleanup_luks_ struct crypt_device *cd = NULL;
        _cleanup_free_ char *why = NULL;
        char reason[256] = "no systemd-tpm2 token", fp[65] = "";
        const char *label;
        int r;

        r = luks_load(image, NULL, &cd, &why);
        if (r < 0)
                return log_error("%s: %s", image, strempty(why)), r;
        label = crypt_get_label(cd);
        label = label && *label ? label : image;
        for (int id = 0; id < crypt_token_max(CRYPT_LUKS2); id++) {
                struct tpm2_token t;
                const char *bad;

                if (!luks_is_tpm2_token(cd, id))
                        continue;
                if (luks_tpm2_token_get(cd, id, &t, &why) < 0) {
                        snprintf(reason, sizeof(reason), "token %d: %s", id, strempty(why));
                        continue;
                }
                bad = token_verdict(u, e, n, &t, uki_fp, reason, sizeof(reason), fp);
                tpm2_token_done(&t);
                if (!bad) {
                        fprintf(out, "%s: %s: opens (enter-initrd signed by key %.8s..)\n", uki_path, label, fp);
                        return 1;
                }
        }
        fprintf(out, "%s: %s: stays locked: %s\n", uki_path, label, reason);
        return 0;
}

int uki_preflight(const char *path, const char *const *images, size_t n_images, FILE *out) {
        _cleanup_free_ char *why = NULL;
        struct uki_entry entries[UKI_MAX_ENTRIES];
        const struct uki_bank *b;
        const struct uki_entry *signed_entry;
        char hex[129], lint[1024] = "", align[768] = "", uki_fp[65] = "";
        struct uki u;
        size_t n;
        bool locked = false;

        if (uki_load(path, &u, &why) < 0)
                return log_error("unlock: %s", strempty(why)), 1;
        fprintf(out, "%s: PE: %zu sections, SectionAlignment %#x, FileAlignment %#x\n", path, u.pe.n_sections,
                u.pe.section_alignment, u.pe.file_alignment);
        fprintf(out, "%s: measured into PCR 11 (systemd-stub 252):", path);
        for (size_t s = 0; s < UKI_N_MEASURED; s++)
                if (u.measured[s] >= 0)
                        fprintf(out, " %s", uki_measured[s]);
        fputc('\n', out);
        b = uki_bank(&u, TPM2_ALG_SHA256);
        fprintf(out, "%s: PCR 11 sha256 after the sections: %s\n", path, hex_string(b->base, b->size, hex));
        for (size_t p = 0; p < WINDOW_N_PATHS; p++)
                fprintf(out, "%s: PCR 11 sha256 %s: %s\n", path, window_paths[p], hex_string(b->pcr11[p], b->size, hex));

        if (u.pcrpkey) {
                struct pcrsig_key key;
                _cleanup_free_ char *kwhy = NULL;
                if (pcrsig_key_from_pem(u.pcrpkey, u.pcrpkey_size, &key, &kwhy) >= 0) {
                        hex_string(key.fingerprint, 32, uki_fp);
                        fprintf(out, "%s: .pcrpkey: key %s\n", path, uki_fp);
                } else {
                        fprintf(out, "%s: .pcrpkey: %s\n", path, why_or(kwhy));
                        lint_add(lint, sizeof(lint), ".pcrpkey is not a usable RSA public key");
                }
        } else
                lint_add(lint, sizeof(lint), "no .pcrpkey section");
        if (!pe_find(&u.pe, ".pcrsig"))
                lint_add(lint, sizeof(lint), "no .pcrsig section");
        else if (u.pcrsig_why) {
                fprintf(out, "%s: .pcrsig: %s\n", path, u.pcrsig_why);
                lint_add(lint, sizeof(lint), ".pcrsig is not a signature file");
        }
        n = uki_entries(&u, entries, ELEMENTSOF(entries));
        for (size_t i = 0; i < n; i++) {
                const struct uki_entry *e = &entries[i];
                const struct uki_bank *eb = uki_bank(&u, e->bank);
                char pm[64];

                fprintf(out, "%s: .pcrsig %s[%zu]: PCR %s by key %.8s.., policy %s", path,
                        tpm2_hash_to_string(e->bank), e->index, pcr_mask_to_string(e->pcrs, pm, sizeof(pm)),
                        e->pkfp[0] ? e->pkfp : "?", e->pol_ok ? hex_string(e->pol, 32, hex) : "(unreadable)");
                if (e->path >= 0)
                        fprintf(out, " = PCR 11 %s at %s", hex_string(eb->pcr11[e->path], eb->size, hex), window_paths[e->path]);
                else
                        fprintf(out, " (no phase path of this UKI)");
                fprintf(out, ": signature %s%s%s\n", verdict(e), e->verified < 0 ? ": " : "", e->verified < 0 ? e->why : "");
        }
        signed_entry = enter_initrd_signed(entries, n, TPM2_ALG_SHA256, NULL);
        if (signed_entry)
                fprintf(out, "%s: enter-initrd: signed (sha256 entry %zu, key %.8s..)\n", path, signed_entry->index,
                        signed_entry->pkfp);
        else {
                fprintf(out, "%s: enter-initrd: no valid sha256 signature\n", path);
                if (u.pcrsig)
                        lint_add(lint, sizeof(lint), "no valid signature covers enter-initrd");
        }
        fprintf(out, "%s: lint: %s\n", path, lint[0] ? lint : "ok");
        /* A warning, not a verdict: Debian's systemd-stub 252 itself has
         * .sdmagic at 0x19100 with SectionAlignment 0x200. */
        if (pe_lint_alignment(&u.pe, align, sizeof(align)) > 0)
                fprintf(out, "%s: lint: alignment: %s\n", path, align);

        for (size_t i = 0; i < n_images; i++) {
                int r = preflight_volume(out, path, &u, entries, n, uki_fp, images[i]);
                if (r < 0) {
                        uki_done(&u);
                        return 1;
                }
                if (r == 0)
                        locked = true;
        }
        uki_done(&u);
        /* With volumes, their verdicts decide; without, whether the
         * signature lint passed. */
        if (n_images ? locked : lint[0] != 0)
                return PREFLIGHT_EXIT_LOCKED;
        return 0;
}
