/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "log.h"
#include "token-pcrs.h"
#include "pcrsig.h"
#include "tcti-guard.h"
#include "encoding.h"
#include "policy.h"
#include "tpm2-trust.h"
#include "tpm2.h"

#define SRK_HANDLE UINT32_C(0x81000001)
#define MAX_TICKETS 8
#define UNSEAL_TRIES 3

/* A verified signature: reused for every volume signed by the same key for
 * the same approved policy, so a boot verifies each signature once. */
struct ticket {
        TPM2B_NAME key_name;
        uint8_t approved[32];
        TPMT_TK_VERIFIED tk;
};

struct parent {
        ESYS_TR handle;
        bool transient;      /* created by us: flush at close */
        bool tried;          /* lookup done (handle may still be NONE) */
};

struct tpm2_ctx {
        TSS2_TCTI_CONTEXT *tcti;
        TSS2_TCTI_CONTEXT *guard;      /* in front of tcti: counts, deadline, transport failures */
        unsigned timeout_ms;           /* each command's deadline */
        ESYS_CONTEXT *esys;
        char *tcti_name;
        struct parent ecc, rsa, srk;   /* srk: from a token's tpm2_srk, verified */
        TPM2B_NAME srk_name;           /* the verified srk's name */
        bool startup_tried;            /* Startup sent on TPM_RC_INITIALIZE */
        /* The one session of the run: a policy session salted with the
         * first parent, which also encrypts the Unseal responses. Every
         * parent passed the storage-key check of tpm2-trust.h, so the salt
         * never leaves the TPM whichever token brought its parent. */
        ESYS_TR session;
        bool session_fresh;            /* no PolicyRestart needed */
        struct ticket tickets[MAX_TICKETS];
        size_t n_tickets;
        json_object *signature;        /* loaded once */
        char *signature_path;          /* our copy: the caller's list may go before the context */
        struct {                       /* PCR values read for the policies */
                TPMI_ALG_HASH bank;    /* 0: empty */
                uint32_t mask;
                uint8_t values[24 * 64];
        } pcrs;
        TPML_PCR_SELECTION banks;      /* active banks, once read */
        bool banks_read;
        struct tpm2_stats stats;
};

/* ---- return codes as sentences ---------------------------------------- */

static TSS2_RC rc_base(TSS2_RC rc) {
        if (rc & TSS2_RC_LAYER_MASK)
                return rc;
        if (rc & TPM2_RC_FMT1)
                return rc & (TPM2_RC_FMT1 | 0x3f);
        return rc & 0xfff;
}

static const struct {
        TSS2_RC rc;
        const char *sentence;
} rc_sentences[] = {
        { TPM2_RC_LOCKOUT,     "TPM is in dictionary-attack lockout (wait for the recovery time or clear it with the lockout authorization)" },
        { TPM2_RC_AUTH_FAIL,   "wrong PIN (authorization failed; each failure counts toward dictionary-attack lockout)" },
        { TPM2_RC_BAD_AUTH,    "wrong PIN (authorization failed)" },
        { TPM2_RC_POLICY_FAIL, "TPM policy check failed" },
        { TPM2_RC_PCR_CHANGED, "PCR values changed during the unseal" },
        { TPM2_RC_INTEGRITY,   "sealed object does not belong to this TPM or parent key (integrity check failed)" },
        { TPM2_RC_SIGNATURE,   "PCR policy signature does not verify with the token's public key" },
        { TPM2_RC_OBJECT_MEMORY, "TPM is out of object memory (handles leaked by another program?)" },
        { TPM2_RC_SESSION_MEMORY, "TPM is out of session memory (sessions leaked by another program?)" },
        { TPM2_RC_MEMORY,      "TPM is out of memory (TPM_RC_MEMORY: it needs space for its own work; too many objects or sessions loaded?)" },
        { TPM2_RC_INITIALIZE,  "TPM is not started (TPM_RC_INITIALIZE: it was reset and nobody sent TPM2_Startup since)" },
        { TPM2_RC_FAILURE,     "TPM is in failure mode (TPM_RC_FAILURE: only a reset of the machine clears it)" },
};

const char *tpm2_rc_sentence(TSS2_RC rc) {
        TSS2_RC b = rc_base(rc);
        for (size_t i = 0; i < ELEMENTSOF(rc_sentences); i++)
                if (rc_sentences[i].rc == b)
                        return rc_sentences[i].sentence;
        return Tss2_RC_Decode(rc);
}

#define RC_TEXT_MAX 512

/* The sentence for rc as this context's TPM gave it. ESYS sends a command
 * again by itself when the TPM answers TPM_RC_RETRY, TPM_RC_YIELDED or
 * TPM_RC_TESTING, a few times and without a pause; when it gives up, the
 * TPM, the command and the count say more than the code alone. */
static const char *rc_text(struct tpm2_ctx *c, TSS2_RC rc, char buf[RC_TEXT_MAX]) {
        TSS2_RC b = rc_base(rc);
        uint32_t cc, last;
        unsigned n;
        char name[24];

        if (b != TPM2_RC_RETRY && b != TPM2_RC_YIELDED && b != TPM2_RC_TESTING)
                return tpm2_rc_sentence(rc);
        tcti_guard_last(c->guard, &cc, &last, &n);
        snprintf(buf, RC_TEXT_MAX, "the TPM '%s' answered %s with TPM_RC_%s %u time%s in a row (%s): gave up",
                 c->tcti_name, tcti_guard_command_name(cc, name),
                 b == TPM2_RC_RETRY ? "RETRY" : b == TPM2_RC_YIELDED ? "YIELDED" : "TESTING", n, n == 1 ? "" : "s",
                 tpm2_rc_sentence(rc));
        return buf;
}

static int tpm_fail(struct tpm2_ctx *c, char **why, TSS2_RC rc, const char *what) {
        return why_set(why, EIO, "%s: %s", what, rc_text(c, rc, (char[RC_TEXT_MAX]) {}));
}

/* A failure of the way to the TPM, rather than the TPM's answer, leaves
 * ESYS unusable ("called in the wrong order" for every later command): the
 * first such failure is what a person needs, whatever step noticed it. */
static int transport_result(struct tpm2_ctx *c, int r, char **why) {
        char detail[64], name[24];
        uint32_t cc = 0;

        if (r >= 0)
                return r;
        switch (tcti_guard_fault(c->guard, &cc, detail, sizeof(detail))) {
        case TCTI_GUARD_LOST:
                return why_set(why, ECONNRESET, "the connection to the TPM '%s' was lost during %s", c->tcti_name,
                               tcti_guard_command_name(cc, name));
        case TCTI_GUARD_TIMEOUT:
                if (c->timeout_ms % 1000)
                        snprintf(detail, sizeof(detail), "%u.%03u", c->timeout_ms / 1000, c->timeout_ms % 1000);
                else
                        snprintf(detail, sizeof(detail), "%u", c->timeout_ms / 1000);
                return why_set(why, ETIMEDOUT, "the TPM '%s' did not answer %s within %s s "
                               "(tpm.timeout, --tpm2-timeout): gave up", c->tcti_name,
                               tcti_guard_command_name(cc, name), detail);
        case TCTI_GUARD_MALFORMED:
                return why_set(why, EPROTO, "the TPM '%s' sent a malformed response to %s (%s)", c->tcti_name,
                               tcti_guard_command_name(cc, name), detail);
        case TCTI_GUARD_OK:
                break;
        }
        return r;
}

