/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <string.h>

#include "encoding.h"
#include "enroll.h"
#include "log.h"
#include "luks.h"
#include "pcr15.h"
#include "pcrsig.h"
#include "policy.h"
#include "reseal.h"
#include "safe-open.h"
#include "token-pcrs.h"
#include "token.h"
#include "tpm-session.h"

/* The booted image's key: systemd-stub puts the UKI's .pcrpkey there, and
 * the kit's initrd carries it the same way. Beneath the root, never from
 * a volume. */
#define BOOTED_PUBKEY ".extra/tpm2-pcr-public-key.pem"
#define MAX_TOKENS 32

/* The tokens that failed (every systemd-tpm2 token of the volume: none
 * opened it) and the literal PCRs of the first, which the new one keeps. */
struct failed {
        int ids[MAX_TOKENS];
        size_t n;
        uint32_t pcr_mask;
        bool pin;
};

static int failed_tokens(struct crypt_device *cd, struct failed *f, char **why) {
        for (int id = 0; id < MAX_TOKENS; id++) {
                struct tpm2_token t = {};
                int r;

                if (!luks_is_tpm2_token(cd, id))
                        continue;
                r = luks_tpm2_token_get(cd, id, &t, why);
                if (r < 0) {
                        why_prefix(why, "token %d", id);
                        return r;
                }
                if (!f->n)
                        f->pcr_mask = t.pcr_mask;
                f->pin = f->pin || t.pin;
                f->ids[f->n++] = id;
                tpm2_token_done(&t);
        }
        return 0;
}

/* PCR 15 (sha256) as this volume's TPM unseal finds it in a boot of the
 * same volume set: the extends made so far, then the keys opened and not
 * yet measured of the volumes before it in plan order. */
static int chain_before(const struct plan *p, const struct boot *b, const char *name, uint8_t value[64]) {
        int r;

        memset(value, 0, 64);
        for (size_t i = 0; i < b->n_pcr15; i++) {
                struct pcr15_digests d = { .n = 1 };

                if (b->pcr15[i].bank != TPM2_ALG_SHA256)
                        continue;
                d.v[0].alg = TPM2_ALG_SHA256;
                d.v[0].size = b->pcr15[i].size;
                memcpy(d.v[0].digest, b->pcr15[i].digest, b->pcr15[i].size);
                if ((r = pcr15_chain(TPM2_ALG_SHA256, value, &d)) < 0)
                        return r;
        }
        for (size_t i = 0; i < p->n_volumes && !streq(p->volumes[i].name, name); i++) {
                const struct boot_volume *bv = boot_volume_find(b, p->volumes[i].name);
                if (bv && bv->pcr15 && (r = pcr15_chain(TPM2_ALG_SHA256, value, bv->pcr15)) < 0)
                        return r;
        }
        return 0;
}

/* Does the booted image sign this boot's PCR 11 with `key`? Else a token
 * sealed to it could not unseal in the next boot either. */
static int signed_now(const char *const *signatures, struct tpm2_ctx *tpm, const struct pcrsig_key *key,
                      char **why) {
        struct json_object *sig = NULL;
        uint8_t pcr11[32], pol[POLICY_DIGEST_SIZE] = {}; /* policy_pcr() extends it */
        TPMT_SIGNATURE s;
        const char *path;
        int r;

        r = pcrsig_load(signatures, false, &sig, &path, why);
        if (r >= 0)
                r = tpm2_pcr_read(tpm, TPM2_ALG_SHA256, UINT32_C(1) << 11, pcr11, why);
        if (r >= 0 && (r = policy_pcr(pol, TPM2_ALG_SHA256, UINT32_C(1) << 11, pcr11, sizeof(pcr11))) < 0)
                why_set(why, r, "cannot compute the PCR 11 policy");
        if (r >= 0 && (r = pcrsig_find(sig, TPM2_ALG_SHA256, UINT32_C(1) << 11, key, pol, &s, why)) < 0)
                why_prefix(why, "this boot's PCR 11 is not signed by the booted image's key");
        json_object_put(sig);
        return r;
}

