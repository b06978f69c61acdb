/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <blkid.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <libcryptsetup.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <strings.h>
#include <sys/stat.h>

#include "json-parse.h"
#include "sysext-verify.h"
#include "encoding.h"
#include "verity-sb.h"
#include "why.h"

enum part_role { ROLE_DATA, ROLE_HASH, ROLE_SIG, _ROLE_MAX };

static const char *const role_names[_ROLE_MAX] = {
        [ROLE_DATA] = "data",
        [ROLE_HASH] = "verity",
        [ROLE_SIG] = "verity-sig",
};

/* The Discoverable Partitions types an extension may carry on this
 * architecture; systemd-sysext takes no other. */
static const struct part_type {
        const char *uuid;
        const char *designator;
        enum part_role role;
} part_types[] = {
#if defined(__x86_64__)
        { "4f68bce3-e8cd-4db1-96e7-fbcaf984b709", "root", ROLE_DATA },
        { "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5", "root", ROLE_HASH },
        { "41092b05-9fc8-4523-994f-2def0408b176", "root", ROLE_SIG },
        { "8484680c-9521-48c6-9c11-b0720656f69e", "usr", ROLE_DATA },
        { "77ff5f63-e7b6-4633-acf4-1565b864c0e6", "usr", ROLE_HASH },
        { "e7bb33fb-06cf-4e81-8273-e543b413e2e2", "usr", ROLE_SIG },
#elif defined(__aarch64__)
        { "b921b045-1df0-41c3-af44-4c6f280d3fae", "root", ROLE_DATA },
        { "df3300ce-d69f-4c92-978c-9bfb0f38d820", "root", ROLE_HASH },
        { "6db69de6-29f4-4758-a7a5-962190f00ce3", "root", ROLE_SIG },
        { "b0e01050-ee5f-4390-949a-9101b17104e9", "usr", ROLE_DATA },
        { "6e11a4e7-fbca-4ded-b9e9-e1a512bb664e", "usr", ROLE_HASH },
        { "c23ce4ff-44bd-4b00-b2d4-b41b3419e02a", "usr", ROLE_SIG },
#endif
        /* Other architectures: no entry, so every image is refused as
         * having unexpected partitions until their types are added. */
        { NULL, NULL, _ROLE_MAX },
};

/* systemd-repart writes a few KiB of JSON into a 16 KiB partition. */
#define SIG_PART_MAX (1024 * 1024)

static void probe_freep(blkid_probe *p) { if (*p) blkid_free_probe(*p); }
static void json_putp(json_object **o) { json_object_put(*o); }
static void p7_freep(PKCS7 **p) { PKCS7_free(*p); }
static void bio_freep(BIO **p) { BIO_free(*p); }

void sysext_image_done(struct sysext_image *img) {
        free(img->name);
        free(img->p7s);
        free(img->signer);
        *img = (struct sysext_image) {};
}

int sysext_name_from_path(const char *path, char **ret_name, enum sysext_kind *ret_kind, char **why) {
        static const struct { const char *suffix; enum sysext_kind kind; } kinds[] = {
                { ".sysext", SYSEXT_KIND_SYSEXT },
                { ".confext", SYSEXT_KIND_CONFEXT },
        };
        const char *base = strrchr(path, '/');
        enum sysext_kind kind = SYSEXT_KIND_SYSEXT;
        size_t n;
        char *name;

        base = base ? base + 1 : path;
        n = strlen(base);
        /* systemd-stub picks *.raw without regard to case. */
        if (n <= 4 || strcasecmp(base + n - 4, ".raw") != 0)
                return why_set(why, EINVAL, "file name does not end in .raw");
        n -= 4;
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                size_t s = strlen(kinds[i].suffix);
                if (n > s && strncmp(base + n - s, kinds[i].suffix, s) == 0) {
                        n -= s;
                        kind = kinds[i].kind;
                        break;
                }
        }
        if (n == 0 || n > 200 || base[0] == '.')
                return why_set(why, EINVAL, "'%s' gives no valid extension name", base);
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) base[i]) && !strchr("._+-", base[i]))
                        return why_set(why, EINVAL, "extension name '%.*s' has a character other than A-Z a-z 0-9 . _ + -",
                                       (int) n, base);
        name = strndup(base, n);
        if (!name)
                return -ENOMEM;
        *ret_name = name;
        if (ret_kind)
                *ret_kind = kind;
        return 0;
}

