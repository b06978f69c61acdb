/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <libcryptsetup.h>
#include <string.h>

#include "encoding.h"
#include "log.h"
#include "luks.h"
#include "measure.h"
#include "pcr15.h"
#include "pcrsig.h"
#include "policy.h"
#include "preflight.h"
#include "state-read.h"
#include "state.h"
#include "token-pcrs.h"
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

/* What every volume is judged against. */
struct preflight {
        const char *path;                       /* the UKI */
        const struct uki *u;
        const struct uki_entry *e;
        size_t n;
        const char *uki_fp;
        struct window_path paths[WINDOW_N_PATHS];       /* the new UKI's phase paths */
        struct json_object *state;              /* this boot's record, NULL */
        struct tpm2_ctx *tpm;                   /* --tpm2-device, NULL */
        FILE *out;
        bool key_of_a_token;                    /* some token judged names the UKI's key */
};

/* PCR 15 (sha256) when volume `name` unseals in a boot like this one: the
 * volume-key extends this boot's record lists before its own. -ENOENT
 * when the record does not name it. */
static int chain_from_state(struct json_object *state, const char *name, uint8_t value[64]) {
        struct json_object *a;
        char prefix[PCR15_DESCRIPTION_MAX];

        memset(value, 0, 64);
        if (!state || !json_object_object_get_ex(state, "volume_key_measurements", &a) ||
            !json_object_is_type(a, json_type_array))
                return -ENOENT;
        /* The record holds what was measured: the name escaped as
         * systemd escapes it, so a name with ':' is found too. */
        if (pcr15_description(name, "", prefix) < 0)
                return -ENOENT;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                struct json_object *x = json_object_array_get_idx(a, i);
                struct pcr15_digests d = { .n = 1 };
                const char *desc = state_str(x, "description"), *dig = state_str(x, "digest");

                if (!streq_ptr(state_str(x, "bank"), "sha256") || !desc || !dig)
                        continue;
                if (strncmp(desc, prefix, strlen(prefix)) == 0)
                        return 0;
                d.v[0].alg = TPM2_ALG_SHA256;
                if (hex_parse(dig, d.v[0].digest, sizeof(d.v[0].digest), &d.v[0].size) < 0 || d.v[0].size != 32 ||
                    pcr15_chain(TPM2_ALG_SHA256, value, &d) < 0)
                        return -EBADMSG;
        }
        return -ENOENT;
}

/* With the TPM: do the token's literal PCRs still hold (PCR 15 at its value
 * in a boot like this one)? NULL, or why not. */
static const char *literal_now(const struct preflight *pf, const struct tpm2_token *t, const char *name,
                               const struct pcrsig_key *key, char *reason, size_t size) {
        TPMI_ALG_HASH bank = t->pcr_bank ? t->pcr_bank : TPM2_ALG_SHA256;
        size_t hsize = tpm2_hash_size(bank), k = 0;
        uint8_t values[24 * 64], want[32];
        _cleanup_free_ char *why = NULL;
        char lm[64];

        if (!pf->tpm || !t->pcr_mask)
                return NULL;
        if (tpm2_pcr_read(pf->tpm, bank, t->pcr_mask, values, &why) < 0)
                return snprintf(reason, size, "cannot read its literal PCRs: %s", why_or(why)), reason;
        for (unsigned i = 0; i < PCR15_PCR; i++)
                k += !!(t->pcr_mask & (UINT32_C(1) << i));
        if (t->pcr_mask & (UINT32_C(1) << PCR15_PCR)) {
                uint8_t chain[64];
                if (bank != TPM2_ALG_SHA256 || chain_from_state(pf->state, name, chain) < 0)
                        return snprintf(reason, size, "PCR 15 at its unseal is not known (no volume-key record "
                                        "of this boot names %s)", name), reason;
                memcpy(values + k * hsize, chain, hsize);
        }
        if (policy_token(want, t->pubkey_pcr_mask ? &key->name : NULL, bank, t->pcr_mask, values, t->pin) < 0)
                return snprintf(reason, size, "cannot compute its policy"), reason;
        if (memcmp(want, t->policy_hash, 32) != 0)
                return snprintf(reason, size, "its literal PCR %s no longer hold%s the values it was sealed to "
                                "(the TPM's now%s)", pcr_mask_to_string(t->pcr_mask, lm, sizeof(lm)),
                                __builtin_popcount(t->pcr_mask) > 1 ? "" : "s",
                                t->pcr_mask & (UINT32_C(1) << PCR15_PCR) ? ", PCR 15 as this boot chained it" : ""),
                       reason;
        return NULL;
}