/* ---- context ------------------------------------------------------------ */

static int open_one(struct tpm2_ctx *c, const char *tcti, char **why) {
        TSS2_RC rc;

        rc = Tss2_TctiLdr_Initialize(tcti, &c->tcti);
        if (rc != TSS2_RC_SUCCESS)
                return why_set(why, ENODEV, "no TPM: cannot open TCTI '%s' (%s)", tcti, Tss2_RC_Decode(rc));
        if (tcti_guard_new(c->tcti, &c->stats.commands, &c->guard) < 0) {
                Tss2_TctiLdr_Finalize(&c->tcti);
                return -ENOMEM;
        }
        tcti_guard_set_timeout(c->guard, c->timeout_ms);
        rc = Esys_Initialize(&c->esys, c->guard, NULL);
        if (rc != TSS2_RC_SUCCESS) {
                tcti_guard_free(c->guard);
                c->guard = NULL;
                Tss2_TctiLdr_Finalize(&c->tcti);
                return why_set(why, ENODEV, "no TPM: TCTI '%s' does not answer (%s)", tcti, Tss2_RC_Decode(rc));
        }
        /* No Startup here: the kernel's TPM driver has started a TPM behind
         * a device node, and so has swtpm with startup-clear. A TPM that was
         * not started answers the first command with TPM_RC_INITIALIZE, and
         * only then gets its Startup (started_on_demand()). */
        c->tcti_name = strdup(tcti);
        return c->tcti_name ? 0 : -ENOMEM;
}

int tpm2_open(const char *tcti, struct tpm2_ctx **ret, char **why) {
        static const char *const defaults[] = { TPM2_DEFAULT_TCTIS };
        struct tpm2_ctx *c;
        int r = -ENODEV;

        /* The TSS logs to stderr by itself; errors are reported as sentences
         * by us instead. TSS2_LOG set by the user still wins. */
        (void) setenv("TSS2_LOG", "all+NONE", 0);

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->ecc.handle = c->rsa.handle = c->srk.handle = ESYS_TR_NONE;
        c->session = ESYS_TR_NONE;
        c->timeout_ms = TPM2_TIMEOUT_DEFAULT_MS;
        if (tcti)
                r = open_one(c, tcti, why);
        else {
                char *first = NULL;
                for (size_t i = 0; i < ELEMENTSOF(defaults) && r < 0; i++) {
                        r = open_one(c, defaults[i], why);
                        if (r < 0 && i == 0 && why) {
                                first = *why;
                                *why = NULL;
                        }
                }
                if (r < 0 && first)
                        why_set(why, ENODEV, "%s; %s", first, why && *why ? *why : "");
                free(first);
        }
        if (r < 0) {
                free(c->tcti_name);
                free(c);
                return r;
        }
        *ret = c;
        return 0;
}

/* A TPM that nobody started (a simulator without startup-clear) refuses
 * every command but Startup with TPM_RC_INITIALIZE. Then Startup(CLEAR) is
 * sent, once per context, and true says: issue the command again. */
static bool started_on_demand(struct tpm2_ctx *c, TSS2_RC rc) {
        TSS2_RC s;

        if (c->startup_tried || rc_base(rc) != TPM2_RC_INITIALIZE)
                return false;
        c->startup_tried = true;
        s = Esys_Startup(c->esys, TPM2_SU_CLEAR);
        log_debug("tpm2: TPM behind '%s' was not started: Startup(CLEAR): %s", c->tcti_name,
                  s == TSS2_RC_SUCCESS ? "done" : Tss2_RC_Decode(s));
        return s == TSS2_RC_SUCCESS;
}

/* rc = call, sent once more after an on-demand Startup. Only the first
 * command of a context can meet TPM_RC_INITIALIZE. */
#define TPM_FIRST(c, rc, call)                                  \
        do {                                                    \
                (rc) = (call);                                  \
                if (started_on_demand((c), (rc)))               \
                        (rc) = (call);                          \
        } while (0)

static void flush(struct tpm2_ctx *c, ESYS_TR *h) {
        if (*h != ESYS_TR_NONE)
                (void) Esys_FlushContext(c->esys, *h);
        *h = ESYS_TR_NONE;
}

void tpm2_close(struct tpm2_ctx *c) {
        if (!c)
                return;
        flush(c, &c->session);
        if (c->ecc.transient)
                flush(c, &c->ecc.handle);
        if (c->rsa.transient)
                flush(c, &c->rsa.handle);
        /* Persistent handles are only closed in ESYS, never evicted. */
        if (c->srk.handle != ESYS_TR_NONE)
                (void) Esys_TR_Close(c->esys, &c->srk.handle);
        json_object_put(c->signature);
        free(c->signature_path);
        explicit_bzero(c->tickets, sizeof(c->tickets));
        Esys_Finalize(&c->esys);
        /* A TCTI still blocked in a receive that missed its deadline is
         * left to the process's exit: finalizing it would free what that
         * thread uses. */
        if (tcti_guard_inner_idle(c->guard))
                Tss2_TctiLdr_Finalize(&c->tcti);
        tcti_guard_free(c->guard);
        free(c->tcti_name);
        free(c);
}

void tpm2_set_timeout(struct tpm2_ctx *c, unsigned timeout_ms) {
        c->timeout_ms = timeout_ms;
        tcti_guard_set_timeout(c->guard, timeout_ms);
}

const struct tpm2_stats *tpm2_get_stats(const struct tpm2_ctx *c) {
        return &c->stats;
}

/* ---- parent key ---------------------------------------------------------- */

/* systemd's primary templates (spec section 2.3); with noDA this is also
 * the TCG SRK template that v254+ persists at 0x81000001. */
static TPM2B_PUBLIC primary_template(TPMI_ALG_PUBLIC alg) {
        TPM2B_PUBLIC t = {
                .publicArea = {
                        .type = alg,
                        .nameAlg = TPM2_ALG_SHA256,
                        .objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT | TPMA_OBJECT_FIXEDTPM |
                                TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH,
                },
        };
        TPMT_SYM_DEF_OBJECT aes = { .algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB };

        if (alg == TPM2_ALG_ECC)
                t.publicArea.parameters.eccDetail = (TPMS_ECC_PARMS) {
                        .symmetric = aes,
                        .scheme.scheme = TPM2_ALG_NULL,
                        .curveID = TPM2_ECC_NIST_P256,
                        .kdf.scheme = TPM2_ALG_NULL,
                };
        else
                t.publicArea.parameters.rsaDetail = (TPMS_RSA_PARMS) {
                        .symmetric = aes,
                        .scheme.scheme = TPM2_ALG_NULL,
                        .keyBits = 2048,
                };
        return t;
}

static bool same_sym(const TPMT_SYM_DEF_OBJECT *a, const TPMT_SYM_DEF_OBJECT *b) {
        return a->algorithm == b->algorithm && a->keyBits.sym == b->keyBits.sym && a->mode.sym == b->mode.sym;
}

/* Whether a key's public area is the template (unique part aside), noDA
 * reported apart: then it is the very key CreatePrimary would make. Field by
 * field, so padding and the unique part never take part. */
