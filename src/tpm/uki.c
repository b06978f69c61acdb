/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#include "encoding.h"
#include "measure.h"
#include "pcrsig.h"
#include "policy.h"
#include "safe-open.h"
#include "uki.h"

const char *const uki_measured[UKI_N_MEASURED] = {
        ".linux", ".osrel", ".cmdline", ".initrd", ".splash", ".dtb", ".pcrpkey",
};

static const TPMI_ALG_HASH bank_algs[UKI_N_BANKS] = {
        TPM2_ALG_SHA1, TPM2_ALG_SHA256, TPM2_ALG_SHA384, TPM2_ALG_SHA512,
};

/* The stub's own match (src/boot/efi/pe.c, locate_sections()): a section
 * whose 8-byte Name starts with the unified name counts, and a later one
 * replaces an earlier. Its VirtualSize is what gets measured; 0 is "not
 * found" and nothing is measured (systemd-measure skips empty files too). */
static int stub_locate(const struct pe_image *pe, const char *name) {
        int found = -1;

        for (size_t i = 0; i < pe->n_sections; i++)
                if (strncmp(pe->sections[i].name, name, strlen(name)) == 0)
                        found = (int) i;
        return found >= 0 && pe->sections[found].virtual_size ? found : -1;
}

struct digests {
        EVP_MD_CTX *ctx[UKI_N_BANKS];
};

static int digest_chunk(const uint8_t *data, size_t size, void *userdata) {
        struct digests *d = userdata;

        for (size_t b = 0; b < UKI_N_BANKS; b++)
                if (EVP_DigestUpdate(d->ctx[b], data, size) != 1)
                        return -EIO;
        return 0;
}

/* PCR = H(PCR || digest). */
static int extend(struct uki_bank *b, const EVP_MD *md, uint8_t pcr[64], const uint8_t *digest) {
        uint8_t buf[128];

        memcpy(buf, pcr, b->size);
        memcpy(buf + b->size, digest, b->size);
        return EVP_Digest(buf, 2 * b->size, pcr, NULL, md, NULL) == 1 ? 0 : -EIO;
}

static int extend_data(struct uki_bank *b, const EVP_MD *md, uint8_t pcr[64], const void *data, size_t size) {
        uint8_t h[64];

        if (EVP_Digest(data, size, h, NULL, md, NULL) != 1)
                return -EIO;
        return extend(b, md, pcr, h);
}

static const EVP_MD *bank_md(TPMI_ALG_HASH bank) {
        return EVP_get_digestbyname(strempty(tpm2_hash_to_string(bank)));
}

/* Each measured section: its name with the trailing NUL, then its bytes. */
static int measure_sections(int fd, struct uki *u, char **why) {
        struct digests d = {};
        int r = 0;

        for (size_t s = 0; s < UKI_N_MEASURED && r >= 0; s++) {
                uint8_t h[64];

                if (u->measured[s] < 0)
                        continue;
                for (size_t b = 0; b < UKI_N_BANKS; b++) {
                        d.ctx[b] = EVP_MD_CTX_new();
                        if (!d.ctx[b] || EVP_DigestInit_ex(d.ctx[b], bank_md(bank_algs[b]), NULL) != 1)
                                r = -EIO;
                }
                if (r >= 0)
                        r = pe_section_stream(fd, &u->pe, &u->pe.sections[u->measured[s]], digest_chunk, &d, why);
                for (size_t b = 0; b < UKI_N_BANKS && r >= 0; b++) {
                        struct uki_bank *k = &u->banks[b];
                        const EVP_MD *md = bank_md(k->bank);

                        if (extend_data(k, md, k->base, uki_measured[s], strlen(uki_measured[s]) + 1) < 0 ||
                            EVP_DigestFinal_ex(d.ctx[b], h, NULL) != 1 || extend(k, md, k->base, h) < 0)
                                r = -EIO;
                }
                for (size_t b = 0; b < UKI_N_BANKS; b++) {
                        EVP_MD_CTX_free(d.ctx[b]);
                        d.ctx[b] = NULL;
                }
        }
        if (r == -EIO && !(why && *why))
                return why_set(why, EIO, "cannot hash the sections");
        return r;
}

/* Each phase path from the base, as systemd-measure calculate --phase=. */
static int measure_paths(struct uki_bank *b) {
        const EVP_MD *md = bank_md(b->bank);
        uint8_t pcr[64];

        memcpy(pcr, b->base, b->size);
        for (size_t i = 0; i < WINDOW_N_PATHS; i++) {
                const char *word = strrchr(window_paths[i], ':');

                word = word ? word + 1 : window_paths[i];
                if (extend_data(b, md, pcr, word, strlen(word)) < 0)
                        return -EIO;
                memcpy(b->pcr11[i], pcr, b->size);
                memset(b->policy[i], 0, 32);
                if (policy_pcr(b->policy[i], b->bank, UINT32_C(1) << MEASURE_PCR_PHASE, pcr, b->size) < 0)
                        return -EIO;
        }
        return 0;
}

