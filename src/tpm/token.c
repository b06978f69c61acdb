/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#include "json-parse.h"
#include "policy.h"
#include "token.h"

/* ---- field readers: each one knows its encoding and says what is wrong. */

static int bad(char **why, const char *field, const char *reason) {
        return why_set(why, EBADMSG, "field '%s': %s", field, reason);
}

static json_object *field(json_object *o, const char *name) {
        json_object *v = NULL;
        return json_object_object_get_ex(o, name, &v) ? v : NULL;
}

static int read_pcr_array(json_object *o, const char *name, uint32_t *ret, char **why) {
        json_object *a = field(o, name);
        uint32_t mask = 0;

        *ret = 0;
        if (!a)
                return 0;
        if (!json_object_is_type(a, json_type_array))
                return bad(why, name, "not an array of PCR numbers");
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *e = json_object_array_get_idx(a, i);
                int64_t v;
                if (!json_object_is_type(e, json_type_int))
                        return bad(why, name, "holds something that is not an integer");
                v = json_object_get_int64(e);
                if (v < 0 || v >= 24)
                        return bad(why, name, "PCR number out of range 0..23");
                mask |= UINT32_C(1) << v;
        }
        *ret = mask;
        return 0;
}

static int read_bool(json_object *o, const char *name, bool *ret, char **why) {
        json_object *v = field(o, name);
        *ret = false;
        if (!v)
                return 0;
        if (!json_object_is_type(v, json_type_boolean))
                return bad(why, name, "not a boolean");
        *ret = json_object_get_boolean(v);
        return 0;
}

static int read_string(json_object *o, const char *name, bool required, const char **ret, char **why) {
        json_object *v = field(o, name);
        *ret = NULL;
        if (!v)
                return required ? bad(why, name, "missing") : 0;
        if (!json_object_is_type(v, json_type_string))
                return bad(why, name, "not a string");
        *ret = json_object_get_string(v);
        return 0;
}

static int read_base64(json_object *o, const char *name, bool required, uint8_t **ret, size_t *ret_size, char **why) {
        const char *s;
        int r;

        *ret = NULL;
        *ret_size = 0;
        r = read_string(o, name, required, &s, why);
        if (r < 0 || !s)
                return r;
        r = base64_decode(s, ret, ret_size);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return bad(why, name, "not valid base64");
        return 0;
}

static int read_keyslot(json_object *o, int *ret, char **why) {
        json_object *a = field(o, "keyslots"), *e;
        unsigned v;

        if (!a)
                return bad(why, "keyslots", "missing");
        if (!json_object_is_type(a, json_type_array) || json_object_array_length(a) != 1)
                return bad(why, "keyslots", "must list exactly one keyslot");
        e = json_object_array_get_idx(a, 0);
        if (!json_object_is_type(e, json_type_string) || safe_atou(json_object_get_string(e), &v) < 0 || v > 31)
                return bad(why, "keyslots", "not a keyslot number as a decimal string");
        *ret = (int) v;
        return 0;
}

/* tpm2-blob: TPM2B_PRIVATE then TPM2B_PUBLIC, then maybe a v255 seed. */
static int read_blob(json_object *o, struct tpm2_token *t, char **why) {
        _cleanup_free_ uint8_t *blob = NULL;
        size_t size, off = 0;
        int r;

        r = read_base64(o, "tpm2-blob", true, &blob, &size, why);
        if (r < 0)
                return r;
        if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(blob, size, &off, &t->private) != TSS2_RC_SUCCESS)
                return bad(why, "tpm2-blob", "truncated or malformed private part");
        if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(blob, size, &off, &t->public) != TSS2_RC_SUCCESS)
                return bad(why, "tpm2-blob", "truncated or malformed public part");
        if (off < size) {
                TPM2B_ENCRYPTED_SECRET seed;
                if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(blob, size, &off, &seed) != TSS2_RC_SUCCESS || off != size)
                        return bad(why, "tpm2-blob", "trailing bytes after the public part");
                t->has_seed = true;
        }
        if (t->public.publicArea.type != TPM2_ALG_KEYEDHASH)
                return bad(why, "tpm2-blob", "the sealed object is not a KEYEDHASH object");
        return 0;
}