static bool matches_template(const TPMT_PUBLIC *have, TPMI_ALG_PUBLIC alg, bool *ret_noda) {
        TPMT_PUBLIC want = primary_template(alg).publicArea;

        *ret_noda = have->objectAttributes & TPMA_OBJECT_NODA;
        if (have->type != want.type || have->nameAlg != want.nameAlg || have->authPolicy.size != 0 ||
            (have->objectAttributes & ~TPMA_OBJECT_NODA) != want.objectAttributes)
                return false;
        if (alg == TPM2_ALG_ECC) {
                const TPMS_ECC_PARMS *h = &have->parameters.eccDetail, *w = &want.parameters.eccDetail;
                return same_sym(&h->symmetric, &w->symmetric) && h->scheme.scheme == w->scheme.scheme &&
                       h->curveID == w->curveID && h->kdf.scheme == w->kdf.scheme;
        } else {
                const TPMS_RSA_PARMS *h = &have->parameters.rsaDetail, *w = &want.parameters.rsaDetail;
                /* An exponent of 0 means 65537. */
                return same_sym(&h->symmetric, &w->symmetric) && h->scheme.scheme == w->scheme.scheme &&
                       h->keyBits == w->keyBits && (h->exponent == 0 || h->exponent == 65537);
        }
}

/* The persistent SRK, if it holds exactly the template the token needs.
 * One ReadPublic; far cheaper than CreatePrimary on a discrete TPM. */
static void find_persistent(struct tpm2_ctx *c, TPMI_ALG_PUBLIC alg, struct parent *p) {
        ESYS_TR h = ESYS_TR_NONE;
        TPM2B_PUBLIC *pub = NULL;
        bool noda;
        TSS2_RC rc;

        TPM_FIRST(c, rc, Esys_TR_FromTPMPublic(c->esys, SRK_HANDLE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &h));
        if (rc != TSS2_RC_SUCCESS)
                return;
        /* The template holds the storage-key attributes; the check says so
         * in one place for every parent. */
        if (Esys_ReadPublic(c->esys, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL, NULL) == TSS2_RC_SUCCESS &&
            matches_template(&pub->publicArea, alg, &noda) && !noda &&
            tpm2_trust_storage_key(&pub->publicArea, (char[128]) {}, 128) == 0) {
                p->handle = h;
                p->transient = false;
                c->stats.srk_used++;
                log_debug("tpm2: using the persistent key at 0x%x as parent", SRK_HANDLE);
        } else
                (void) Esys_TR_Close(c->esys, &h);
        Esys_Free(pub);
}

/* v254+: the token names the SRK as a serialized ESYS_TR, read from the
 * disk. ESYS would encrypt the session's salt to the public area inside
 * those bytes, so they are believed only once the TPM's ReadPublic of that
 * handle gives the same name, for a key only the TPM holds (tpm2-trust.h).
 * One ReadPublic per SRK and process; a token naming another key is
 * checked on its own and never inherits an earlier token's verdict. */
static int srk_parent(struct tpm2_ctx *c, const struct tpm2_token *t, ESYS_TR *ret, char **why) {
        ESYS_TR h = ESYS_TR_NONE;
        TPM2B_NAME *recorded = NULL, *name = NULL;
        TPM2B_PUBLIC *pub = NULL;
        TPM2_HANDLE handle = 0;
        TSS2_RC rc;
        int r;

        rc = Esys_TR_Deserialize(c->esys, t->srk, t->srk_size, &h);
        if (rc != TSS2_RC_SUCCESS)
                return why_set(why, EBADMSG, "field 'tpm2_srk': not a serialized TPM handle (%s)", Tss2_RC_Decode(rc));
        if (Esys_TR_GetTpmHandle(c->esys, h, &handle) != TSS2_RC_SUCCESS ||
            Esys_TR_GetName(c->esys, h, &recorded) != TSS2_RC_SUCCESS) {
                r = why_set(why, EBADMSG, "field 'tpm2_srk': no handle or name in the serialized TPM handle");
                goto done;
        }
        if (c->srk.handle != ESYS_TR_NONE && recorded->size == c->srk_name.size &&
            memcmp(recorded->name, c->srk_name.name, recorded->size) == 0) {
                *ret = c->srk.handle;
                r = 0;
                goto done;
        }
        /* The handle range first: a transient or NV handle is not even read. */
        r = tpm2_trust_srk_handle(handle, why);
        if (r < 0)
                goto done;
        TPM_FIRST(c, rc, Esys_ReadPublic(c->esys, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, &name, NULL));
        if (rc != TSS2_RC_SUCCESS) {
                r = why_set(why, ENOENT, "tpm2_srk names 0x%08x, which the TPM does not hold (%s): refused", handle,
                            rc_text(c, rc, (char[RC_TEXT_MAX]) {}));
                goto done;
        }
        r = tpm2_trust_srk(handle, recorded, pub, name, why);
        if (r < 0)
                goto done;
        if (c->srk.handle != ESYS_TR_NONE)
                (void) Esys_TR_Close(c->esys, &c->srk.handle);
        c->srk.handle = h;
        c->srk_name = *recorded;
        h = ESYS_TR_NONE;
        c->stats.srk_used++;
        log_debug("tpm2: tpm2_srk 0x%08x is the TPM's storage key: used as parent", handle);
        *ret = c->srk.handle;
done:
        if (h != ESYS_TR_NONE)
                (void) Esys_TR_Close(c->esys, &h);
        Esys_Free(recorded);
        Esys_Free(name);
        Esys_Free(pub);
        return r;
}

static int get_parent(struct tpm2_ctx *c, const struct tpm2_token *t, ESYS_TR *ret, char **why) {
        struct parent *p;
        TSS2_RC rc;

        if (t->srk)
                return srk_parent(c, t, ret, why);

        p = t->primary_alg == TPM2_ALG_RSA ? &c->rsa : &c->ecc;
        if (!p->tried) {
                p->tried = true;
                find_persistent(c, t->primary_alg, p);
        }
        if (p->handle == ESYS_TR_NONE) {
                TPM2B_SENSITIVE_CREATE sens = {};
                TPM2B_PUBLIC tmpl = primary_template(t->primary_alg);
                TPML_PCR_SELECTION none = {};
                TPM2B_DATA outside = {};

                TPM_FIRST(c, rc, Esys_CreatePrimary(c->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                                    ESYS_TR_NONE, &sens, &tmpl, &outside, &none, &p->handle,
                                                    NULL, NULL, NULL, NULL));
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(c, why, rc, t->primary_alg == TPM2_ALG_RSA ?
                                        "cannot create the RSA primary key" : "cannot create the ECC primary key");
                p->transient = true;
                c->stats.primaries_created++;
        }
        *ret = p->handle;
        return 0;
}

/* ---- sessions ------------------------------------------------------------ */

static int start_session(struct tpm2_ctx *c, ESYS_TR salt_key, TPM2_SE type, ESYS_TR *ret, char **why) {
        TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB };
        TSS2_RC rc;

        rc = Esys_StartAuthSession(c->esys, salt_key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   NULL, type, &sym, TPM2_ALG_SHA256, ret);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(c, why, rc, "cannot start a TPM session");
        if (salt_key != ESYS_TR_NONE)
                c->stats.salted_sessions++;
        return 0;
}

