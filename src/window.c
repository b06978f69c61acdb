/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <libcryptsetup.h>
#include <openssl/evp.h>
#include <string.h>

#include "log.h"
#include "luks.h"
#include "measure.h"
#include "policy.h"
#include "state.h"
#include "unlock.h"
#include "window.h"

#define PCR11_MASK (UINT32_C(1) << MEASURE_PCR_PHASE)
#define PCR15_MASK (UINT32_C(1) << 15)

/* systemd-measure sign's default --phase list. */
const char *const window_paths[WINDOW_N_PATHS] = {
        "enter-initrd",
        "enter-initrd:leave-initrd",
        "enter-initrd:leave-initrd:sysinit",
        "enter-initrd:leave-initrd:sysinit:ready",
};

/* PCR = H(PCR || H(word)), as the TPM extends a phase word. */
static int extend_word(uint8_t pcr[32], const char *word) {
        uint8_t buf[64];

        memcpy(buf, pcr, 32);
        if (!EVP_Digest(word, strlen(word), buf + 32, NULL, EVP_sha256(), NULL) ||
            !EVP_Digest(buf, sizeof(buf), pcr, NULL, EVP_sha256(), NULL))
                return -EIO;
        return 0;
}

int window_paths_from(const uint8_t base[32], struct window_path out[WINDOW_N_PATHS]) {
        uint8_t pcr[32];

        memcpy(pcr, base, 32);
        /* Each path is the previous one plus its last word. */
        for (size_t i = 0; i < WINDOW_N_PATHS; i++) {
                const char *word = strrchr(window_paths[i], ':');

                if (extend_word(pcr, word ? word + 1 : window_paths[i]) < 0)
                        return -EIO;
                memcpy(out[i].pcr11, pcr, 32);
                memset(out[i].policy, 0, 32);
                if (policy_pcr(out[i].policy, TPM2_ALG_SHA256, PCR11_MASK, pcr, 32) < 0)
                        return -EIO;
        }
        return 0;
}

int window_path_of(const struct window_path paths[WINDOW_N_PATHS], const uint8_t pol[32]) {
        for (int i = 0; i < WINDOW_N_PATHS; i++)
                if (memcmp(paths[i].policy, pol, 32) == 0)
                        return i;
        return -1;
}

bool window_path_after_handoff(int path) {
        return path >= 0 && path < WINDOW_N_PATHS && strstr(window_paths[path], "leave-initrd");
}

int window_judge_token(const struct tpm2_token *t, json_object *sig, const struct window_path *paths,
                       struct window_token *ret, char **why) {
        struct pcrsig_policy pols[WINDOW_MAX_ENTRIES];
        struct pcrsig_key key;
        bool unknown = false;
        int r;

        *ret = (struct window_token) { .signed_mask = t->pubkey_pcr_mask, .literal_mask = t->pcr_mask, .open_entry = -1 };
        if (!t->pubkey_pcr_mask) {
                /* Literal PCRs only: no signature window to judge. */
                ret->verdict = WINDOW_UNKNOWN;
                return 0;
        }
        r = pcrsig_key_from_pem(t->pubkey_pem, t->pubkey_pem_size, &key, why);
        if (r < 0) {
                why_prefix(why, "field 'tpm2_pubkey'");
                return r;
        }
        hex_string(key.fingerprint, 32, ret->fingerprint);
        ret->n_entries = pcrsig_policies(sig, TPM2_ALG_SHA256, t->pubkey_pcr_mask, &key, pols, ELEMENTSOF(pols));
        for (size_t i = 0; i < ret->n_entries; i++) {
                /* Phase paths name PCR 11 values only: a selection with other
                 * PCRs cannot be placed. */
                int path = paths && t->pubkey_pcr_mask == PCR11_MASK ? window_path_of(paths, pols[i].pol) : -1;

                ret->entries[i] = (struct window_entry) { .index = pols[i].index, .path = path };
                if (path < 0)
                        unknown = true;
                else if (window_path_after_handoff(path) && ret->open_entry < 0)
                        ret->open_entry = (int) i;
        }
        if (ret->open_entry >= 0)
                ret->verdict = t->pcr_mask & PCR15_MASK ? WINDOW_LATCHED : WINDOW_OPEN;
        else
                ret->verdict = unknown ? WINDOW_UNKNOWN : WINDOW_CLOSED;
        return 0;
}

