/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <json-c/json.h>

#include "json-parse.h"
#include "luks-header.h"
#include "why.h"

const char *const luks_default_ciphers[] = { "aes-xts-plain64", NULL };

/* 256 bits: the smallest key a volume or keyslot area may use. */
#define KEY_BYTES_MIN 32
/* The binary part in front of each JSON copy. */
#define BIN_HDR_SIZE 4096

/* The header under judgement, with what the rules share. */
struct hdr {
        struct json_object *root, *segments, *keyslots, *digests, *tokens, *config;
        const char *const *ciphers;
        const char *segment_id;                 /* the one data segment */
        struct json_object *segment;
        struct json_object *digest;             /* the segment's digest */
        uint64_t keyslots_start;                /* end of the two metadata copies */
        uint64_t areas_end;                     /* end of metadata + keyslot area */
};

#define refuse(why, ...) why_set(why, LUKS_HEADER_REFUSED, __VA_ARGS__)

static const char *jget_str(struct json_object *o, const char *key) {
        struct json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
               json_object_get_string(v) : NULL;
}

static struct json_object *jget(struct json_object *o, const char *key, enum json_type type) {
        struct json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, type) ? v : NULL;
}

/* LUKS2 writes 64-bit numbers as decimal strings. */
static bool jget_u64(struct json_object *o, const char *key, uint64_t *ret) {
        const char *s = jget_str(o, key);
        char *end;
        unsigned long long v;

        if (!s || *s < '0' || *s > '9')
                return false;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || *end)
                return false;
        *ret = v;
        return true;
}

static bool jget_int(struct json_object *o, const char *key, int64_t *ret) {
        struct json_object *v = jget(o, key, json_type_int);
        if (!v)
                return false;
        *ret = json_object_get_int64(v);
        return true;
}

/* Does the JSON array of strings `a` hold `s`? */
static bool jarray_has(struct json_object *a, const char *s) {
        size_t n = a ? json_object_array_length(a) : 0;
        for (size_t i = 0; i < n; i++)
                if (streq_ptr(json_object_get_string(json_object_array_get_idx(a, i)), s))
                        return true;
        return false;
}

static bool cipher_allowed(const struct hdr *h, const char *c) {
        for (const char *const *p = h->ciphers; c && *p; p++)
                if (streq(*p, c))
                        return true;
        return false;
}

/* Where the keyslot area starts and ends, from config. */
static int areas(struct json_object *config, uint64_t *ret_start, uint64_t *ret_end) {
        uint64_t json_size, keyslots_size;

        if (!config || !jget_u64(config, "json_size", &json_size) || !jget_u64(config, "keyslots_size", &keyslots_size))
                return -EINVAL;
        /* Bounded well above what LUKS2 allows (4 MiB headers, 128 MiB of
         * keyslots), so the sum cannot wrap. */
        if (json_size > (UINT64_C(1) << 32) || keyslots_size > (UINT64_C(1) << 40))
                return -EINVAL;
        *ret_start = 2 * (json_size + BIN_HDR_SIZE);
        *ret_end = *ret_start + keyslots_size;
        return 0;
}

/* ---- the rules, in the order they are checked --------------------------- */

static int rule_layout(struct hdr *h, char **why) {
        if (!h->segments || !h->keyslots || !h->digests || !h->config)
                return refuse(why, "LUKS2 metadata lacks one of segments, keyslots, digests or config");
        if (areas(h->config, &h->keyslots_start, &h->areas_end) < 0)
                return refuse(why, "LUKS2 config has no valid json_size and keyslots_size");
        return 0;
}

static int rule_requirements(struct hdr *h, char **why) {
        struct json_object *req = jget(h->config, "requirements", json_type_object), *mandatory;
        size_t n;

        if (!req)
                return 0;
        mandatory = jget(req, "mandatory", json_type_array);
        n = mandatory ? json_object_array_length(mandatory) : 0;
        if (n > 0)
                return refuse(why, "LUKS2 header requires %s (a reencryption or another operation is in progress)",
                              json_object_get_string(json_object_array_get_idx(mandatory, 0)));
        /* An empty requirements object is how cryptsetup leaves it after a
         * finished operation; anything else in it is unknown to us. */
        if (json_object_object_length(req) > (mandatory ? 1 : 0))
                return refuse(why, "LUKS2 header carries requirements this boot does not know");
        return 0;
}