/* The one session of the run, for every volume: a policy session salted
 * with the first parent (one ECDH or RSA decryption in the TPM per boot),
 * which get_parent() only returns once the TPM showed it is its own.
 * Its salt keys the encryption of each Unseal response, so the secret never
 * crosses the bus in clear, and with a PIN the PolicyAuthValue HMAC, so a
 * short PIN cannot be guessed offline from a recording of the bus. A policy
 * session used with continueSession comes back reset (TPM 2.0 part 1,
 * policy session use), so the next volume needs no PolicyRestart. */
static int policy_session(struct tpm2_ctx *c, ESYS_TR parent, char **why) {
        TSS2_RC rc;
        int r;

        if (c->session != ESYS_TR_NONE) {
                if (c->session_fresh)
                        return 0;
                rc = Esys_PolicyRestart(c->esys, c->session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE);
                if (rc == TSS2_RC_SUCCESS) {
                        c->session_fresh = true;
                        return 0;
                }
        }
        flush(c, &c->session);
        r = start_session(c, parent, TPM2_SE_POLICY, &c->session, why);
        if (r < 0)
                return r;
        c->session_fresh = true;
        rc = Esys_TRSess_SetAttributes(c->esys, c->session, TPMA_SESSION_ENCRYPT | TPMA_SESSION_CONTINUESESSION, 0xff);
        return rc == TSS2_RC_SUCCESS ? 0 : tpm_fail(c, why, rc, "cannot set session attributes");
}

/* ---- sealing ---------------------------------------------------------------- */

static int seal(struct tpm2_ctx *c, const uint8_t policy[32], const TPM2B_AUTH *auth, const struct secret *data,
                TPM2B_PRIVATE *ret_private, TPM2B_PUBLIC *ret_public, char **why) {
        /* A token without tpm2_srk: get_parent() picks what an unseal picks. */
        const struct tpm2_token v252 = { .primary_alg = TPM2_ALG_ECC };
        TPM2B_PUBLIC tmpl = {
                .publicArea = {
                        .type = TPM2_ALG_KEYEDHASH,
                        .nameAlg = TPM2_ALG_SHA256,
                        /* Without a PIN there is nothing to guess: noDA, so no
                         * failed policy ever counts toward the lockout. With
                         * one, every wrong PIN must count (tpm2_trust_pin_object). */
                        .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                (auth ? 0 : TPMA_OBJECT_NODA),
                        .parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL,
                        .authPolicy.size = 32,
                },
        };
        TPM2B_SENSITIVE_CREATE sens = {};
        TPM2B_PRIVATE *priv = NULL;
        TPM2B_PUBLIC *pub = NULL;
        TPML_PCR_SELECTION none = {};
        TPM2B_DATA outside = {};
        ESYS_TR parent, session = ESYS_TR_NONE;
        TSS2_RC rc;
        int r;

        if (data->size > sizeof(sens.sensitive.data.buffer))
                return why_set(why, EINVAL, "%zu bytes are too many to seal", data->size);
        memcpy(tmpl.publicArea.authPolicy.buffer, policy, 32);
        r = get_parent(c, &v252, &parent, why);
        if (r < 0)
                return r;
        /* Salted with the parent: the TPM decrypts the sensitive part, so
         * neither the secret nor the PIN's authValue crosses the bus in clear. */
        r = start_session(c, parent, TPM2_SE_HMAC, &session, why);
        if (r < 0)
                return r;
        rc = Esys_TRSess_SetAttributes(c->esys, session, TPMA_SESSION_DECRYPT, 0xff);
        if (rc != TSS2_RC_SUCCESS) {
                flush(c, &session);
                return tpm_fail(c, why, rc, "cannot set session attributes");
        }
        if (auth)
                sens.sensitive.userAuth = *auth;
        sens.sensitive.data.size = (UINT16) data->size;
        memcpy(sens.sensitive.data.buffer, data->data, data->size);
        rc = Esys_Create(c->esys, parent, session, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, &outside, &none,
                         &priv, &pub, NULL, NULL, NULL);
        explicit_bzero(&sens, sizeof(sens));
        if (rc != TSS2_RC_SUCCESS) {
                flush(c, &session);
                return tpm_fail(c, why, rc, "cannot seal the key in the TPM");
        }
        /* Without continueSession the TPM ended the session with the
         * command; ESYS keeps its record until closed. */
        (void) Esys_TR_Close(c->esys, &session);
        *ret_private = *priv;
        *ret_public = *pub;
        Esys_Free(priv);
        Esys_Free(pub);
        return 0;
}

int tpm2_seal(struct tpm2_ctx *c, const uint8_t policy[32], const TPM2B_AUTH *auth, const struct secret *data,
              TPM2B_PRIVATE *ret_private, TPM2B_PUBLIC *ret_public, char **why) {
        return transport_result(c, seal(c, policy, auth, data, ret_private, ret_public, why), why);
}

/* ---- PCRs ------------------------------------------------------------------ */

static int read_banks(struct tpm2_ctx *c, char **why) {
        TPMS_CAPABILITY_DATA *cap = NULL;
        TPMI_YES_NO more;
        TSS2_RC rc;

        if (c->banks_read)
                return 0;
        TPM_FIRST(c, rc, Esys_GetCapability(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS, 0, 1,
                                            &more, &cap));
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(c, why, rc, "cannot read the PCR banks");
        c->banks = cap->data.assignedPCR;
        c->banks_read = true;
        Esys_Free(cap);
        return 0;
}

static int properties(struct tpm2_ctx *c, TPM2_PT first, size_t n, uint32_t *values, char **why) {
        TPMS_CAPABILITY_DATA *cap = NULL;
        TPMI_YES_NO more;
        TSS2_RC rc;

        memset(values, 0, n * sizeof(*values));
        TPM_FIRST(c, rc, Esys_GetCapability(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES,
                                            first, (UINT32) n, &more, &cap));
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(c, why, rc, "cannot read the TPM's properties");
        for (size_t i = 0; i < cap->data.tpmProperties.count; i++) {
                const TPMS_TAGGED_PROPERTY *p = &cap->data.tpmProperties.tpmProperty[i];
                if (p->property >= first && p->property - first < n)
                        values[p->property - first] = p->value;
        }
        Esys_Free(cap);
        return 0;
}

int tpm2_properties(struct tpm2_ctx *c, TPM2_PT first, size_t n, uint32_t *values, char **why) {
        return transport_result(c, properties(c, first, n, values, why), why);
}

static int pcr_banks(struct tpm2_ctx *c, unsigned pcr, TPMI_ALG_HASH banks[8], size_t *n, char **why) {
        int r = read_banks(c, why);
        if (r < 0)
                return r;
        *n = 0;
        for (size_t i = 0; i < c->banks.count && *n < 8; i++) {
                const TPMS_PCR_SELECTION *s = &c->banks.pcrSelections[i];
                if (pcr / 8 < s->sizeofSelect && (s->pcrSelect[pcr / 8] & (1u << (pcr % 8))) &&
                    tpm2_hash_size(s->hash))
                        banks[(*n)++] = s->hash;
        }
        return 0;
}