int window_token_now(struct tpm2_ctx *c, const struct tpm2_token *t, json_object *sig,
                     enum window_verdict *ret, char **why) {
        TPMI_ALG_HASH bank = t->pcr_bank ? t->pcr_bank : TPM2_ALG_SHA256;
        uint8_t values[24 * 64], pol[32] = {}, want[32];
        _cleanup_free_ char *none = NULL;
        struct pcrsig_key key = {};
        TPMT_SIGNATURE s;
        int r;

        *ret = WINDOW_CLOSED;
        if (t->pubkey_pcr_mask) {
                /* No signature file: nothing can authorize its signed PCRs. */
                if (!sig)
                        return 0;
                r = pcrsig_key_from_pem(t->pubkey_pem, t->pubkey_pem_size, &key, why);
                if (r >= 0)
                        r = tpm2_pcr_read(c, bank, t->pubkey_pcr_mask, values, why);
                if (r < 0)
                        return r;
                if (policy_pcr(pol, bank, t->pubkey_pcr_mask, values, tpm2_hash_size(bank)) < 0)
                        return why_set(why, EIO, "cannot compute the PCR policy");
                if (pcrsig_find(sig, bank, t->pubkey_pcr_mask, &key, pol, &s, &none) < 0)
                        return 0;
        }
        if (t->pcr_mask && (r = tpm2_pcr_read(c, bank, t->pcr_mask, values, why)) < 0)
                return r;
        if (policy_token(want, t->pubkey_pcr_mask ? &key.name : NULL, bank, t->pcr_mask, values, t->pin) < 0)
                return why_set(why, EIO, "cannot compute the policy");
        *ret = memcmp(want, t->policy_hash, 32) == 0 ? WINDOW_OPEN : WINDOW_LATCHED;
        return 0;
}

/* ---- the boot ------------------------------------------------------------- */

void window_record_base(const struct plan *p, struct boot *b) {
        _cleanup_tpm2_ struct tpm2_ctx *tpm = NULL;
        _cleanup_free_ char *why = NULL;

        if (tpm2_open(unlock_tcti(p), &tpm, &why) < 0 ||
            tpm2_pcr_read(tpm, TPM2_ALG_SHA256, PCR11_MASK, b->window.pcr11_base, &why) < 0) {
                log_warn("early: cannot read PCR %d before enter-initrd: %s", MEASURE_PCR_PHASE, strempty(why));
                return;
        }
        b->window.base_known = true;
}

struct worst {
        enum window_verdict verdict;
        const char *volume;
        int token;
};

/* The worst token of the boot's LUKS2 volumes, with the PCRs as they are now. */
static void judge_volumes(struct tpm2_ctx *tpm, const struct plan *p, const struct boot *b, json_object *sig,
                          struct worst *w) {
        for (size_t i = 0; i < b->n_volumes; i++) {
                const struct boot_volume *bv = &b->volumes[i];
                _cleanup_luks_ struct crypt_device *cd = NULL;
                _cleanup_free_ char *why = NULL;

                if (!bv->found || bv->dev.content != CONTENT_LUKS2 ||
                    luks_load(bv->dev.devnode, (const char *const *) p->luks_ciphers.v, &cd, &why) < 0)
                        continue;
                for (int id = 0; id < crypt_token_max(CRYPT_LUKS2); id++) {
                        struct tpm2_token t;
                        enum window_verdict v;

                        if (!luks_is_tpm2_token(cd, id) || luks_tpm2_token_get(cd, id, &t, &why) < 0)
                                continue;
                        if (window_token_now(tpm, &t, sig, &v, &why) >= 0 && v >= w->verdict &&
                            (v > w->verdict || !w->volume))
                                *w = (struct worst) { .verdict = v, .volume = bv->name, .token = id };
                        tpm2_token_done(&t);
                }
        }
}

static void record(struct boot *b, bool open, const char *signature, const char *fmt, ...) _printf_(4, 5);
static void record(struct boot *b, bool open, const char *signature, const char *fmt, ...) {
        va_list ap;

        b->window.checked = true;
        b->window.unsealable = open;
        snprintf(b->window.signature, sizeof(b->window.signature), "%s", strempty(signature));
        va_start(ap, fmt);
        vsnprintf(b->window.reason, sizeof(b->window.reason), fmt, ap);
        va_end(ap);
}