int uki_load_fd(int fd, struct uki *u, char **why) {
        const struct pe_section *s;
        _cleanup_free_ uint8_t *json = NULL;
        size_t size;
        int r;

        memset(u, 0, sizeof(*u));
        if ((r = pe_read(fd, &u->pe, why)) < 0)
                return r;
        for (size_t i = 0; i < UKI_N_MEASURED; i++) {
                const struct pe_section *m;

                u->measured[i] = stub_locate(&u->pe, uki_measured[i]);
                m = u->measured[i] >= 0 ? &u->pe.sections[u->measured[i]] : NULL;
                /* The loader zero-fills past SizeOfRawData; a UKI's sections
                 * never need much of that, and GiBs of zeros would stall us. */
                if (m && m->virtual_size > m->raw_size && m->virtual_size - m->raw_size > UKI_ZERO_FILL_MAX) {
                        r = why_set(why, EBADMSG, "section %s: VirtualSize %#x is more than %#x past its SizeOfRawData %#x",
                                    m->name, m->virtual_size, UKI_ZERO_FILL_MAX, m->raw_size);
                        goto fail;
                }
        }
        for (size_t b = 0; b < UKI_N_BANKS; b++)
                u->banks[b] = (struct uki_bank) { .bank = bank_algs[b], .size = tpm2_hash_size(bank_algs[b]) };
        if ((r = measure_sections(fd, u, why)) < 0)
                goto fail;
        for (size_t b = 0; b < UKI_N_BANKS; b++)
                if (measure_paths(&u->banks[b]) < 0) {
                        r = why_set(why, EIO, "cannot compute the phase policies");
                        goto fail;
                }
        if ((s = pe_find(&u->pe, ".pcrpkey")) &&
            (r = pe_section_read(fd, &u->pe, s, UKI_PCRPKEY_MAX, (uint8_t **) &u->pcrpkey, &u->pcrpkey_size, why)) < 0)
                goto fail;
        if ((s = pe_find(&u->pe, ".pcrsig"))) {
                _cleanup_free_ char *pwhy = NULL;

                r = pe_section_read(fd, &u->pe, s, UKI_PCRSIG_MAX, &json, &size, &pwhy);
                if (r == -ENOMEM)
                        goto fail;
                /* The stub hands over VirtualSize bytes; trailing padding
                 * NULs end the JSON text. */
                if (r >= 0)
                        r = pcrsig_parse((const char *) json, &u->pcrsig, &pwhy);
                if (r < 0)
                        u->pcrsig_why = strdup(why_or(pwhy));
        }
        return 0;
fail:
        uki_done(u);
        return r;
}

int uki_load(const char *path, struct uki *ret, char **why) {
        _cleanup_free_ char *file_why = NULL;
        int fd, r;

        /* Any size: the sections are read in bounded pieces. */
        r = safe_open_path(path, SIZE_MAX, &fd, &file_why);
        if (r < 0)
                return why_set(why, r, "%s", why_or(file_why));
        r = uki_load_fd(fd, ret, why);
        close(fd);
        if (r < 0)
                why_prefix(why, "%s", path);
        return r;
}

void uki_done(struct uki *u) {
        free(u->pcrpkey);
        free(u->pcrsig_why);
        json_object_put(u->pcrsig);
        u->pcrpkey = u->pcrsig_why = NULL;
        u->pcrsig = NULL;
}

const struct uki_bank *uki_bank(const struct uki *u, TPMI_ALG_HASH bank) {
        for (size_t b = 0; b < UKI_N_BANKS; b++)
                if (u->banks[b].bank == bank)
                        return &u->banks[b];
        return NULL;
}

static uint32_t entry_mask(json_object *e) {
        json_object *pcrs;
        uint32_t m = 0;

        if (!json_object_object_get_ex(e, "pcrs", &pcrs) || !json_object_is_type(pcrs, json_type_array))
                return 0;
        for (size_t i = 0; i < json_object_array_length(pcrs); i++) {
                int64_t v = json_object_get_int64(json_object_array_get_idx(pcrs, i));
                if (v >= 0 && v < 24)
                        m |= UINT32_C(1) << v;
        }
        return m;
}

static const char *entry_str(json_object *e, const char *key) {
        json_object *v;
        return json_object_object_get_ex(e, key, &v) && json_object_is_type(v, json_type_string)
                ? json_object_get_string(v) : NULL;
}

size_t uki_entries(const struct uki *u, struct uki_entry *out, size_t max) {
        size_t n = 0;

        if (!u->pcrsig)
                return 0;
        for (size_t b = 0; b < UKI_N_BANKS; b++) {
                const struct uki_bank *k = &u->banks[b];
                json_object *arr;

                if (!json_object_object_get_ex(u->pcrsig, tpm2_hash_to_string(k->bank), &arr) ||
                    !json_object_is_type(arr, json_type_array))
                        continue;
                for (size_t i = 0; i < json_object_array_length(arr) && n < max; i++) {
                        json_object *e = json_object_array_get_idx(arr, i);
                        struct uki_entry *x = &out[n++];
                        const char *fp = entry_str(e, "pkfp"), *pol = entry_str(e, "pol");
                        _cleanup_free_ char *vwhy = NULL;
                        size_t size;

                        *x = (struct uki_entry) { .bank = k->bank, .index = i, .path = -1, .pcrs = entry_mask(e) };
                        snprintf(x->pkfp, sizeof(x->pkfp), "%s", strempty(fp));
                        x->pol_ok = pol && hex_parse(pol, x->pol, sizeof(x->pol), &size) >= 0 && size == 32;
                        for (int p = 0; x->pol_ok && x->pcrs == UINT32_C(1) << MEASURE_PCR_PHASE && p < WINDOW_N_PATHS; p++)
                                if (memcmp(k->policy[p], x->pol, 32) == 0) {
                                        x->path = p;
                                        break;
                                }
                        if (!u->pcrpkey) {
                                x->verified = -ENOKEY;
                                snprintf(x->why, sizeof(x->why), "no .pcrpkey to verify it with");
                                continue;
                        }
                        x->verified = pcrsig_entry_verify(u->pcrpkey, u->pcrpkey_size, k->bank, pol,
                                                          entry_str(e, "sig"), &vwhy);
                        if (x->verified < 0)
                                snprintf(x->why, sizeof(x->why), "%s", why_or(vwhy));
                }
        }
        return n;
}