static blkid_probe new_probe(int fd) {
        blkid_probe pr = blkid_new_probe();
        if (pr && blkid_probe_set_device(pr, fd, 0, 0) < 0) {
                blkid_free_probe(pr);
                return NULL;
        }
        return pr;
}

/* Which file system libblkid sees at offset 0, or NULL. systemd 252 mounts
 * such a file system instead of the partitions, without verity. */
static int fs_at_offset0(int fd, char *type, size_t size) {
        _cleanup_(probe_freep) blkid_probe pr = new_probe(fd);
        const char *v = NULL;
        int r;

        if (!pr)
                return -ENOMEM;
        blkid_probe_enable_partitions(pr, 0);
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE);
        r = blkid_do_safeprobe(pr);
        if (r == -2) {
                snprintf(type, size, "several file systems");
                return 1;
        }
        if (r < 0)
                return -EIO;
        if (r == 1)
                return 0;
        if (blkid_probe_lookup_value(pr, "TYPE", &v, NULL) < 0 || !v)
                v = "unknown";
        snprintf(type, size, "%s", v);
        return 1;
}

static const struct part_type *find_type(const char *uuid) {
        for (size_t i = 0; part_types[i].uuid; i++)
                if (uuid && strcasecmp(part_types[i].uuid, uuid) == 0)
                        return &part_types[i];
        return NULL;
}

struct layout {
        struct sysext_part part[_ROLE_MAX];
        char uuid[_ROLE_MAX][37];
        bool have[_ROLE_MAX];
        const char *designator;
};

/* A partition that overlaps another would hand the same bytes out twice,
 * as data and as hash tree. */
static int check_overlap(const struct layout *l, char **why) {
        for (int a = 0; a < _ROLE_MAX; a++)
                for (int b = a + 1; b < _ROLE_MAX; b++)
                        if (l->part[a].offset < l->part[b].offset + l->part[b].size &&
                            l->part[b].offset < l->part[a].offset + l->part[a].size)
                                return why_set(why, EBADMSG, "%s partition %u overlaps %s partition %u",
                                               role_names[a], l->part[a].number, role_names[b], l->part[b].number);
        return 0;
}

/* An image file has no logical sector size of its own: a GPT written for
 * 4096-byte sectors has its header at 4096, not 512. Try both, as systemd
 * 255 and later do; blkid reports offsets in 512-byte units either way. */
static const unsigned sector_sizes[] = { 512, 4096 };

static int read_layout(int fd, uint64_t file_size, struct layout *l, char **why) {
        _cleanup_(probe_freep) blkid_probe pr = NULL;
        blkid_partlist ls = NULL;
        const char *pttype = NULL;
        char fs[64];
        int n, r;

        for (size_t i = 0; i < ELEMENTSOF(sector_sizes); i++) {
                blkid_parttable t;

                if (pr)
                        blkid_free_probe(pr);
                pr = new_probe(fd);
                if (!pr)
                        return -ENOMEM;
                blkid_probe_set_sectorsize(pr, sector_sizes[i]);
                blkid_probe_enable_superblocks(pr, 0);
                blkid_probe_enable_partitions(pr, 1);
                blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
                ls = blkid_probe_get_partitions(pr);
                t = ls ? blkid_partlist_get_table(ls) : NULL;
                pttype = t ? blkid_parttable_get_type(t) : NULL;
                if (pttype && streq(pttype, "gpt"))
                        break;
        }
        if (!pttype || !streq(pttype, "gpt")) {
                /* Say what it is instead: a bare file system is the common
                 * unsigned image. */
                r = fs_at_offset0(fd, fs, sizeof(fs));
                if (r > 0)
                        return why_set(why, EMEDIUMTYPE, "not a GPT image but a bare %s file system: unsigned", fs);
                if (pttype)
                        return why_set(why, EMEDIUMTYPE, "partition table is %s, not GPT", pttype);
                return why_set(why, EMEDIUMTYPE, "no GPT partition table");
        }

        n = blkid_partlist_numof_partitions(ls);
        for (int i = 0; i < n; i++) {
                blkid_partition p = blkid_partlist_get_partition(ls, i);
                const char *type = blkid_partition_get_type_string(p), *uuid = blkid_partition_get_uuid(p);
                const struct part_type *pt = find_type(type);
                int num = blkid_partition_get_partno(p);
                blkid_loff_t start = blkid_partition_get_start(p), size = blkid_partition_get_size(p);

                if (!pt)
                        return why_set(why, EBADMSG, "unexpected partition %d of type %s: only %s, verity and verity-sig partitions are allowed",
                                       num, strempty(type), l->designator ? l->designator : "root/usr");
                if (l->designator && !streq(l->designator, pt->designator))
                        return why_set(why, EBADMSG, "partition %d is a %s partition in an image of %s partitions",
                                       num, pt->designator, l->designator);
                l->designator = pt->designator;
                if (l->have[pt->role])
                        return why_set(why, EBADMSG, "more than one %s %s partition (again partition %d)",
                                       pt->designator, role_names[pt->role], num);
                /* blkid counts in 512-byte sectors whatever the table's own sector size. */
                if (start < 0 || size <= 0 || (uint64_t) start > file_size / 512 ||
                    (uint64_t) size > file_size / 512 - (uint64_t) start)
                        return why_set(why, EBADMSG, "partition %d lies outside the image", num);
                if (!uuid || strlen(uuid) != 36)
                        return why_set(why, EBADMSG, "partition %d has no UUID", num);
                l->have[pt->role] = true;
                l->part[pt->role] = (struct sysext_part) {
                        .offset = (uint64_t) start * 512,
                        .size = (uint64_t) size * 512,
                        .number = (unsigned) num,
                };
                snprintf(l->uuid[pt->role], sizeof(l->uuid[pt->role]), "%s", uuid);
        }
        if (!l->have[ROLE_DATA])
                return why_set(why, EBADMSG, "no root or usr partition");
        if (!l->have[ROLE_HASH])
                return why_set(why, EBADMSG, "no %s-verity partition: the %s partition is not protected by dm-verity",
                               l->designator, l->designator);
        if (!l->have[ROLE_SIG])
                return why_set(why, EBADMSG, "no %s-verity-sig partition: the verity root hash is not signed",
                               l->designator);
        return check_overlap(l, why);
}

