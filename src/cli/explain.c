/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <libcryptsetup.h>
#include <string.h>

#include "explain.h"
#include "log.h"
#include "luks.h"
#include "measure.h"
#include "encoding.h"
#include "policy.h"
#include "state-read.h"
#include "state.h"
#include "token-pcrs.h"

/* `usi-init unlock --check --explain`: the signed phase windows of each
 * image's tokens, judged offline by src/tpm/window.c, printed for a person. */

struct base {
        bool known;
        uint8_t value[32];
        char source[320];
};

static int base_from_state(const char *file, struct base *ret) {
        const char *path = file ? file : STATE_FILE;
        json_object *s = NULL;
        _cleanup_free_ char *why = NULL;
        int r = state_read(path, &s, &why);

        if (r < 0 && r != -ENOENT) {
                snprintf(ret->source, sizeof(ret->source), "unknown: no --pcr11-base, and %.280s", why);
                return r;
        }
        r = s ? state_hex32(s, "pcr11_base", ret->value) : -ENOENT;
        if (r >= 0) {
                ret->known = true;
                snprintf(ret->source, sizeof(ret->source), "this boot's record, %s", path);
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
        if (tpm2_open(a->tcti, &tpm, &why) < 0 || tpm2_pcr_read(tpm, TPM2_ALG_SHA256, UINT32_C(1) << MEASURE_PCR_PHASE, ret->value, &why) < 0)
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

/* How the token binds PCR 15, the volume-binding chain (docs/ARCHITECTURE.md):
 * judged from its policy hash; with a TPM named, its other literal PCRs are
 * read there. */
static enum token_pcr15 explain_binding(FILE *out, const char *image, int id, struct tpm2_ctx *tpm,
                                        const struct tpm2_token *t) {
        static const char *const said[] = {
                [TOKEN_PCR15_UNBOUND] = "not bound to other volumes (no PCR 15 in its policy)",
                [TOKEN_PCR15_ZERO] = "PCR 15 = 0: the first volume of a bound set, or enrolled the systemd way",
                [TOKEN_PCR15_CHAINED] = "bound: PCR 15 at a chained value, so it opens only after the volumes it "
                                        "was enrolled behind",
                [TOKEN_PCR15_UNKNOWN] = "PCR 15 in its policy, at a value not known without its other literal "
                                        "PCRs (name the TPM: --tpm2-device)",
        };
        TPMI_ALG_HASH bank = t->pcr_bank ? t->pcr_bank : TPM2_ALG_SHA256;
        uint8_t values[24 * 64];
        bool have = tpm && t->pcr_mask && tpm2_pcr_read(tpm, bank, t->pcr_mask, values, NULL) >= 0;
        enum token_pcr15 b = token_pcr15_binding(t, bank, have ? values : NULL);

        fprintf(out, "%s: token %d: %s\n", image, id, said[b]);
        return b;
}

/* One image: its tokens' lines, then the verdict. Negative: unreadable. */
static int explain_image(FILE *out, const char *image, json_object *sig, const struct window_path *paths,
                         struct tpm2_ctx *tpm) {
        _cleanup_luks_ struct crypt_device *cd = NULL;
        _cleanup_free_ char *why = NULL;
        enum window_verdict worst = WINDOW_CLOSED;
        char detail[512] = "no systemd-tpm2 token", d[512];
        size_t binding[TOKEN_PCR15_UNKNOWN + 1] = {};
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
                binding[explain_binding(out, image, id, tpm, &t)]++;
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
        /* Bound only when no token opens it without PCR 15: a token that
         * does not bind it opens the volume whatever was opened before. */
        fprintf(out, "%s: bound to its volume set: %s\n", image,
                binding[TOKEN_PCR15_UNBOUND] ? "no (a token without PCR 15 opens it alone)" :
                binding[TOKEN_PCR15_UNKNOWN] ? "unknown (name the TPM: --tpm2-device)" :
                binding[TOKEN_PCR15_CHAINED] && binding[TOKEN_PCR15_ZERO] ?
                        "no (a token at PCR 15 = 0 opens it before any volume key is measured)" :
                binding[TOKEN_PCR15_CHAINED] ? "yes (behind the volumes it was enrolled after)" :
                binding[TOKEN_PCR15_ZERO] ? "first of a set, or the systemd way (PCR 15 = 0)" : "no (no systemd-tpm2 token)");
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