int tpm2_pcr_banks(struct tpm2_ctx *c, unsigned pcr, TPMI_ALG_HASH banks[8], size_t *n, char **why) {
        return transport_result(c, pcr_banks(c, pcr, banks, n, why), why);
}

/* A token without tpm2-pcr-bank: sha256 when active, else sha1 (as systemd). */
static int best_bank(struct tpm2_ctx *c, uint32_t mask, TPMI_ALG_HASH *ret, char **why) {
        TPMI_ALG_HASH banks[8];
        size_t n;
        unsigned pcr = mask ? (unsigned) __builtin_ctz(mask) : 11;
        int r = tpm2_pcr_banks(c, pcr, banks, &n, why);

        if (r < 0)
                return r;
        *ret = 0;
        for (size_t i = 0; i < n; i++)
                if (banks[i] == TPM2_ALG_SHA256 || (!*ret && banks[i] == TPM2_ALG_SHA1))
                        *ret = banks[i];
        return *ret ? 0 : why_set(why, EOPNOTSUPP, "TPM has neither a sha256 nor a sha1 PCR bank");
}

static int pcr_read(struct tpm2_ctx *c, TPMI_ALG_HASH bank, uint32_t mask, uint8_t *values, char **why) {
        size_t hsize = tpm2_hash_size(bank), got = 0;
        uint32_t left = mask;

        while (left) {
                TPML_PCR_SELECTION sel, *out_sel = NULL;
                TPML_DIGEST *digests = NULL;
                uint32_t done;
                TSS2_RC rc;

                policy_pcr_selection(bank, left, &sel);
                TPM_FIRST(c, rc, Esys_PCR_Read(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, NULL,
                                               &out_sel, &digests));
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(c, why, rc, "cannot read PCRs");
                done = out_sel->count ? (uint32_t) out_sel->pcrSelections[0].pcrSelect[0] |
                        (uint32_t) out_sel->pcrSelections[0].pcrSelect[1] << 8 |
                        (uint32_t) out_sel->pcrSelections[0].pcrSelect[2] << 16 : 0;
                /* The TPM answers in ascending order, at most 8 per call. */
                for (size_t i = 0; i < digests->count; i++) {
                        if (digests->digests[i].size != hsize) {
                                Esys_Free(out_sel);
                                Esys_Free(digests);
                                return why_set(why, EIO, "TPM returned a PCR value of the wrong size");
                        }
                        memcpy(values + got * hsize, digests->digests[i].buffer, hsize);
                        got++;
                }
                Esys_Free(out_sel);
                Esys_Free(digests);
                if (!(done & left)) {
                        char m[64];
                        return why_set(why, EIO, "PCR %s is not allocated in the %s bank",
                                       pcr_mask_to_string(left, m, sizeof(m)), tpm2_hash_to_string(bank));
                }
                left &= ~done;
        }
        return 0;
}

int tpm2_pcr_read(struct tpm2_ctx *c, TPMI_ALG_HASH bank, uint32_t mask, uint8_t *values, char **why) {
        return transport_result(c, pcr_read(c, bank, mask, values, why), why);
}

/* The values of `mask` from one PCR_Read shared by every volume of the
 * boot; dropped when a policy finds that the PCRs moved. */
static int pcr_values(struct tpm2_ctx *c, TPMI_ALG_HASH bank, uint32_t mask, uint8_t *values, char **why) {
        size_t hsize = tpm2_hash_size(bank), k = 0;

        if (c->pcrs.bank != bank || (c->pcrs.mask & mask) != mask) {
                uint32_t want = mask | (c->pcrs.bank == bank ? c->pcrs.mask : 0);
                int r = tpm2_pcr_read(c, bank, want, c->pcrs.values, why);
                if (r < 0) {
                        c->pcrs.bank = 0;
                        return r;
                }
                c->pcrs.bank = bank;
                c->pcrs.mask = want;
        }
        for (unsigned i = 0; i < 24; i++)
                if (mask & (UINT32_C(1) << i)) {
                        unsigned idx = (unsigned) __builtin_popcount(c->pcrs.mask & ((UINT32_C(1) << i) - 1));
                        memcpy(values + k++ * hsize, c->pcrs.values + idx * hsize, hsize);
                }
        return 0;
}

static void pcr_values_forget(struct tpm2_ctx *c) {
        c->pcrs.bank = 0;
        c->pcrs.mask = 0;
}

static int pcr_extend_banks(struct tpm2_ctx *c, unsigned pcr, tpm2_bank_digest_fn fn, void *userdata,
                            TPML_DIGEST_VALUES *ret, char **why) {
        TPMI_ALG_HASH banks[8];
        TPML_DIGEST_VALUES d = {};
        size_t n;
        TSS2_RC rc;
        int r;

        r = tpm2_pcr_banks(c, pcr, banks, &n, why);
        if (r < 0)
                return r;
        if (n == 0)
                return why_set(why, ENXIO, "PCR %u is in no active bank", pcr);
        for (size_t i = 0; i < n; i++) {
                d.digests[d.count].hashAlg = banks[i];
                r = fn(banks[i], (uint8_t *) &d.digests[d.count].digest, userdata, why);
                if (r < 0)
                        return r;
                d.count++;
        }
        pcr_values_forget(c);
        TPM_FIRST(c, rc, Esys_PCR_Extend(c->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &d));
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(c, why, rc, "cannot extend the PCR");
        if (ret)
                *ret = d;
        return 0;
}

int tpm2_pcr_extend_banks(struct tpm2_ctx *c, unsigned pcr, tpm2_bank_digest_fn fn, void *userdata,
                          TPML_DIGEST_VALUES *ret, char **why) {
        return transport_result(c, pcr_extend_banks(c, pcr, fn, userdata, ret, why), why);
}

struct data {
        const void *data;
        size_t size;
};

static int hash_data(TPMI_ALG_HASH bank, uint8_t *out, void *userdata, char **why) {
        const struct data *x = userdata;
        const EVP_MD *md = EVP_get_digestbyname(tpm2_hash_to_string(bank));

        if (!md || !EVP_Digest(x->data, x->size, out, NULL, md, NULL))
                return why_set(why, EIO, "cannot hash with %s", tpm2_hash_to_string(bank));
        return 0;
}

int tpm2_pcr_extend_data(struct tpm2_ctx *c, unsigned pcr, const void *data, size_t size, char **why) {
        struct data x = { data, size };
        return tpm2_pcr_extend_banks(c, pcr, hash_data, &x, NULL, why);
}

/* ---- PIN ------------------------------------------------------------------ */

int tpm2_pin_auth(const struct secret *pin, const uint8_t *salt, size_t salt_size, TPM2B_AUTH *ret) {
        _cleanup_secret_ struct secret *dk = NULL, *b64 = NULL;
        int r;

        *ret = (TPM2B_AUTH) { .size = 32 };
        if (salt_size == 0)
                return EVP_Digest(pin->data, pin->size, ret->buffer, NULL, EVP_sha256(), NULL) ? 0 : -EIO;
        r = secret_new(32, &dk);
        if (r < 0)
                return r;
        r = secret_new(45, &b64);
        if (r < 0)
                return r;
        if (!PKCS5_PBKDF2_HMAC((const char *) pin->data, (int) pin->size, salt, (int) salt_size, 10000,
                               EVP_sha256(), 32, dk->data))
                return -EIO;
        b64->size = base64_encode(dk->data, 32, (char *) b64->data);
        return EVP_Digest(b64->data, b64->size, ret->buffer, NULL, EVP_sha256(), NULL) ? 0 : -EIO;
}