/* One token under the new UKI: NULL when it opens, else the reason. */
static const char *token_verdict(struct preflight *pf, const struct tpm2_token *t, const char *name,
                                 char *reason, size_t size, char *fp_out) {
        const struct uki *u = pf->u;
        const char *uki_fp = pf->uki_fp;
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
        pf->key_of_a_token = pf->key_of_a_token || (uki_fp[0] && strcasecmp(uki_fp, fp_out) == 0);
        if (!uki_fp[0] || strcasecmp(uki_fp, fp_out) != 0)
                return snprintf(reason, size, "the UKI's .pcrpkey %.8s.. is not the token's key %.8s..",
                                uki_fp[0] ? uki_fp : "(unreadable)", fp_out), reason;
        if (!enter_initrd_signed(pf->e, pf->n, bank, fp_out))
                return snprintf(reason, size, "no valid %s signature of enter-initrd by key %.8s..",
                                strempty(tpm2_hash_to_string(bank)), fp_out), reason;
        /* These literal PCRs move with a new UKI (4: the image itself), an
         * extra command line (12) or a new extension (13). */
        if (t->pcr_mask & (UINT32_C(1) << 4 | UINT32_C(1) << 12 | UINT32_C(1) << 13))
                return snprintf(reason, size, "its literal PCR %s changes with a new UKI, command line or extension",
                                pcr_mask_to_string(t->pcr_mask & (UINT32_C(1) << 4 | UINT32_C(1) << 12 | UINT32_C(1) << 13),
                                                   lm, sizeof(lm))), reason;
        return literal_now(pf, t, name, &key, reason, size);
}

/* The hand-off window of the token that opens, under the new UKI's
 * signature, as --explain says it for the current one. */
static void window_line(const struct preflight *pf, const struct tpm2_token *t, const char *name) {
        static const char *const answer[] = {
                [WINDOW_CLOSED] = "no (nothing signed after leave-initrd)",
                [WINDOW_LATCHED] = "no (signed after leave-initrd, but the token binds PCR 15, which the volume keys "
                                   "move first)",
                [WINDOW_UNKNOWN] = "unknown (entries for no phase path of this UKI)",
                [WINDOW_OPEN] = "yes",
        };
        _cleanup_free_ char *why = NULL;
        struct window_token w;

        if (window_judge_token(t, pf->u->pcrsig, pf->paths, &w, &why) < 0) {
                fprintf(pf->out, "%s: %s: keys unsealable after hand-off: unknown (%s)\n", pf->path, name, why_or(why));
                return;
        }
        if (w.verdict == WINDOW_OPEN)
                fprintf(pf->out, "%s: %s: keys unsealable after hand-off: yes (entry %zu signs %s); %s\n", pf->path, name,
                        w.entries[w.open_entry].index, window_paths[w.entries[w.open_entry].path], MEASURE_HANDOFF_REMEDY);
        else
                fprintf(pf->out, "%s: %s: keys unsealable after hand-off: %s\n", pf->path, name, answer[w.verdict]);
}

/* Each volume: opens when one of its systemd-tpm2 tokens does. `name` is
 * the plan's (from this boot's record), else the LUKS2 label. */
static int preflight_volume(struct preflight *pf, const char *image, const char *name) {
        _cleanup_luks_ struct crypt_device *cd = NULL;
        _cleanup_free_ char *why = NULL;
        char reason[384] = "no systemd-tpm2 token", fp[65] = "";
        const char *label;
        int r;

        r = luks_load(image, NULL, &cd, &why);
        if (r < 0)
                return log_error("%s: %s", image, strempty(why)), r;
        label = crypt_get_label(cd);
        label = name ? name : label && *label ? label : image;
        for (int id = 0; id < crypt_token_max(CRYPT_LUKS2); id++) {
                struct tpm2_token t;
                const char *bad;

                if (!luks_is_tpm2_token(cd, id))
                        continue;
                if (luks_tpm2_token_get(cd, id, &t, &why) < 0) {
                        snprintf(reason, sizeof(reason), "token %d: %s", id, strempty(why));
                        continue;
                }
                bad = token_verdict(pf, &t, label, reason, sizeof(reason), fp);
                if (!bad) {
                        char lm[64];
                        fprintf(pf->out, "%s: %s: opens (enter-initrd signed by key %.8s..)\n", pf->path, label, fp);
                        /* Said, so the verdict never claims more than was checked. */
                        if (t.pcr_mask && !pf->tpm)
                                fprintf(pf->out, "%s: %s: literal PCR %s not checked (offline; name the TPM: "
                                        "--tpm2-device)\n", pf->path, label,
                                        pcr_mask_to_string(t.pcr_mask, lm, sizeof(lm)));
                        window_line(pf, &t, label);
                        tpm2_token_done(&t);
                        return 1;
                }
                tpm2_token_done(&t);
        }
        fprintf(pf->out, "%s: %s: stays locked: %s\n", pf->path, label, reason);
        return 0;
}