/* The work; *why says why nothing was resealed, *done what was. */
static int reseal(const struct plan *p, struct boot *b, const struct reseal_request *req, char **done, char **why) {
        _cleanup_free_ char *pem = NULL, *removed = NULL;
        struct enroll_args a = { .pubkey_pcr_mask = UINT32_C(1) << 11, .unlock_key = req->key };
        struct enroll_result res;
        struct failed f = {};
        struct pcrsig_key key;
        uint8_t chain[64];
        char fp[65], v15[65];
        size_t size = 0;
        int r;

        r = failed_tokens(req->cd, &f, why);
        if (r < 0)
                return r;
        if (!f.n)
                return why_set(why, ENOENT, "it has no systemd-tpm2 token to replace");
        if (f.pin)
                return why_set(why, EPERM, "its token asks for a PIN, which the boot cannot ask for to seal a new one");
        r = safe_read_at(b->root_fd, *b->root ? b->root : "/", BOOTED_PUBKEY, SAFE_PUBKEY_MAX, &pem, &size, why);
        if (r >= 0 && (r = pcrsig_key_from_pem(pem, size, &key, why)) < 0)
                why_prefix(why, "/%s", BOOTED_PUBKEY);
        if (r >= 0)
                r = tpm_session_get(p, b, &a.tpm, why);
        if (r >= 0)
                r = signed_now(req->signatures, a.tpm, &key, why);
        if (r < 0)
                return r;
        a.pubkey_pem = pem;
        a.pubkey_pem_size = size;
        a.pcr_mask = f.pcr_mask;
        if ((a.has_pcr15 = f.pcr_mask & (UINT32_C(1) << PCR15_PCR))) {
                if ((r = chain_before(p, b, req->name, chain)) < 0)
                        return why_set(why, r, "cannot compute the PCR 15 chain value: %s", strerror(-r));
                memcpy(a.pcr15, chain, sizeof(a.pcr15));
        }
        r = enroll_volume(req->path, &a, &res, why);
        if (r < 0)
                return r;
        /* The new token is in: the failed ones go, one by one (each removal
         * judges the header again). */
        for (size_t i = 0; i < f.n; i++) {
                _cleanup_free_ char *rwhy = NULL;
                char *s = NULL;

                if (enroll_remove(req->path, f.ids[i], NULL, 0, NULL, &rwhy) < 0) {
                        (void) boot_warn(b, "volume %s: resealed, but the failed token %d stays: %s", req->name,
                                         f.ids[i], strempty(rwhy));
                        continue;
                }
                if (asprintf(&s, "%s%s%d", removed ? removed : "", removed ? ", " : "", f.ids[i]) < 0)
                        return -ENOMEM;
                free(removed);
                removed = s;
        }
        hex_string(key.fingerprint, 4, fp);
        return asprintf(done, "token %d (keyslot %d) sealed to the booted image's key %s..%s%s%s; removed token(s) %s",
                        res.token, res.keyslot, fp, a.has_pcr15 ? ", PCR 15 at " : "",
                        a.has_pcr15 ? hex_string(a.pcr15, 4, v15) : "", a.has_pcr15 ? ".. (bound as before)" : "",
                        removed ? removed : "none") < 0 ? -ENOMEM : 0;
}

int reseal_volume(const struct plan *p, struct boot *b, const struct reseal_request *req) {
        struct boot_volume *bv = boot_volume_get(b, req->name);
        _cleanup_free_ char *done = NULL, *why = NULL;
        int r;

        if (!bv)
                return -ENOMEM;
        r = reseal(p, b, req, &done, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (asprintf(&bv->reseal, "not resealed: %s", why_or(why)) < 0)
                        return -ENOMEM;
                return boot_warn(b, "volume %s: opened by a person after its TPM token failed, %s", req->name,
                                 bv->reseal);
        }
        log_info("volume %s: resealed: %s", req->name, done);
        bv->reseal = TAKE_PTR(done);
        return 0;
}