/* ---- the signed part -------------------------------------------------------- */

static int load_signature(struct tpm2_ctx *c, const struct tpm2_unseal_args *a, char **why) {
        const char *path;
        int r;

        if (c->signature)
                return 0;
        r = pcrsig_load(a ? a->signatures : NULL, !(a && a->signatures_complete), &c->signature, &path, why);
        if (r < 0)
                return r;
        if (!(c->signature_path = strdup(path))) {
                json_object_put(TAKE_PTR(c->signature));
                return -ENOMEM;
        }
        return 0;
}

/* Explain why the current PCR values are not covered by a signature: the
 * current values and their policy against the policies the file signs. */
static int unsigned_pcrs(struct tpm2_ctx *c, const struct tpm2_token *t, TPMI_ALG_HASH bank,
                         const uint8_t *values, const uint8_t approved[32], char **why) {
        size_t hsize = tpm2_hash_size(bank);
        char masks[64], cur[1024] = "", pol[65];
        size_t len = 0, k = 0;

        for (unsigned i = 0; i < 24; i++)
                if (t->pubkey_pcr_mask & (UINT32_C(1) << i)) {
                        char hex[2 * 64 + 1];
                        int w = snprintf(cur + len, sizeof(cur) - len, "%sPCR %u=%s", len ? ", " : "", i,
                                         hex_string(values + k++ * hsize, hsize, hex));
                        if (w < 0 || (size_t) w >= sizeof(cur) - len)
                                break;
                        len += (size_t) w;
                }
        /* *why holds the policies the file signs (pcrsig_find). */
        return why_set(why, EPERM, "PCR %s (%s) does not match the signed policy in %s: expected policy %s (signed), "
                       "actual policy %s from %s",
                       pcr_mask_to_string(t->pubkey_pcr_mask, masks, sizeof(masks)), tpm2_hash_to_string(bank),
                       c->signature_path, why ? strempty(*why) : "", hex_string(approved, 32, pol), cur);
}

static struct ticket *find_ticket(struct tpm2_ctx *c, const TPM2B_NAME *name, const uint8_t approved[32]) {
        for (size_t i = 0; i < c->n_tickets; i++)
                if (c->tickets[i].key_name.size == name->size &&
                    memcmp(c->tickets[i].key_name.name, name->name, name->size) == 0 &&
                    memcmp(c->tickets[i].approved, approved, 32) == 0)
                        return &c->tickets[i];
        return NULL;
}

static int verify_signature(struct tpm2_ctx *c, const struct pcrsig_key *key, const uint8_t approved[32],
                            const TPMT_SIGNATURE *sig, struct ticket **ret, char **why) {
        TPM2B_DIGEST digest = { .size = 32 };
        TPMT_TK_VERIFIED *tk = NULL;
        ESYS_TR h = ESYS_TR_NONE;
        struct ticket *t;
        TSS2_RC rc;

        if (!EVP_Digest(approved, 32, digest.buffer, NULL, EVP_sha256(), NULL))
                return why_set(why, EIO, "cannot hash the approved policy");
        rc = Esys_LoadExternal(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL, &key->public,
                               ESYS_TR_RH_OWNER, &h);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(c, why, rc, "cannot load the PCR signing key into the TPM");
        rc = Esys_VerifySignature(c->esys, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &digest, sig, &tk);
        flush(c, &h);
        if (rc != TSS2_RC_SUCCESS)
                return why_set(why, EBADMSG, "PCR policy signature in %s does not verify with the token's key: %s",
                               c->signature_path, rc_text(c, rc, (char[RC_TEXT_MAX]) {}));
        c->stats.signatures_verified++;
        /* Keep the ticket for the next volume; the oldest goes when full. */
        if (c->n_tickets == MAX_TICKETS)
                memmove(c->tickets, c->tickets + 1, sizeof(c->tickets[0]) * --c->n_tickets);
        t = &c->tickets[c->n_tickets++];
        t->key_name = key->name;
        memcpy(t->approved, approved, 32);
        t->tk = *tk;
        Esys_Free(tk);
        *ret = t;
        return 0;
}

/* The one policy the signature file signs with `key` for (bank, mask), if
 * it signs exactly one: pcrsig_find() with a policy no entry holds returns
 * the signed policies as a list (-ENXIO). */
static bool single_signed_policy(struct tpm2_ctx *c, TPMI_ALG_HASH bank, uint32_t mask,
                                 const struct pcrsig_key *key, uint8_t ret[32]) {
        static const uint8_t nothing[32] = {};
        _cleanup_free_ char *list = NULL;
        TPMT_SIGNATURE sig;
        size_t n;

        if (pcrsig_find(c->signature, bank, mask, key, nothing, &sig, &list) != -ENXIO || !list ||
            strlen(list) != 64 || hex_parse(list, ret, 32, &n) < 0 || n != 32)
                return false;
        return memcmp(ret, nothing, 32) != 0;
}

static bool pcr_values_cached(const struct tpm2_ctx *c, TPMI_ALG_HASH bank, uint32_t mask) {
        return c->pcrs.bank == bank && (c->pcrs.mask & mask) == mask;
}

/* The signed part: PolicyPCR + PolicyAuthorize with the ticket of the
 * signed policy that the current PCR values satisfy. Those values are read
 * only to choose among several signed policies, or to explain a refusal:
 * when the file signs one policy for this key and selection, it is the only
 * one that can unlock, and the TPM itself checks it against the PCRs
 * (PolicyAuthorize refuses an approved policy that is not the session's). */
static int signed_ticket(struct tpm2_ctx *c, const struct tpm2_token *t, TPMI_ALG_HASH bank,
                         const struct tpm2_unseal_args *a, struct pcrsig_key *key, uint8_t approved[32],
                         bool count_reuse, struct ticket **ret, char **why) {
        uint8_t values[24 * 64];
        struct ticket *tk;
        bool unread = false;
        int r;

        memset(approved, 0, 32);
        r = pcrsig_key_from_pem(t->pubkey_pem, t->pubkey_pem_size, key, why);
        if (r < 0) {
                why_prefix(why, "field 'tpm2_pubkey'");
                return r;
        }
        if (!pcr_values_cached(c, bank, t->pubkey_pcr_mask)) {
                r = load_signature(c, a, why);
                if (r < 0)
                        return r;
                unread = single_signed_policy(c, bank, t->pubkey_pcr_mask, key, approved);
        }
        if (!unread) {
                r = pcr_values(c, bank, t->pubkey_pcr_mask, values, why);
                if (r < 0)
                        return r;
                r = policy_pcr(approved, bank, t->pubkey_pcr_mask, values, tpm2_hash_size(bank));
                if (r < 0)
                        return why_set(why, r, "cannot compute the PCR policy");
        }

        tk = find_ticket(c, &key->name, approved);
        if (tk)
                c->stats.tickets_reused += count_reuse;
        else {
                TPMT_SIGNATURE sig;
                r = load_signature(c, a, why);
                if (r < 0)
                        return r;
                r = pcrsig_find(c->signature, bank, t->pubkey_pcr_mask, key, approved, &sig, why);
                if (r == -ENXIO)
                        return unsigned_pcrs(c, t, bank, values, approved, why);
                if (r < 0) {
                        why_prefix(why, "signature file %s", c->signature_path);
                        return r;
                }
                log_debug("tpm2: PCR policy %s signed in %s", hex_string(approved, 32, (char[65]) {}), c->signature_path);
                r = verify_signature(c, key, approved, &sig, &tk, why);
                if (r < 0)
                        return r;
        }
        *ret = tk;
        return 0;
}