void window_audit(const struct plan *p, struct boot *b) {
        _cleanup_tpm2_ struct tpm2_ctx *tpm = NULL;
        _cleanup_(strv_clear) strv paths = {};
        _cleanup_free_ char *why = NULL;
        const char *path = NULL;
        json_object *sig = NULL;
        struct worst w = { WINDOW_CLOSED, NULL, -1 };
        int r;

        if (unlock_signature_paths(p, b, &paths) < 0)
                return;
        r = tpm2_open(unlock_tcti(p), &tpm, &why);
        if (r >= 0)
                r = measure_signed_now(tpm, (const char *const *) paths.v, &path, &why);
        /* -ENOENT from measure_signed_now(): no signature file. */
        if (!tpm || (r < 0 && r != -ENOENT)) {
                (void) boot_warn(b, "hand-off: cannot check whether PCR %d is still signed: %s", MEASURE_PCR_PHASE,
                                 strempty(why));
                return;
        }
        if (r <= 0) {
                /* Nothing signed from here on, but a token bound to literal
                 * PCRs alone needs no signature: does one still unseal? */
                judge_volumes(tpm, p, b, NULL, &w);
                if (w.verdict == WINDOW_OPEN) {
                        record(b, true, r == 0 ? path : NULL, "volume %s (token %d) is bound to literal PCRs only, "
                               "which still hold their sealed values", w.volume, w.token);
                        (void) boot_warn(b, "hand-off: %s: the final OS, and whoever roots it, can unseal the volume "
                                         "keys again; %s", b->window.reason, WINDOW_LITERAL_REMEDY);
                } else if (r == 0) {
                        record(b, false, path, "PCR %d after leave-initrd is not signed in %s", MEASURE_PCR_PHASE, path);
                        log_info("hand-off: %s: the keys are sealed from here on", b->window.reason);
                } else
                        record(b, false, NULL, "no PCR signature file: nothing is signed");
                return;
        }
        /* Signed by some key: whose, and does a token of this boot's
         * volumes still unseal (its literal PCRs too)? */
        if (pcrsig_load((const char *const *) paths.v, true, &sig, &path, &why) >= 0) {
                judge_volumes(tpm, p, b, sig, &w);
                json_object_put(sig);
        }
        switch (w.verdict) {
        case WINDOW_OPEN:
                record(b, true, path, "PCR %d after leave-initrd is still signed in %s for volume %s (token %d)",
                       MEASURE_PCR_PHASE, path, w.volume, w.token);
                (void) boot_warn(b, "hand-off: %s: the final OS, and whoever roots it, can unseal the volume keys again; %s",
                                 b->window.reason, MEASURE_HANDOFF_REMEDY);
                break;
        case WINDOW_LATCHED:
                record(b, false, path, "PCR %d after leave-initrd is still signed in %s, but volume %s (token %d) also "
                       "binds literal PCRs that no longer hold their sealed values (the PCR 15 latch)",
                       MEASURE_PCR_PHASE, path, w.volume, w.token);
                log_info("hand-off: %s; %s", b->window.reason, MEASURE_HANDOFF_REMEDY);
                break;
        default:
                record(b, false, path, "PCR %d after leave-initrd is signed in %s, but by no key of a token of this "
                       "boot's volumes", MEASURE_PCR_PHASE, path);
                log_info("hand-off: %s", b->window.reason);
        }
}

/* ---- unlock --check --explain ------------------------------------------------ */

struct base {
        bool known;
        uint8_t value[32];
        char source[320];
};

static int base_from_state(const char *file, struct base *ret) {
        const char *path = file ? file : STATE_FILE;
        json_object *s = NULL, *v;
        char why[WHY_MAX];
        int r = state_read(path, &s, why);

        if (r < 0 && r != -ENOENT) {
                snprintf(ret->source, sizeof(ret->source), "unknown: no --pcr11-base, and %.280s", why);
                return r;
        }
        r = -ENOENT;
        if (s && json_object_object_get_ex(s, "pcr11_base", &v) && json_object_is_type(v, json_type_string) &&
            hex_parse(json_object_get_string(v), ret->value, 32, NULL) >= 0) {
                ret->known = true;
                snprintf(ret->source, sizeof(ret->source), "this boot's record, %s", path);
                r = 0;
        } else
                snprintf(ret->source, sizeof(ret->source), "unknown: no --pcr11-base and no pcr11_base in %s", path);
        json_object_put(s);
        return r;
}

