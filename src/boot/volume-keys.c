/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <libcryptsetup.h>
#include <string.h>

#include "log.h"
#include "luks.h"
#include "pcr15.h"
#include "policy.h"
#include "tpm-session.h"
#include "token-pcrs.h"
#include "volume-keys.h"

/* The volume keys in PCR 15: measured in plan order, as soon as a volume
 * bound behind them is to be unsealed, else right before leave-initrd; and
 * the binding check of each TPM volume (docs/ARCHITECTURE.md, volume
 * binding: the PCR 15 chain). */

static int measure_volume(struct tpm2_ctx *tpm, const struct plan_volume *v, struct boot *b,
                          struct boot_volume *bv) {
        _cleanup_free_ char *why = NULL;
        int r;

        r = pcr15_extend(tpm, bv->pcr15, &b->pcr15, &b->n_pcr15, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return boot_fail(b, r, "volume %s: cannot measure the volume key of %s into PCR %d: %s; not booting on",
                                 v ? v->name : bv->name, bv->dev.devnode, PCR15_PCR, strempty(why));
        log_info("volume %s: measured %s into PCR %d", bv->name, bv->pcr15->description, PCR15_PCR);
        free(bv->pcr15);
        bv->pcr15 = NULL;
        return 0;
}

int pcr15_measure_boot(const struct plan *p, struct boot *b) {
        _cleanup_free_ char *why = NULL;
        struct tpm2_ctx *tpm = NULL;
        bool any = false;
        int r;

        for (size_t i = 0; i < b->n_volumes; i++)
                any = any || b->volumes[i].pcr15;
        if (!any)
                return 0;
        r = tpm_session_get(p, b, &tpm, &why);
        /* No TPM at all (the volumes opened by passphrase or key file, the
         * connection the unlock stage keeps is not there): no TPM key can be
         * unsealed later either, so there is nothing to latch. Any other
         * failure fails the boot. */
        if (r == -ENODEV)
                return boot_warn(b, "volume keys not measured into PCR %d: %s", PCR15_PCR, strempty(why));
        if (r < 0)
                return boot_fail(b, r, "cannot measure the volume keys into PCR %d: %s; not booting on", PCR15_PCR,
                                 strempty(why));
        /* Plan order makes PCR 15 predictable; a volume the rebuilt plan no
         * longer lists (none today) follows in the order it was opened. */
        for (size_t i = 0; i < p->n_volumes; i++) {
                struct boot_volume *bv = (struct boot_volume *) boot_volume_find(b, p->volumes[i].name);
                if (bv && bv->pcr15 && (r = measure_volume(tpm, &p->volumes[i], b, bv)) < 0)
                        return r;
        }
        for (size_t i = 0; i < b->n_volumes; i++)
                if (b->volumes[i].pcr15 && (r = measure_volume(tpm, NULL, b, &b->volumes[i])) < 0)
                        return r;
        return 0;
}

/* ---- binding ---------------------------------------------------------------- */

/* The digests of the volumes opened and not yet measured, in plan order
 * (the order pcr15_measure_boot() extends them in). */
static size_t pending(const struct plan *p, const struct boot *b, const struct pcr15_digests **d, size_t max) {
        size_t n = 0;

        for (size_t i = 0; i < p->n_volumes && n < max; i++) {
                const struct boot_volume *bv = boot_volume_find(b, p->volumes[i].name);
                if (bv && bv->pcr15)
                        d[n++] = bv->pcr15;
        }
        for (size_t i = 0; i < b->n_volumes && n < max; i++) {
                bool listed = false;
                for (size_t j = 0; j < p->n_volumes; j++)
                        listed = listed || streq(p->volumes[j].name, b->volumes[i].name);
                if (!listed && b->volumes[i].pcr15)
                        d[n++] = b->volumes[i].pcr15;
        }
        return n;
}

/* How one token fits PCR 15 as it is, and as it would be after the pending
 * digests. */
enum fit {
        FIT_NONE,               /* not judged (no bank, PCRs unreadable): the Unseal says why */
        FIT_FOREIGN,            /* bound to PCR 15, at a value neither now nor after the pending keys */
        FIT_NOW_UNBOUND,        /* no PCR 15 in its policy, or it holds now although keys opened
                                 * before it are not in PCR 15 */
        FIT_NOW_BOUND,          /* it holds now, and every key opened before it is in PCR 15 */
        FIT_AFTER,              /* it holds once the pending keys are measured */
        FIT_NEEDS_OPEN,         /* it may hold after keys unsealed but not yet opened */
};

static enum fit token_fit(struct tpm2_ctx *tpm, const struct tpm2_token *t, const struct pcr15_digests *const *d,
                          size_t n, bool unopened_before) {
        TPMI_ALG_HASH bank = t->pcr_bank ? t->pcr_bank : TPM2_ALG_SHA256;
        size_t hsize = tpm2_hash_size(bank), slot = 0;
        uint8_t values[24 * 64], after[64] = {};
        bool now;

        if (!(t->pcr_mask & (UINT32_C(1) << PCR15_PCR)))
                return FIT_NOW_UNBOUND;
        if (!hsize || tpm2_pcr_read(tpm, bank, t->pcr_mask, values, NULL) < 0)
                return FIT_NONE;
        for (unsigned i = 0; i < PCR15_PCR; i++)
                slot += !!(t->pcr_mask & (UINT32_C(1) << i));
        memcpy(after, values + slot * hsize, hsize);
        now = token_holds_with_pcr15(t, bank, values, after) == 1;
        if (!now && unopened_before)
                return FIT_NEEDS_OPEN;
        for (size_t i = 0; i < n; i++)
                if (pcr15_chain(bank, after, d[i]) < 0)
                        return now ? FIT_NOW_UNBOUND : FIT_NONE;
        if (n && token_holds_with_pcr15(t, bank, values, after) == 1)
                return FIT_AFTER;
        if (now)
                return n || unopened_before ? FIT_NOW_UNBOUND : FIT_NOW_BOUND;
        return FIT_FOREIGN;
}

int volume_keys_bind(const struct plan *p, struct boot *b, const char *name, struct crypt_device *cd,
                     struct tpm2_ctx *tpm, bool unopened_before, char **why) {
        const struct pcr15_digests *d[64];
        size_t n = pending(p, b, d, ELEMENTSOF(d));
        enum fit best = FIT_NONE;
        struct boot_volume *bv;
        int r;

        for (int id = 0; id < crypt_token_max(CRYPT_LUKS2); id++) {
                struct tpm2_token t;
                enum fit f;

                if (!luks_is_tpm2_token(cd, id) || luks_tpm2_token_get(cd, id, &t, NULL) < 0)
                        continue;
                f = token_fit(tpm, &t, d, n, unopened_before);
                tpm2_token_done(&t);
                if (f == FIT_NEEDS_OPEN)
                        return 1;
                if (f > best)
                        best = f;
        }
        if (!(bv = boot_volume_get(b, name)))
                return -ENOMEM;
        /* Sealed behind keys this boot did not open: the volume opened
         * before it is not the one it was enrolled with (planted), or
         * another of its literal PCRs moved. Its key is not asked for. */
        if (best == FIT_FOREIGN)
                return why_set(why, EPERM, "bound behind volume keys that were not opened before it: PCR %d holds "
                               "neither the value its token was sealed to nor the one the %zu key(s) opened before it "
                               "give (a planted volume opened before it, or another literal PCR of its token moved)",
                               PCR15_PCR, n);
        if (best == FIT_NONE)
                return 0;
        if (best == FIT_AFTER) {
                /* Exactly what its token was sealed behind: the keys opened
                 * before it, in plan order. */
                if ((r = pcr15_measure_boot(p, b)) < 0)
                        return why_set(why, r, "cannot measure the volume keys before it into PCR %d", PCR15_PCR);
                log_info("volume %s: bound behind the %zu volume key(s) opened before it", name, n);
                best = FIT_NOW_BOUND;
        }
        bv->bound = best == FIT_NOW_BOUND ? BOUND_YES : BOUND_NO;
        if (bv->bound == BOUND_YES || p->bind_volumes != BIND_REQUIRE)
                return 0;
        return why_set(why, EPERM, "not bound to the volumes opened before it: no token of it holds PCR %d at the "
                       "value their keys give (tpm.bind_volumes: require)", PCR15_PCR);
}

int volume_keys_verdict(const struct plan *p, struct boot *b) {
        char names[512] = "";
        size_t n = 0;

        for (size_t i = 0; i < b->n_volumes; i++)
                if (b->volumes[i].bound == BOUND_NO) {
                        int w = snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                                         n ? ", " : "", b->volumes[i].name);
                        n++;
                        if (w < 0)
                                break;
                }
        if (!n)
                return 0;
        return boot_warn(b, "volumes not bound to one another: %s opened without PCR %d holding the keys of the "
                         "volumes opened before; a volume planted beside them would open too (tpm.bind_volumes: %s; "
                         "enroll them with usi-init enroll)", names, PCR15_PCR, bind_volumes_to_string(p->bind_volumes));
}