/* No volume named: the ones this boot opened, from its record. */
static int volumes_from_state(struct preflight *pf, bool *locked) {
        struct json_object *a;
        size_t judged = 0;

        if (!json_object_object_get_ex(pf->state, "volumes", &a) || !json_object_is_type(a, json_type_array))
                return 0;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                struct json_object *v = json_object_array_get_idx(a, i);
                const char *name = state_str(v, "name"), *dev = state_str(v, "device");
                int r;

                if (!state_flag(v, "opened") || !name || !dev)
                        continue;
                r = preflight_volume(pf, dev, name);
                if (r < 0)
                        return r;
                *locked = *locked || r == 0;
                judged++;
        }
        return (int) judged;
}

int uki_preflight(const struct preflight_args *a, FILE *out) {
        _cleanup_tpm2_ struct tpm2_ctx *tpm = NULL;
        _cleanup_free_ char *why = NULL;
        const char *path = a->uki, *state_path = a->state_file ? a->state_file : STATE_FILE;
        struct json_object *state = NULL;
        struct uki_entry entries[UKI_MAX_ENTRIES];
        const struct uki_bank *b;
        const struct uki_entry *signed_entry;
        char hex[129], lint[1024] = "", align[768] = "", uki_fp[65] = "";
        struct uki u;
        size_t n, judged = 0;
        bool locked = false;
        int r;

        if (uki_load(path, &u, &why) < 0)
                return log_error("unlock: %s", strempty(why)), 1;
        /* This boot's record: its volumes when none are named, the PCR 15
         * chain of each. A named file must be there; the default may not. */
        r = state_read(state_path, &state, &why);
        if (r < 0 && (a->state_file || r != -ENOENT)) {
                uki_done(&u);
                return log_error("unlock: %s", strempty(why)), 1;
        }
        if (a->tcti && tpm2_open(a->tcti, &tpm, &why) < 0) {
                json_object_put(state);
                uki_done(&u);
                return log_error("unlock: %s", strempty(why)), 1;
        }
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

        struct preflight pf = { .path = path, .u = &u, .e = entries, .n = n, .uki_fp = uki_fp, .state = state,
                                .tpm = tpm, .out = out };
        r = window_paths_from(b->base, pf.paths);
        if (r < 0)
                log_error("unlock: %s: cannot compute the phase policies of its PCR 11: %s", path, strerror(-r));
        for (size_t i = 0; r >= 0 && i < a->n_images; i++) {
                r = preflight_volume(&pf, a->images[i], NULL);
                locked = locked || r == 0;
                judged++;
        }
        if (r >= 0 && !a->n_images && state) {
                r = volumes_from_state(&pf, &locked);
                judged = r > 0 ? (size_t) r : 0;
        }
        if (r >= 0 && !judged)
                fprintf(out, "%s: no volume judged (none named, and %s lists no opened volume)\n", path, state_path);
        /* The upgrade that locks every volume at once: a new signing key
         * no token was enrolled for (rotate first: enroll --unlock-tpm2). */
        if (r >= 0 && judged && uki_fp[0] && !pf.key_of_a_token)
                fprintf(out, "%s: lint: its key %.8s.. is the key of no token of the volumes judged\n", path, uki_fp);
        json_object_put(state);
        if (r < 0) {
                uki_done(&u);
                return 1;
        }
        uki_done(&u);
        /* Exit 0 says every volume opens: never without a volume judged (a
         * UKI signed by any key passes its own lint). */
        if (!judged)
                return PREFLIGHT_EXIT_NOTHING;
        return locked ? PREFLIGHT_EXIT_LOCKED : 0;
}