static int signed_part(struct tpm2_ctx *c, const struct tpm2_token *t, TPMI_ALG_HASH bank,
                       const struct tpm2_unseal_args *a, TPM2B_NAME *ret_name, char **why) {
        struct pcrsig_key key;
        uint8_t values[24 * 64], approved[32];
        TPML_PCR_SELECTION sel;
        TPM2B_DIGEST none = {}, appr = { .size = 32 };
        TPM2B_NONCE ref = {};
        struct ticket *tk;
        TSS2_RC rc;
        int r;

        /* unseal_token() verified it or found it kept; counted there. */
        r = signed_ticket(c, t, bank, a, &key, approved, false, &tk, why);
        if (r < 0)
                return r;
        *ret_name = key.name;

        policy_pcr_selection(bank, t->pubkey_pcr_mask, &sel);
        rc = Esys_PolicyPCR(c->esys, c->session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &none, &sel);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(c, why, rc, "TPM refused PolicyPCR");
        memcpy(appr.buffer, approved, 32);
        rc = Esys_PolicyAuthorize(c->esys, c->session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                  &appr, &ref, &key.name, &tk->tk);
        if (rc == TSS2_RC_SUCCESS)
                return 0;
        if (rc_base(rc) != rc_base(TPM2_RC_VALUE | TPM2_RC_P | TPM2_RC_1))
                return tpm_fail(c, why, rc, "TPM refused PolicyAuthorize");
        /* The PCR values are not those of the approved policy: the only
         * signed one does not hold, or the PCRs moved after our read. Read
         * them now; the caller tries again, and the next round finds the
         * policy they satisfy or explains which PCR does not match. */
        pcr_values_forget(c);
        r = pcr_values(c, bank, t->pubkey_pcr_mask, values, why);
        return r < 0 ? r : -EAGAIN;
}

/* ---- unseal -------------------------------------------------------------- */

static int policy_mismatch(struct tpm2_ctx *c, const struct tpm2_token *t, TPMI_ALG_HASH bank,
                           const uint8_t tpm_digest[32], char **why) {
        char want[65], have[65], lit[64], sig[64], vals[1024] = "";
        uint32_t mask = t->pcr_mask | t->pubkey_pcr_mask;
        uint8_t values[24 * 64];
        size_t hsize = tpm2_hash_size(bank), len = 0, k = 0;
        char moved[256] = "";
        int changed;

        /* Fresh values: this is what the TPM just used. */
        if (mask && tpm2_pcr_read(c, bank, mask, values, NULL) >= 0) {
                /* Say first which literal PCR moved since enrollment. */
                changed = token_literal_pcr_moved(t, bank, mask, values);
                if (changed >= 0)
                        snprintf(moved, sizeof(moved), "PCR %d changed since enrollment (the token's policy holds "
                                 "for PCR %d = 0%s): ", changed, changed, changed == PCR15_PCR ?
                                 "; the volume keys of this boot were measured into it after the last unseal" : "");
                for (unsigned i = 0; i < 24; i++)
                        if (mask & (UINT32_C(1) << i)) {
                                char hex[129];
                                int w = snprintf(vals + len, sizeof(vals) - len, "%s%u=%s", len ? ", " : "; PCR ",
                                                 i, hex_string(values + k++ * hsize, hsize, hex));
                                if (w < 0 || (size_t) w >= sizeof(vals) - len)
                                        break;
                                len += (size_t) w;
                        }
        }
        return why_set(why, EPERM, "%spolicy digest mismatch: the token wants %s, the TPM computed %s "
                       "(literal PCR %s, signed PCR %s, %s%s%s)", moved,
                       hex_string(t->policy_hash, 32, want), hex_string(tpm_digest, 32, have),
                       t->pcr_mask ? pcr_mask_to_string(t->pcr_mask, lit, sizeof(lit)) : "none",
                       t->pubkey_pcr_mask ? pcr_mask_to_string(t->pubkey_pcr_mask, sig, sizeof(sig)) : "none",
                       t->pin ? "PIN, " : "", tpm2_hash_to_string(bank), vals);
}

/* The token's policy, computed offline from the key name and the PCR
 * values read: compared with tpm2-policy-hash before Unseal, so a mismatch
 * is explained without a failed Unseal, and a match costs no
 * PolicyGetDigest round trip. */
static int predict_policy(struct tpm2_ctx *c, const struct tpm2_token *t, TPMI_ALG_HASH bank,
                          const TPM2B_NAME *key_name, uint8_t out[32], char **why) {
        uint8_t values[24 * 64];
        int r;

        if (t->pcr_mask && (r = pcr_values(c, bank, t->pcr_mask, values, why)) < 0)
                return r;
        if (policy_token(out, t->pubkey_pcr_mask ? key_name : NULL, bank, t->pcr_mask, values, t->pin) < 0)
                return why_set(why, EIO, "cannot compute the policy");
        return 0;
}

/* The digest the TPM holds, for the refusal message. */
static int tpm_policy_mismatch(struct tpm2_ctx *c, const struct tpm2_token *t, TPMI_ALG_HASH bank, char **why) {
        TPM2B_DIGEST *d = NULL;
        TSS2_RC rc;
        int r;

        rc = Esys_PolicyGetDigest(c->esys, c->session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &d);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(c, why, rc, "cannot read the policy digest");
        if (d->size == 32 && memcmp(d->buffer, t->policy_hash, 32) == 0)
                r = 0;
        else
                r = policy_mismatch(c, t, bank, d->buffer, why);
        Esys_Free(d);
        return r;
}