static const char *json_string_field(json_object *o, const char *name) {
        json_object *v;
        if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

/* The verity-sig partition: {"rootHash": hex, "signature": base64 DER PKCS#7, ...}
 * then zero padding. */
static int read_signature(int fd, const struct sysext_part *p, struct sysext_image *img, char **why) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_(json_putp) json_object *o = NULL;
        const char *rh, *sig;
        size_t len;
        int r;

        if (p->size > SIG_PART_MAX)
                return why_set(why, EFBIG, "verity-sig partition of %" PRIu64 " bytes is larger than 1 MiB", p->size);
        buf = malloc(p->size + 1);
        if (!buf)
                return -ENOMEM;
        r = pread_exact(fd, buf, p->size, p->offset);
        if (r < 0)
                return why_set(why, r, "cannot read the verity-sig partition: %s", strerror(-r));
        buf[p->size] = 0;
        len = strlen(buf);
        for (size_t i = len; i < p->size; i++)
                if (buf[i] != 0)
                        return why_set(why, EBADMSG, "verity-sig partition has data after its JSON text");
        r = json_parse_object(buf, len, &o, why);
        if (r < 0) {
                why_prefix(why, "verity-sig partition");
                return r;
        }

        rh = json_string_field(o, "rootHash");
        sig = json_string_field(o, "signature");
        if (!rh)
                return why_set(why, EBADMSG, "verity-sig JSON has no string \"rootHash\"");
        if (!sig)
                return why_set(why, EBADMSG, "verity-sig JSON has no string \"signature\"");
        /* The signature covers the text, and the kernel and systemd see it
         * in lowercase: any other spelling would sign something else. */
        for (const char *c = rh; *c; c++)
                if (!isdigit((unsigned char) *c) && !(*c >= 'a' && *c <= 'f'))
                        return why_set(why, EBADMSG, "rootHash is not lowercase hex");
        if (strlen(rh) < 64 || strlen(rh) > 128 ||
            hex_parse(rh, img->roothash, sizeof(img->roothash), &img->roothash_size) < 0)
                return why_set(why, EBADMSG, "rootHash is not 32 to 64 bytes of hex");
        snprintf(img->roothash_hex, sizeof(img->roothash_hex), "%s", rh);
        if (base64_decode(sig, &img->p7s, &img->p7s_size) < 0)
                return why_set(why, EBADMSG, "verity-sig \"signature\" is not valid base64");
        return 0;
}

/* The UUID as 16 bytes, dashes dropped. */
static int uuid_bytes(const char *uuid, uint8_t out[16]) {
        char hex[33];
        size_t n = 0;
        for (const char *c = uuid; *c && n < 32; c++)
                if (*c != '-')
                        hex[n++] = (char) tolower((unsigned char) *c);
        hex[n] = 0;
        return n == 32 ? hex_parse(hex, out, 16, NULL) : -EINVAL;
}