static int base_resolve(const struct window_explain_args *a, struct base *ret) {
        _cleanup_tpm2_ struct tpm2_ctx *tpm = NULL;
        _cleanup_free_ char *why = NULL;

        *ret = (struct base) {};
        if (!a->pcr11_base) {
                (void) base_from_state(a->state_file, ret);
                return 0;
        }
        if (!streq(a->pcr11_base, "tpm")) {
                if (hex_parse(a->pcr11_base, ret->value, 32, NULL) < 0)
                        return log_error("unlock: --pcr11-base wants 64 hex digits or \"tpm\", not '%s'", a->pcr11_base), -EINVAL;
                ret->known = true;
                snprintf(ret->source, sizeof(ret->source), "--pcr11-base");
                return 0;
        }
        if (tpm2_open(a->tcti, &tpm, &why) < 0 || tpm2_pcr_read(tpm, TPM2_ALG_SHA256, PCR11_MASK, ret->value, &why) < 0)
                return log_error("unlock: --pcr11-base tpm: %s", strempty(why)), -ENODEV;
        ret->known = true;
        snprintf(ret->source, sizeof(ret->source), "the TPM's PCR %d now", MEASURE_PCR_PHASE);
        return 0;
}

static const char *entry_phase(const struct window_entry *e) {
        return e->path >= 0 ? window_paths[e->path] : "unknown";
}

/* With a TPM named: the boot's own check, on the PCRs as they are now. */
static void explain_now(FILE *out, const char *image, int id, struct tpm2_ctx *tpm, const struct tpm2_token *t,
                        json_object *sig) {
        static const char *const now[] = {
                [WINDOW_CLOSED] = "sealed (its signed PCRs' values are not signed for its key)",
                [WINDOW_LATCHED] = "sealed (signed, but its literal PCRs moved)",
                [WINDOW_UNKNOWN] = "unknown",
                [WINDOW_OPEN] = "unsealable",
        };
        _cleanup_free_ char *why = NULL;
        enum window_verdict v;

        if (window_token_now(tpm, t, sig, &v, &why) < 0)
                fprintf(out, "%s: token %d: with the TPM's PCRs now: %s\n", image, id, strempty(why));
        else
                fprintf(out, "%s: token %d: with the TPM's PCRs now: %s\n", image, id, now[v]);
}

/* The lines of one token; returns its verdict. */
static enum window_verdict explain_token(FILE *out, const char *image, int id, const struct tpm2_token *t,
                                         json_object *sig, const struct window_path *paths, char *detail, size_t size) {
        _cleanup_free_ char *why = NULL;
        struct window_token w;
        char sm[64], lm[64];

        if (window_judge_token(t, sig, paths, &w, &why) < 0) {
                fprintf(out, "%s: token %d (keyslot %d): %s\n", image, id, t->keyslot, strempty(why));
                snprintf(detail, size, "token %d: %s", id, strempty(why));
                return WINDOW_UNKNOWN;
        }
        pcr_mask_to_string(w.literal_mask, lm, sizeof(lm));
        if (!w.signed_mask) {
                fprintf(out, "%s: token %d (keyslot %d): no signed PCR policy, literal PCR %s\n", image, id, t->keyslot,
                        w.literal_mask ? lm : "none");
                snprintf(detail, size, "token %d has no signed PCR policy", id);
                return w.verdict;
        }
        fprintf(out, "%s: token %d (keyslot %d): PCR %s signed by key %.16s.., %s%s\n", image, id, t->keyslot,
                pcr_mask_to_string(w.signed_mask, sm, sizeof(sm)), w.fingerprint,
                w.literal_mask ? "literal PCR " : "no literal PCRs", w.literal_mask ? lm : "");
        if (!w.n_entries)
                fprintf(out, "%s: token %d: the signature file signs nothing for this key and PCR %s\n", image, id, sm);
        for (size_t i = 0; i < w.n_entries; i++)
                fprintf(out, "%s: token %d: entry %zu signs %s\n", image, id, w.entries[i].index, entry_phase(&w.entries[i]));
        switch (w.verdict) {
        case WINDOW_OPEN:
        case WINDOW_LATCHED:
                snprintf(detail, size, "token %d: entry %zu signs %s%s", id, w.entries[w.open_entry].index,
                         entry_phase(&w.entries[w.open_entry]),
                         w.verdict == WINDOW_LATCHED ? ", but the token also binds literal PCR 15, which the "
                         "volume-key latch moves before leave-initrd" : "");
                break;
        case WINDOW_UNKNOWN:
                snprintf(detail, size, "token %d: %s", id, paths ? "entries for no phase path from this PCR 11 base"
                                                                 : "no PCR 11 base to name the phases");
                break;
        default:
                snprintf(detail, size, "token %d: %s", id, w.n_entries ? "every entry signs enter-initrd only"
                                                                       : "nothing signed for its key");
        }
        return w.verdict;
}