static int read_policy_hash(json_object *o, struct tpm2_token *t, char **why) {
        const char *s;
        int r = read_string(o, "tpm2-policy-hash", true, &s, why);
        if (r < 0)
                return r;
        if (hex_parse(s, t->policy_hash, sizeof(t->policy_hash), NULL) < 0)
                return bad(why, "tpm2-policy-hash", "not 32 bytes of hex");
        return 0;
}

static int read_enums(json_object *o, struct tpm2_token *t, char **why) {
        const char *s;
        int r;

        r = read_string(o, "tpm2-pcr-bank", false, &s, why);
        if (r < 0)
                return r;
        if (s && !(t->pcr_bank = tpm2_hash_from_string(s)))
                return bad(why, "tpm2-pcr-bank", "not sha1, sha256, sha384 or sha512");

        r = read_string(o, "tpm2-primary-alg", false, &s, why);
        if (r < 0)
                return r;
        if (!s || streq(s, "ecc"))
                t->primary_alg = TPM2_ALG_ECC;
        else if (streq(s, "rsa"))
                t->primary_alg = TPM2_ALG_RSA;
        else
                return bad(why, "tpm2-primary-alg", "not ecc or rsa");
        return 0;
}

static int read_pubkey(json_object *o, struct tpm2_token *t, char **why) {
        uint8_t *pem;
        size_t size;
        int r;

        r = read_base64(o, "tpm2_pubkey", false, &pem, &size, why);
        if (r < 0 || !pem)
                return r;
        /* Keep it a C string for the PEM reader. */
        t->pubkey_pem = realloc(pem, size + 1);
        if (!t->pubkey_pem) {
                free(pem);
                return -ENOMEM;
        }
        t->pubkey_pem[size] = 0;
        t->pubkey_pem_size = size;
        return 0;
}

static int read_salt(json_object *o, struct tpm2_token *t, char **why) {
        _cleanup_free_ uint8_t *salt = NULL;
        size_t size;
        int r = read_base64(o, "tpm2_salt", false, &salt, &size, why);
        if (r < 0 || !salt)
                return r;
        if (size == 0 || size > sizeof(t->salt))
                return bad(why, "tpm2_salt", "wrong length");
        memcpy(t->salt, salt, size);
        t->salt_size = size;
        return 0;
}

int tpm2_token_parse(const char *json, struct tpm2_token *t, char **why) {
        json_object *o;
        const char *type;
        int r;

        *t = (struct tpm2_token) { .keyslot = -1 };
        r = json_parse_object(json, strlen(json), &o, why);
        if (r < 0) {
                why_prefix(why, "token");
                return r;
        }
        r = read_string(o, "type", true, &type, why);
        if (r >= 0 && !streq(type, "systemd-tpm2"))
                r = why_set(why, EMEDIUMTYPE, "token type is '%s', not systemd-tpm2", type);
        if (r >= 0)
                r = read_keyslot(o, &t->keyslot, why);
        if (r >= 0)
                r = read_blob(o, t, why);
        if (r >= 0)
                r = read_pcr_array(o, "tpm2-pcrs", &t->pcr_mask, why);
        if (r >= 0)
                r = read_enums(o, t, why);
        if (r >= 0)
                r = read_policy_hash(o, t, why);
        if (r >= 0)
                r = read_bool(o, "tpm2-pin", &t->pin, why);
        if (r >= 0)
                r = read_pcr_array(o, "tpm2_pubkey_pcrs", &t->pubkey_pcr_mask, why);
        if (r >= 0)
                r = read_pubkey(o, t, why);
        if (r >= 0)
                r = read_salt(o, t, why);
        if (r >= 0)
                r = read_base64(o, "tpm2_srk", false, &t->srk, &t->srk_size, why);
        if (r >= 0)
                r = read_bool(o, "tpm2_pcrlock", &t->pcrlock, why);
        if (r >= 0)
                r = read_base64(o, "tpm2_pcrlock_nv", false, &t->pcrlock_nv, &t->pcrlock_nv_size, why);
        if (r >= 0 && t->pubkey_pcr_mask && !t->pubkey_pem)
                r = bad(why, "tpm2_pubkey", "missing, but tpm2_pubkey_pcrs asks for a signed policy");
        if (r >= 0 && t->salt_size && !t->pin)
                r = bad(why, "tpm2_salt", "present on a token without a PIN");
        json_object_put(o);
        if (r < 0)
                tpm2_token_done(t);
        return r;
}