static int rule_one_segment(struct hdr *h, char **why) {
        int n = json_object_object_length(h->segments);

        if (n != 1)
                return refuse(why, "LUKS2 header has %d data segments, not exactly one", n);
        json_object_object_foreach(h->segments, id, seg) {
                h->segment_id = id;
                h->segment = seg;
        }
        if (!json_object_is_type(h->segment, json_type_object))
                return refuse(why, "LUKS2 data segment %s is not an object", h->segment_id);
        return 0;
}

static int rule_segment(struct hdr *h, char **why) {
        const char *id = h->segment_id, *type = jget_str(h->segment, "type"), *enc;
        struct json_object *flags = jget(h->segment, "flags", json_type_array);
        uint64_t offset;

        if (!streq_ptr(type, "crypt"))
                return refuse(why, "LUKS2 data segment %s is of type %s, not crypt", id, type ? type : "(none)");
        enc = jget_str(h->segment, "encryption");
        if (!cipher_allowed(h, enc))
                return refuse(why, "LUKS2 data segment %s uses %s", id, enc ? enc : "(no cipher)");
        if (json_object_object_get_ex(h->segment, "integrity", NULL))
                return refuse(why, "LUKS2 data segment %s carries an integrity layer, which is not allowed", id);
        if (flags && json_object_array_length(flags) > 0)
                return refuse(why, "LUKS2 data segment %s has flag %s", id,
                              json_object_get_string(json_object_array_get_idx(flags, 0)));
        /* A tweak moves the IVs: with the offset moved by as many sectors,
         * any run of the genuine ciphertext would decrypt correctly as a
         * volume of its own. A fixed size cuts the volume short. Genuine
         * headers (luksFormat, reencrypt --encrypt) have neither. */
        if (json_object_object_get_ex(h->segment, "iv_tweak", NULL) &&
            !streq_ptr(jget_str(h->segment, "iv_tweak"), "0"))
                return refuse(why, "LUKS2 data segment %s has an IV tweak other than 0", id);
        if (!streq_ptr(jget_str(h->segment, "size"), "dynamic"))
                return refuse(why, "LUKS2 data segment %s has a fixed size, not the whole device", id);
        if (!jget_u64(h->segment, "offset", &offset))
                return refuse(why, "LUKS2 data segment %s has no valid offset", id);
        if (offset < h->areas_end)
                return refuse(why, "LUKS2 data segment %s starts at byte %" PRIu64
                              ", inside the metadata and keyslot areas (which end at %" PRIu64 ")",
                              id, offset, h->areas_end);
        return 0;
}

/* The one digest that vouches for the segment's volume key. */
static int rule_digest(struct hdr *h, char **why) {
        json_object_object_foreach(h->digests, id, d) {
                if (!jarray_has(jget(d, "segments", json_type_array), h->segment_id))
                        continue;
                if (h->digest)
                        return refuse(why, "LUKS2 data segment %s is bound to more than one digest (%s too)",
                                      h->segment_id, id);
                h->digest = d;
        }
        if (!h->digest)
                return refuse(why, "LUKS2 data segment %s is bound to no digest", h->segment_id);
        return 0;
}