/* One image: its tokens' lines, then the verdict. Negative: unreadable. */
static int explain_image(FILE *out, const char *image, json_object *sig, const struct window_path *paths,
                         struct tpm2_ctx *tpm) {
        _cleanup_luks_ struct crypt_device *cd = NULL;
        _cleanup_free_ char *why = NULL;
        enum window_verdict worst = WINDOW_CLOSED;
        char detail[512] = "no systemd-tpm2 token", d[512];
        int r;

        r = luks_load(image, NULL, &cd, &why);
        if (r < 0)
                return log_error("%s: %s", image, strempty(why)), r;
        for (int id = 0; id < crypt_token_max(CRYPT_LUKS2); id++) {
                struct tpm2_token t;
                enum window_verdict v;

                if (!luks_is_tpm2_token(cd, id))
                        continue;
                if ((r = luks_tpm2_token_get(cd, id, &t, &why)) < 0) {
                        log_error("%s: token %d: %s", image, id, strempty(why));
                        return r;
                }
                v = explain_token(out, image, id, &t, sig, paths, d, sizeof(d));
                if (tpm)
                        explain_now(out, image, id, tpm, &t, sig);
                tpm2_token_done(&t);
                if (v > worst || streq(detail, "no systemd-tpm2 token")) {
                        worst = v > worst ? v : worst;
                        memcpy(detail, d, sizeof(detail));
                }
        }
        static const char *const answer[] = {
                [WINDOW_CLOSED] = "no", [WINDOW_LATCHED] = "no", [WINDOW_UNKNOWN] = "unknown", [WINDOW_OPEN] = "yes",
        };
        bool remedy = worst == WINDOW_OPEN || worst == WINDOW_LATCHED;
        fprintf(out, "%s: keys unsealable after hand-off: %s (%s)%s%s\n", image, answer[worst], detail,
                remedy ? "; " : "", remedy ? MEASURE_HANDOFF_REMEDY : "");
        return (int) worst;
}

int window_explain(const struct window_explain_args *a, FILE *out) {
        _cleanup_tpm2_ struct tpm2_ctx *tpm = NULL;
        _cleanup_free_ char *why = NULL;
        struct window_path paths[WINDOW_N_PATHS];
        const char *sig_path = NULL;
        json_object *sig = NULL;
        struct base base;
        char hex[65];
        int worst = WINDOW_CLOSED, ret = 0;

        if (base_resolve(a, &base) < 0)
                return 1;
        if (pcrsig_load(a->signatures, true, &sig, &sig_path, &why) < 0)
                return log_error("unlock: %s", strempty(why)), 1;
        if (base.known && window_paths_from(base.value, paths) < 0) {
                json_object_put(sig);
                return log_error("unlock: cannot compute the phase policies"), 1;
        }
        /* A TPM only when one is named: --explain itself needs none (nor root). */
        if (a->tcti && tpm2_open(a->tcti, &tpm, &why) < 0) {
                json_object_put(sig);
                return log_error("unlock: %s", strempty(why)), 1;
        }
        fprintf(out, "Signature file: %s\n", sig_path);
        fprintf(out, "PCR 11 base: %s (%s)\n", base.known ? hex_string(base.value, 32, hex) : "unknown", base.source);
        for (size_t i = 0; i < a->n_images; i++) {
                int r = explain_image(out, a->images[i], sig, base.known ? paths : NULL, tpm);
                if (r < 0)
                        ret = 1;
                else if (r > worst)
                        worst = r;
        }
        json_object_put(sig);
        if (ret)
                return ret;
        return worst == WINDOW_OPEN ? WINDOW_EXIT_OPEN : worst == WINDOW_UNKNOWN ? WINDOW_EXIT_UNKNOWN : 0;
}