/* systemd-repart derives the data and verity partition UUIDs from the
 * first and last 128 bits of the root hash; systemd pairs them that way. */
static int check_uuids(const struct layout *l, const struct sysext_image *img, char **why) {
        static const struct { enum part_role role; bool tail; } halves[] = {
                { ROLE_DATA, false },
                { ROLE_HASH, true },
        };
        for (size_t i = 0; i < ELEMENTSOF(halves); i++) {
                const uint8_t *want = halves[i].tail ? img->roothash + img->roothash_size - 16 : img->roothash;
                uint8_t have[16];
                char want_hex[33];
                if (uuid_bytes(l->uuid[halves[i].role], have) < 0 || memcmp(have, want, 16) != 0)
                        return why_set(why, EBADMSG, "%s partition UUID %s is not the %s half of the signed root hash (%s)",
                                       role_names[halves[i].role], l->uuid[halves[i].role],
                                       halves[i].tail ? "second" : "first", hex_string(want, 16, want_hex));
        }
        return 0;
}

static char *subject_of(X509 *c) {
        char buf[256];
        if (!c || !X509_NAME_oneline(X509_get_subject_name(c), buf, sizeof(buf)))
                return strdup("an unknown signer");
        return strdup(buf);
}

/* PKCS#7 over the hex root hash. The signer must be one of the anchor's
 * certificates: NOINTERN ignores the certificates the signature carries,
 * NOVERIFY builds no chain, which is what systemd does with verity.d. */
static int check_pkcs7(const struct sysext_anchor *anchor, struct sysext_image *img, char **why) {
        _cleanup_(p7_freep) PKCS7 *p7 = NULL;
        _cleanup_(bio_freep) BIO *data = NULL;
        const unsigned char *p = img->p7s;
        STACK_OF(X509) *signers;
        int ok;

        p7 = d2i_PKCS7(NULL, &p, (long) img->p7s_size);
        if (!p7 || p != img->p7s + img->p7s_size || !PKCS7_type_is_signed(p7)) {
                ERR_clear_error();
                return why_set(why, EBADMSG, "verity-sig \"signature\" is not a DER PKCS#7 signed-data");
        }
        if (sysext_anchor_count(anchor) == 0)
                return why_set(why, ENOKEY, "no trust-anchor certificate to check the signature against");

        signers = PKCS7_get0_signers(p7, anchor->certs, PKCS7_NOINTERN);
        if (!signers) {
                /* Name the foreign signer from the certificate it carries. */
                _cleanup_free_ char *who = NULL;
                signers = PKCS7_get0_signers(p7, NULL, 0);
                who = subject_of(signers && sk_X509_num(signers) > 0 ? sk_X509_value(signers, 0) : NULL);
                sk_X509_free(signers);
                ERR_clear_error();
                return why_set(why, ENOKEY, "signed by %s, which is not among the %zu trust-anchor certificate(s)",
                               who ? who : "?", sysext_anchor_count(anchor));
        }
        free(img->signer);
        img->signer = subject_of(sk_X509_value(signers, 0));
        sk_X509_free(signers);

        data = BIO_new_mem_buf(img->roothash_hex, (int) strlen(img->roothash_hex));
        if (!data)
                return -ENOMEM;
        ok = PKCS7_verify(p7, anchor->certs, NULL, data, NULL,
                          PKCS7_BINARY | PKCS7_NOINTERN | PKCS7_NOVERIFY);
        if (ok != 1) {
                char err[160];
                ERR_error_string_n(ERR_get_error(), err, sizeof(err));
                ERR_clear_error();
                return why_set(why, EKEYREJECTED, "signature by %s over the root hash does not verify (%s)",
                               img->signer ? img->signer : "?", err);
        }
        return 0;
}

/* A data partition may end in alignment padding, no more. */
#define DATA_SLACK_MAX (1024 * 1024)

/* The sizes to copy come from the verity superblock (verity-sb.h), which
 * the signed root hash covers through the tree: the GPT may only claim as
 * much, and what it claims beyond is never read. */