static int check_keyslot(struct hdr *h, const char *id, struct json_object *ks, char **why) {
        struct json_object *area = jget(ks, "area", json_type_object);
        const char *type = jget_str(ks, "type"), *enc;
        uint64_t off, size;
        int64_t key_size;

        if (!streq_ptr(type, "luks2"))
                return refuse(why, "LUKS2 keyslot %s is of type %s, not luks2", id, type ? type : "(none)");
        if (!jget_int(ks, "key_size", &key_size) || key_size < KEY_BYTES_MIN)
                return refuse(why, "LUKS2 keyslot %s holds a key of fewer than %d bits", id, KEY_BYTES_MIN * 8);
        if (!area || !streq_ptr(jget_str(area, "type"), "raw"))
                return refuse(why, "LUKS2 keyslot %s has no raw area", id);
        enc = jget_str(area, "encryption");
        if (!cipher_allowed(h, enc))
                return refuse(why, "LUKS2 keyslot %s area uses %s", id, enc ? enc : "(no cipher)");
        if (!jget_int(area, "key_size", &key_size) || key_size < KEY_BYTES_MIN)
                return refuse(why, "LUKS2 keyslot %s area uses a key of fewer than %d bits", id, KEY_BYTES_MIN * 8);
        if (!jget_u64(area, "offset", &off) || !jget_u64(area, "size", &size) || off < h->keyslots_start ||
            size > h->areas_end || off > h->areas_end - size)
                return refuse(why, "LUKS2 keyslot %s area lies outside the keyslot area", id);
        if (!jarray_has(jget(h->digest, "keyslots", json_type_array), id))
                return refuse(why, "LUKS2 keyslot %s is not bound to data segment %s", id, h->segment_id);
        return 0;
}

static int rule_keyslots(struct hdr *h, char **why) {
        json_object_object_foreach(h->keyslots, id, ks) {
                int r = check_keyslot(h, id, ks, why);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A token may only lead to a keyslot that passed above. */
static int rule_tokens(struct hdr *h, char **why) {
        if (!h->tokens)
                return 0;
        json_object_object_foreach(h->tokens, id, tok) {
                struct json_object *ks = jget(tok, "keyslots", json_type_array);
                size_t n = ks ? json_object_array_length(ks) : 0;

                for (size_t i = 0; i < n; i++) {
                        const char *slot = json_object_get_string(json_object_array_get_idx(ks, i));
                        if (!slot || !json_object_object_get_ex(h->keyslots, slot, NULL))
                                return refuse(why, "LUKS2 token %s names keyslot %s, which does not exist", id,
                                              slot ? slot : "(none)");
                }
        }
        return 0;
}

static int (*const rules[])(struct hdr *h, char **why) = {
        rule_layout, rule_requirements, rule_one_segment, rule_segment, rule_digest, rule_keyslots, rule_tokens,
};

int luks_header_check(const char *json, const char *const *ciphers, char **why) {
        struct hdr h = { .ciphers = ciphers ? ciphers : luks_default_ciphers };
        int r = 0;

        if (!json || json_parse_object(json, strlen(json), &h.root, NULL) < 0)
                return refuse(why, "LUKS2 metadata is not a JSON object without a NUL in it");
        h.segments = jget(h.root, "segments", json_type_object);
        h.keyslots = jget(h.root, "keyslots", json_type_object);
        h.digests = jget(h.root, "digests", json_type_object);
        h.tokens = jget(h.root, "tokens", json_type_object);
        h.config = jget(h.root, "config", json_type_object);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(rules); i++)
                r = rules[i](&h, why);
        json_object_put(h.root);
        return r;
}

int luks_header_ranges(const char *json, uint64_t metadata_size, uint64_t keyslots_size,
                       struct luks_header_range *ret, size_t max) {
        struct json_object *root, *keyslots;
        uint64_t end = 2 * metadata_size + keyslots_size;
        size_t n = 0;

        if (max < 1)
                return -ENOBUFS;
        ret[n++] = (struct luks_header_range) { 0, 2 * metadata_size };
        root = json ? json_tokener_parse(json) : NULL;
        keyslots = root ? jget(root, "keyslots", json_type_object) : NULL;
        if (keyslots) {
                json_object_object_foreach(keyslots, id, ks) {
                        struct json_object *area = jget(ks, "area", json_type_object);
                        uint64_t off, size;

                        (void) id;
                        if (n >= max)
                                break;
                        if (!area || !jget_u64(area, "offset", &off) || !jget_u64(area, "size", &size) ||
                            off < 2 * metadata_size || size > end || off > end - size)
                                continue;
                        ret[n++] = (struct luks_header_range) { off, size };
                }
        }
        json_object_put(root);
        return (int) n;
}