static int satisfy_policy(struct tpm2_ctx *c, const struct tpm2_token *t, TPMI_ALG_HASH bank, ESYS_TR parent,
                          const struct tpm2_unseal_args *a, char **why) {
        TPM2B_NAME key_name = {};
        uint8_t predicted[32];
        TSS2_RC rc;
        int r;

        r = policy_session(c, parent, why);
        if (r < 0)
                return r;
        c->session_fresh = false;
        if (t->pubkey_pcr_mask) {
                r = signed_part(c, t, bank, a, &key_name, why);
                if (r < 0)
                        return r;
        }
        if (t->pcr_mask) {
                TPML_PCR_SELECTION sel;
                TPM2B_DIGEST none = {};
                policy_pcr_selection(bank, t->pcr_mask, &sel);
                rc = Esys_PolicyPCR(c->esys, c->session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &none, &sel);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(c, why, rc, "TPM refused PolicyPCR");
        }
        if (t->pin) {
                rc = Esys_PolicyAuthValue(c->esys, c->session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(c, why, rc, "TPM refused PolicyAuthValue");
        }
        r = predict_policy(c, t, bank, &key_name, predicted, why);
        if (r < 0)
                return r;
        if (memcmp(predicted, t->policy_hash, 32) != 0) {
                /* Ask the TPM for its digest; if it agrees with the token after
                 * all, our PCR values were stale: read them again. */
                r = tpm_policy_mismatch(c, t, bank, why);
                pcr_values_forget(c);
                return r < 0 ? r : -EAGAIN;
        }
        return 0;
}

/* The sealed object under its parent, with the PIN's authorization value
 * when the token has one. */
static int load_object(struct tpm2_ctx *c, const struct tpm2_token *t, ESYS_TR parent,
                       const struct tpm2_unseal_args *a, ESYS_TR *ret, char **why) {
        TSS2_RC rc;
        int r = 0;

        TPM_FIRST(c, rc, Esys_Load(c->esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &t->private,
                                   &t->public, ret));
        if (rc != TSS2_RC_SUCCESS)
                return why_set(why, rc_base(rc) == TPM2_RC_LOCKOUT ? EBUSY : EIO,
                               "cannot load the sealed object: %s", rc_text(c, rc, (char[RC_TEXT_MAX]) {}));
        if (t->pin) {
                TPM2B_AUTH auth;
                r = tpm2_pin_auth(a->pin, t->salt, t->salt_size, &auth);
                if (r >= 0 && Esys_TR_SetAuth(c->esys, *ret, &auth) != TSS2_RC_SUCCESS)
                        r = -EIO;
                explicit_bzero(&auth, sizeof(auth));
                if (r < 0) {
                        flush(c, ret);
                        return why_set(why, r, "cannot derive the PIN's authorization value");
                }
        }
        return 0;
}

/* The policy first, then the object (*obj, loaded on the first try and
 * kept for the next): behind the kernel's resource manager every live
 * object and session is swapped in and out around each command, and the
 * policy commands need only the session, so the sealed object is live
 * for its Unseal alone. */
static int unseal_once(struct tpm2_ctx *c, const struct tpm2_token *t, TPMI_ALG_HASH bank, ESYS_TR parent,
                       ESYS_TR *obj, const struct tpm2_unseal_args *a, struct secret **ret, char **why) {
        TPM2B_SENSITIVE_DATA *out = NULL;
        TSS2_RC rc;
        int r;

        bool last = a && a->last;

        r = satisfy_policy(c, t, bank, parent, a, why);
        if (r < 0)
                return r;
        if (*obj == ESYS_TR_NONE && (r = load_object(c, t, parent, a, obj, why)) < 0)
                return r;
        /* The response is encrypted with the session's salt. On the last
         * Unseal of the run the TPM also ends the session (continueSession
         * clear), which saves a FlushContext; only after success, so a
         * failed Unseal leaves it to flush() below or to tpm2_close(). */
        rc = Esys_TRSess_SetAttributes(c->esys, c->session,
                                       TPMA_SESSION_ENCRYPT | (last ? 0 : TPMA_SESSION_CONTINUESESSION), 0xff);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(c, why, rc, "cannot set session attributes");
        rc = Esys_Unseal(c->esys, *obj, c->session, ESYS_TR_NONE, ESYS_TR_NONE, &out);
        if (rc != TSS2_RC_SUCCESS) {
                TSS2_RC b = rc_base(rc);
                if (b == TPM2_RC_POLICY_FAIL) {
                        /* PCRs moved after our read: the TPM's digest says so. */
                        r = tpm_policy_mismatch(c, t, bank, why);
                        pcr_values_forget(c);
                        flush(c, &c->session);
                        return r < 0 ? r : -EAGAIN;
                }
                /* A failed authorization may leave the policy session unusable. */
                flush(c, &c->session);
                if (b == TPM2_RC_PCR_CHANGED) {
                        pcr_values_forget(c);
                        return -EAGAIN;
                }
                return why_set(why, b == TPM2_RC_LOCKOUT ? EBUSY : (b == TPM2_RC_AUTH_FAIL || b == TPM2_RC_BAD_AUTH) ? EACCES : EIO,
                               "%s", rc_text(c, rc, (char[RC_TEXT_MAX]) {}));
        }
        if (last) {
                /* Gone from the TPM; ESYS keeps its record until closed. */
                (void) Esys_TR_Close(c->esys, &c->session);
                c->session = ESYS_TR_NONE;
        } else
                /* A policy session used with continueSession comes back
                 * reset, as after PolicyRestart (TPM 2.0 part 1). */
                c->session_fresh = true;
        r = secret_new_from(out->buffer, out->size, ret);
        explicit_bzero(out, sizeof(*out));
        Esys_Free(out);
        if (r < 0)
                return r;
        c->stats.unsealed++;
        return 0;
}

static int unseal_token(struct tpm2_ctx *c, const struct tpm2_token *t, const struct tpm2_unseal_args *a,
                        struct secret **ret, char **why) {
        TPMI_ALG_HASH bank = t->pcr_bank;
        ESYS_TR parent = ESYS_TR_NONE, obj = ESYS_TR_NONE;
        int r;

        r = tpm2_token_supported(t, why);
        if (r < 0)
                return r;
        if (t->pin && !(a && a->pin))
                return why_set(why, ENOKEY, "token needs a PIN and none was given");
        if (t->pin && (r = tpm2_trust_pin_object(&t->public.publicArea, why)) < 0)
                return r;
        if (!bank) {
                r = best_bank(c, t->pcr_mask | t->pubkey_pcr_mask, &bank, why);
                if (r < 0)
                        return r;
        }
        /* The signature first, while the TPM holds nothing of ours: behind
         * the kernel's resource manager every live object and session is
         * swapped in and out around each command, so LoadExternal and
         * VerifySignature cost least now; and a token whose PCRs are not
         * signed is refused before a primary key is made for it. The
         * ticket is kept for the policy session (signed_part()). */
        if (t->pubkey_pcr_mask) {
                struct pcrsig_key key;
                uint8_t approved[32];
                struct ticket *tk;

                r = signed_ticket(c, t, bank, a, &key, approved, true, &tk, why);
                if (r < 0)
                        return r;
        }
        r = get_parent(c, t, &parent, why);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < UNSEAL_TRIES; i++) {
                r = unseal_once(c, t, bank, parent, &obj, a, ret, why);
                if (r != -EAGAIN)
                        break;
                log_debug("tpm2: PCRs changed during the unseal, trying again");
        }
        if (r == -EAGAIN)
                r = why_set(why, EAGAIN, "PCR values kept changing during the unseal");
        /* A token that did not unseal leaves its policy in the session, and
         * the next token may be another's: it gets a session of its own.
         * Only a successful Unseal hands the session on, reset by the TPM
         * itself, and its salt came from a checked parent: provably clean. */
        if (r < 0)
                flush(c, &c->session);
        if (t->pin && obj != ESYS_TR_NONE) {
                /* ESYS keeps the authValue with the handle: overwrite it first. */
                TPM2B_AUTH empty = {};
                (void) Esys_TR_SetAuth(c->esys, obj, &empty);
        }
        flush(c, &obj);
        return r;
}

int tpm2_unseal(struct tpm2_ctx *c, const struct tpm2_token *t, const struct tpm2_unseal_args *a,
                struct secret **ret, char **why) {
        return transport_result(c, unseal_token(c, t, a, ret, why), why);
}