/* ---- the writer: field names and encodings as systemd 252 writes them. */

static json_object *pcr_array(uint32_t mask) {
        json_object *a = json_object_new_array();
        for (int i = 0; a && i < 24; i++)
                if (mask & (UINT32_C(1) << i))
                        json_object_array_add(a, json_object_new_int(i));
        return a;
}

static json_object *base64_string(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = malloc((size + 2) / 3 * 4 + 1);
        if (!s)
                return NULL;
        base64_encode(data, size, s);
        return json_object_new_string(s);
}

/* tpm2-blob: TPM2B_PRIVATE then TPM2B_PUBLIC, each marshalled. */
static json_object *blob_string(const struct tpm2_token *t) {
        uint8_t blob[sizeof(TPM2B_PRIVATE) + sizeof(TPM2B_PUBLIC)];
        size_t off = 0;

        if (Tss2_MU_TPM2B_PRIVATE_Marshal(&t->private, blob, sizeof(blob), &off) != TSS2_RC_SUCCESS ||
            Tss2_MU_TPM2B_PUBLIC_Marshal(&t->public, blob, sizeof(blob), &off) != TSS2_RC_SUCCESS)
                return NULL;
        return base64_string(blob, off);
}

int tpm2_token_format(const struct tpm2_token *t, char **ret) {
        char slot[12], hash[65];
        json_object *o = json_object_new_object(), *keyslots = json_object_new_array();
        const struct {
                const char *name;
                json_object *value;
                bool present;
        } fields[] = {
                { "type",             json_object_new_string("systemd-tpm2"),           true },
                { "keyslots",         keyslots,                                         true },
                { "tpm2-blob",        blob_string(t),                                   true },
                { "tpm2-pcrs",        pcr_array(t->pcr_mask),                           true },
                { "tpm2-pcr-bank",    json_object_new_string(strempty(tpm2_hash_to_string(t->pcr_bank))), true },
                { "tpm2-primary-alg", json_object_new_string(t->primary_alg == TPM2_ALG_RSA ? "rsa" : "ecc"), true },
                { "tpm2-policy-hash", json_object_new_string(hex_string(t->policy_hash, 32, hash)), true },
                { "tpm2-pin",         json_object_new_boolean(t->pin),                 true },
                { "tpm2_pubkey_pcrs", pcr_array(t->pubkey_pcr_mask),                   t->pubkey_pem },
                { "tpm2_pubkey",      t->pubkey_pem ? base64_string((const uint8_t *) t->pubkey_pem,
                                                                    t->pubkey_pem_size) : NULL, t->pubkey_pem },
                { "tpm2_salt",        t->salt_size ? base64_string(t->salt, t->salt_size) : NULL, t->salt_size },
        };
        int r = 0;

        snprintf(slot, sizeof(slot), "%d", t->keyslot);
        if (keyslots)
                json_object_array_add(keyslots, json_object_new_string(slot));
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                if (!fields[i].present) {
                        json_object_put(fields[i].value);
                        continue;
                }
                if (!o || !fields[i].value || json_object_object_add(o, fields[i].name, fields[i].value) < 0) {
                        json_object_put(fields[i].value);
                        r = -ENOMEM;
                }
        }
        /* Base64 as written, without json-c's "\/". */
        if (r >= 0 && !(*ret = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                        JSON_C_TO_STRING_NOSLASHESCAPE))))
                r = -ENOMEM;
        json_object_put(o);
        return r;
}

int tpm2_token_supported(const struct tpm2_token *t, char **why) {
        if (t->pcrlock || t->pcrlock_nv)
                return why_set(why, EOPNOTSUPP, "pcrlock policies (tpm2_pcrlock) are not supported");
        if (t->has_seed)
                return why_set(why, EOPNOTSUPP, "offline-enrolled tokens (tpm2-blob with an import seed) are not supported");
        return 0;
}

void tpm2_token_done(struct tpm2_token *t) {
        free(t->pubkey_pem);
        free(t->srk);
        free(t->pcrlock_nv);
        *t = (struct tpm2_token) { .keyslot = -1 };
}