static int apply_geometry(int fd, struct layout *l, char **why) {
        struct sysext_part *d = &l->part[ROLE_DATA], *h = &l->part[ROLE_HASH];
        struct verity_geometry g;
        int r = verity_geometry_read(fd, h->offset, &g, why);

        if (r < 0)
                return r;
        if (g.hash_bytes > h->size)
                return why_set(why, EBADMSG, "verity partition %u of %" PRIu64 " bytes is smaller than its tree (%" PRIu64 " bytes)",
                               h->number, h->size, g.hash_bytes);
        if (g.data_bytes > d->size)
                return why_set(why, EBADMSG, "data partition %u of %" PRIu64 " bytes is smaller than the verity superblock's %" PRIu64,
                               d->number, d->size, g.data_bytes);
        if (d->size - g.data_bytes > DATA_SLACK_MAX)
                return why_set(why, EBADMSG, "data partition %u claims %" PRIu64 " bytes, the verity superblock covers %" PRIu64,
                               d->number, d->size, g.data_bytes);
        d->size = g.data_bytes;
        h->size = g.hash_bytes;
        return 0;
}

int sysext_inspect(int fd, const struct sysext_anchor *anchor, struct sysext_image *img, char **why) {
        struct layout l = {};
        struct stat st;
        char fs[64];
        int r;

        if (fstat(fd, &st) < 0)
                return why_set(why, errno, "cannot stat: %m");
        if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
                return why_set(why, EBADFD, "not a regular file or block device");
        if (S_ISBLK(st.st_mode)) {
                uint64_t sz = 0;
                blkid_loff_t b = blkid_get_dev_size(fd);
                if (b > 0)
                        sz = (uint64_t) b;
                st.st_size = (off_t) sz;
        }

        r = read_layout(fd, (uint64_t) st.st_size, &l, why);
        if (r < 0)
                return r;
        r = fs_at_offset0(fd, fs, sizeof(fs));
        if (r < 0)
                return why_set(why, r, "cannot probe offset 0 for a file system");
        if (r > 0)
                return why_set(why, EBADMSG, "polyglot: a %s file system at offset 0 besides the GPT", fs);

        r = apply_geometry(fd, &l, why);
        if (r < 0)
                return r;
        img->designator = l.designator;
        img->data = l.part[ROLE_DATA];
        img->hash = l.part[ROLE_HASH];
        img->sig = l.part[ROLE_SIG];
        r = read_signature(fd, &img->sig, img, why);
        if (r < 0)
                return r;
        r = check_uuids(&l, img, why);
        if (r < 0)
                return r;
        return check_pkcs7(anchor, img, why);
}

/* libcryptsetup says where the tree broke ("Verification failed at
 * position N.") and then that it failed: keep its error lines, joined, for
 * the reason. */
#define CS_LOG_MAX 256
static void cs_log(int level, const char *msg, void *usrptr) {
        char *log = usrptr;
        size_t len = strlen(log);
        if (level != CRYPT_LOG_ERROR || !msg || len + 2 >= CS_LOG_MAX)
                return;
        snprintf(log + len, CS_LOG_MAX - len, "%s%.*s", len ? " " : "", (int) strcspn(msg, "\n"), msg);
}

static void crypt_freep(struct crypt_device **cd) { if (*cd) crypt_free(*cd); }

int sysext_verify_hash_tree(const char *data_path, const char *hash_path, uint64_t hash_offset,
                            const struct sysext_image *img, char **why) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        char last[CS_LOG_MAX] = "";
        /* CRYPT_VERITY_CHECK_HASH belongs in the load parameters: only then
         * does an activation without a name read and hash every block. The
         * same bit passed as an activation flag means something else, and
         * the nameless activation then succeeds without reading data. */
        struct crypt_params_verity params = {
                .hash_area_offset = hash_offset,
                .flags = CRYPT_VERITY_CHECK_HASH,
        };
        int r;

        r = crypt_init_data_device(&cd, hash_path, data_path);
        if (r < 0)
                return why_set(why, r, "cannot open the verity parts: %s", strerror(-r));
        crypt_set_log_callback(cd, cs_log, last);
        r = crypt_load(cd, CRYPT_VERITY, &params);
        if (r < 0)
                return why_set(why, r, "verity partition has no valid verity superblock%s%s",
                               last[0] ? ": " : "", last);
        r = crypt_activate_by_volume_key(cd, NULL, (const char *) img->roothash, img->roothash_size, 0);
        if (r == -EPERM)
                return why_set(why, EBADMSG, "hash tree does not verify against the signed root hash%s%s",
                               last[0] ? ": " : "", last);
        if (r < 0)
                return why_set(why, r, "hash tree check failed: %s%s%s", strerror(-r), last[0] ? ": " : "", last);
        return 0;
}
