/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <inttypes.h>

#include "log.h"
#include "luks-copies.h"
#include "luks-header.h"
#include "luks.h"
#include "pcr15.h"

/* libcryptsetup would print to stderr; its words go to our debug log,
 * where a secret never appears (it never logs key material). */
static void crypt_log_cb(int level, const char *msg, void *usrptr) {
        size_t n = strlen(msg);
        if (n && msg[n - 1] == '\n')
                n--;
        log_debug("cryptsetup: %.*s", (int) n, msg);
}

/* The two metadata copies and at most every keyslot's area (LUKS2 has 32). */
#define HEADER_RANGES_MAX 33
/* What a header copy may take in memory: LUKS2 allows 4 MiB headers and
 * 128 MiB of keyslots, but only the areas in use are copied. */
#define HEADER_COPY_MAX (UINT64_C(2) * 4 * 1024 * 1024 + UINT64_C(128) * 1024 * 1024)
#define FD_PATH_PREFIX "/proc/self/fd/"

static int copy_range(int from, int to, const struct luks_header_range *rg) {
        char buf[64 * 1024];

        for (uint64_t done = 0; done < rg->size;) {
                size_t want = rg->size - done < sizeof(buf) ? (size_t) (rg->size - done) : sizeof(buf);
                ssize_t n = pread(from, buf, want, (off_t) (rg->offset + done));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;  /* the device ends inside its own header */
                if (pwrite(to, buf, (size_t) n, (off_t) (rg->offset + done)) != n)
                        return errno ? -errno : -EIO;
                done += (uint64_t) n;
        }
        return 0;
}
/* Both metadata copies of a candidate size into a new buffer, judged. */
static int read_copies(int fd, uint64_t md, uint8_t **ret_area, struct luks_copies *ret) {
        _cleanup_free_ uint8_t *area = malloc(2 * md);
        int r;

        if (!area)
                return -ENOMEM;
        if ((r = pread_exact(fd, area, 2 * md, 0)) < 0 || (r = luks_copies_judge(area, 2 * md, md, ret)) < 0)
                return r;
        *ret_area = TAKE_PTR(area);
        return 0;
}

/* Find the metadata and read both copies, as libcryptsetup would find them:
 * the size the primary copy states, else (primary wiped or damaged with the
 * backup not where it says) the first intact backup at one of the sizes
 * LUKS2 allows. libcryptsetup never says which copy it used, so a damaged one
 * is told here: a disk going bad, an interrupted update, or a rewrite. */
static int read_metadata(int fd, const char *path, uint8_t **ret_area, struct luks_copies *ret, char **why) {
        uint8_t hdr[LUKS_BIN_HDR_SIZE];
        uint64_t md;
        int r;

        if ((r = pread_exact(fd, hdr, sizeof(hdr), 0)) < 0)
                return why_set(why, r, "cannot read the LUKS2 header: %s", strerror(-r));
        if (luks_copy_is_luks1(hdr))
                return why_set(why, EMEDIUMTYPE, "LUKS1 header, not LUKS2: refusing");
        md = luks_copy_size_primary(hdr);
        if (md && (r = read_copies(fd, md, ret_area, ret)) < 0 && r != -EIO)
                return why_set(why, r, "cannot read the LUKS2 header: %s", strerror(-r));
        if (!md || r < 0 || (ret->state[0] != LUKS_COPY_OK && ret->state[1] != LUKS_COPY_OK)) {
                struct luks_copies primary = md && r >= 0 ? *ret : (struct luks_copies) { 0 };

                free(*ret_area);
                *ret_area = NULL;
                for (const uint64_t *o = luks_copy_backup_offsets; *o && !*ret_area; o++) {
                        struct luks_copies c;
                        uint8_t *area = NULL;

                        if (pread_exact(fd, hdr, sizeof(hdr), *o) < 0 || !luks_copy_size_backup(hdr, *o) ||
                            read_copies(fd, *o, &area, &c) < 0)
                                continue;
                        if (c.state[1] == LUKS_COPY_OK) {
                                *ret_area = area;
                                *ret = c;
                        } else
                                free(area);
                }
                if (!*ret_area) {
                        if (!md)
                                return why_set(why, EMEDIUMTYPE, "no LUKS header (neither a LUKS2 primary copy nor an intact backup copy)");
                        return why_set(why, EMEDIUMTYPE, "no intact LUKS2 header copy: the primary copy: %s; the backup copy: %s",
                                       luks_copy_state_to_string(primary.state[0]),
                                       luks_copy_state_to_string(primary.state[1]));
                }
        }
        if (ret->state[0] != LUKS_COPY_OK)
                log_warn("%s: the primary LUKS2 header is damaged (%s): using the backup copy; 'cryptsetup repair %s' rewrites it",
                            path, luks_copy_state_to_string(ret->state[0]), path);
        else if (ret->state[1] != LUKS_COPY_OK)
                log_warn("%s: the backup LUKS2 header is damaged (%s): using the primary copy; 'cryptsetup repair %s' rewrites it",
                            path, luks_copy_state_to_string(ret->state[1]), path);
        else if (ret->seqid[0] != ret->seqid[1])
                log_warn("%s: the two LUKS2 header copies differ (sequence %" PRIu64 " and %" PRIu64 "): using the newer; an update was interrupted or one copy was rewritten",
                            path, ret->seqid[0], ret->seqid[1]);
        return 0;
}

/* The keyslot areas in use, from a first load of the metadata copy: which
 * ranges to copy and how big the whole header is. Nothing it read is used
 * after; the copy is loaded again once complete. */
static int header_areas(const char *hdr, const char *path, uint64_t md, uint64_t *ret_end,
                        struct luks_header_range *ranges, int *ret_n, char **why) {
        struct crypt_device *cd = NULL;
        const char *json = NULL;
        uint64_t md2 = 0, ks = 0;
        int r;

        r = crypt_init_data_device(&cd, hdr, path);
        if (r < 0)
                return why_set(why, r, "cannot open: %s", strerror(-r));
        crypt_set_log_callback(cd, crypt_log_cb, NULL);
        r = crypt_load(cd, CRYPT_LUKS2, NULL);
        if (r < 0) {
                crypt_free(cd);
                return why_set(why, r == -EINVAL ? EMEDIUMTYPE : r, "no LUKS2 header in the copy read (%s)",
                               strerror(-r));
        }
        r = crypt_get_metadata_size(cd, &md2, &ks);
        if (r >= 0 && (md2 != md || 2 * md + ks > HEADER_COPY_MAX))
                r = -EFBIG;
        if (r >= 0)
                r = crypt_dump_json(cd, &json, 0);
        if (r >= 0)
                r = luks_header_ranges(json, md, ks, ranges, HEADER_RANGES_MAX);
        crypt_free(cd);
        if (r < 0)
                return why_set(why, r, "cannot read the LUKS2 header's size: %s", strerror(-r));
        *ret_n = r;
        *ret_end = 2 * md + ks;
        return 0;
}

/* Read the header once into memory (a sealed memfd): the metadata copies
 * and the keyslot areas in use, at their own offsets. The device itself is
 * only read: libcryptsetup would repair a damaged copy in place, writing to
 * a disk nobody has judged yet; here it repairs the memory copy. */
static int header_copy(const char *path, int *ret, char **why) {
        struct luks_header_range ranges[HEADER_RANGES_MAX];
        _cleanup_close_ int fd = -1, mfd = -1;
        _cleanup_free_ uint8_t *area = NULL;
        char hdr[sizeof(FD_PATH_PREFIX) + 12];
        struct luks_copies copies;
        struct stat st;
        uint64_t end = 0;
        int n = 0, r;

        /* Non-blocking: the CLI's IMAGE argument may name anything (a
         * symlink such as /dev/disk/by-label/X is fine); only a block device
         * or an image file is read. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return why_set(why, errno, "cannot open: %s", strerror(errno));
        if (fstat(fd, &st) < 0)
                return why_set(why, errno, "cannot open: %s", strerror(errno));
        if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
                return why_set(why, ENOTBLK, "neither a block device nor an image file: refusing");
        if ((r = read_metadata(fd, path, &area, &copies, why)) < 0)
                return r;
        mfd = memfd_create("luks2-header", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        /* Sized, sparsely, for the largest header until the first load says
         * how big its keyslot area is: libcryptsetup refuses a header device
         * shorter than the areas its JSON names. */
        if (mfd < 0 || ftruncate(mfd, (off_t) HEADER_COPY_MAX) < 0 ||
            pwrite(mfd, area, 2 * copies.metadata_size, 0) != (ssize_t) (2 * copies.metadata_size))
                return why_set(why, errno ? errno : EIO, "cannot hold the LUKS2 header in memory: %s", strerror(errno));
        snprintf(hdr, sizeof(hdr), FD_PATH_PREFIX "%d", mfd);
        if ((r = header_areas(hdr, path, copies.metadata_size, &end, ranges, &n, why)) < 0)
                return r;
        if (ftruncate(mfd, (off_t) end) < 0)
                return why_set(why, errno, "cannot hold the LUKS2 header in memory: %s", strerror(errno));
        /* ranges[0] is the metadata, already there (maybe repaired). */
        for (int i = 1; i < n; i++)
                if ((r = copy_range(fd, mfd, &ranges[i])) < 0)
                        return why_set(why, r, "cannot read the LUKS2 header: %s", strerror(-r));
        *ret = TAKE_FD(mfd);
        return 0;
}

int luks_load(const char *path, const char *const *ciphers, struct crypt_device **ret, char **why) {
        struct crypt_device *cd = NULL;
        _cleanup_close_ int mfd = -1;
        char hdr[sizeof(FD_PATH_PREFIX) + 12];
        const char *json = NULL;
        int r;

        crypt_set_log_callback(NULL, crypt_log_cb, NULL);
        /* The token JSON is read here; systemd's own token plugin is never
         * loaded into this process (nor validates the tokens for us). */
        crypt_token_external_disable();
        r = header_copy(path, &mfd, why);
        if (r < 0)
                return r;
        /* The copy is the header from now on (a detached header over the
         * device's data): what is checked below is what gets opened, even
         * from a device that would answer a second read differently. */
        snprintf(hdr, sizeof(hdr), FD_PATH_PREFIX "%d", mfd);
        r = crypt_init_data_device(&cd, hdr, path);
        if (r < 0)
                return why_set(why, r, "cannot open: %s", strerror(-r));
        crypt_set_log_callback(cd, crypt_log_cb, NULL);
        r = crypt_load(cd, CRYPT_LUKS2, NULL);
        if (r >= 0)
                r = crypt_dump_json(cd, &json, 0);
        if (r < 0) {
                crypt_free(cd);
                return why_set(why, r == -EINVAL ? EMEDIUMTYPE : r, "no LUKS2 header in the copy read (%s)",
                               strerror(-r));
        }
        r = luks_header_check(json, ciphers, why);
        if (r >= 0 && crypt_get_volume_key_size(cd) < 32)
                r = why_set(why, LUKS_HEADER_REFUSED, "LUKS2 volume key is shorter than 256 bits");
        /* Nothing, in this process or a child, changes the copy after it
         * was judged. */
        if (r >= 0 && fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                r = why_set(why, errno, "cannot seal the LUKS2 header copy: %s", strerror(errno));
        if (r < 0) {
                crypt_free(cd);
                if (r == -LUKS_HEADER_REFUSED && why && *why)
                        why_set(why, r, "%s: refused", *why);
                return r;
        }
        TAKE_FD(mfd);   /* closed by luks_free(), with the context */
        *ret = cd;
        return 0;
}

void luks_free(struct crypt_device *cd) {
        const char *md = cd ? crypt_get_metadata_device_name(cd) : NULL;
        const char *s = md ? startswith(md, FD_PATH_PREFIX) : NULL;
        unsigned fd;

        /* The memfd that holds the header copy goes with its context. */
        if (s && crypt_header_is_detached(cd) > 0 && safe_atou(s, &fd) >= 0) {
                crypt_free(cd);
                close((int) fd);
                return;
        }
        crypt_free(cd);
}

bool luks_is_tpm2_token(struct crypt_device *cd, int id) {
        const char *type = NULL;
        crypt_token_info info = crypt_token_status(cd, id, &type);
        return (info == CRYPT_TOKEN_EXTERNAL || info == CRYPT_TOKEN_EXTERNAL_UNKNOWN) &&
               streq_ptr(type, "systemd-tpm2");
}

int luks_count_tpm2_tokens(struct crypt_device *cd) {
        int n = 0, max = crypt_token_max(CRYPT_LUKS2);
        for (int id = 0; id < max; id++)
                n += luks_is_tpm2_token(cd, id);
        return n;
}

int luks_tpm2_passphrase(const struct secret *key, struct secret **ret) {
        struct secret *p;
        int r = secret_new((key->size + 2) / 3 * 4 + 1, &p);
        if (r < 0)
                return r;
        p->size = base64_encode(key->data, key->size, (char *) p->data);
        *ret = p;
        return 0;
}

/* systemd's way when the volume key is measured (cryptsetup.c,
 * measured_crypt_activate_by_passphrase()): the volume key first, into a
 * locked buffer, its PCR 15 HMACs, then the mapping from that key. The key
 * is wiped on return; only the HMACs leave. */
static int activate_measured(struct crypt_device *cd, const char *name, int keyslot, const struct secret *pass,
                             struct pcr15_digests *measure) {
        _cleanup_secret_ struct secret *vk = NULL;
        int size = crypt_get_volume_key_size(cd), slot, r;
        size_t vks;

        if (size <= 0)
                return -EINVAL;
        r = secret_new((size_t) size, &vk);
        if (r < 0)
                return r;
        vks = vk->size;
        slot = crypt_volume_key_get(cd, keyslot, (char *) vk->data, &vks, (const char *) pass->data, pass->size);
        if (slot < 0)
                return slot;
        vk->size = vks;
        r = pcr15_digests_compute(vk, name, crypt_get_uuid(cd), measure);
        if (r < 0)
                return r;
        r = crypt_activate_by_volume_key(cd, name, (const char *) vk->data, vk->size, 0);
        return r < 0 ? r : slot;
}

static int activate(struct crypt_device *cd, const char *name, int keyslot, const struct secret *pass,
                    struct pcr15_digests *measure, char **why) {
        int r = measure && name ? activate_measured(cd, name, keyslot, pass, measure) :
                crypt_activate_by_passphrase(cd, name, keyslot, (const char *) pass->data, pass->size, 0);
        if (r == -EPERM)
                return why_set(why, r, keyslot == CRYPT_ANY_SLOT ? "key does not open any keyslot" :
                               "unsealed key does not open keyslot %d", keyslot);
        if (r < 0)
                return why_set(why, r, "cannot %s: %s", name ? "activate" : "check the keyslot", strerror(-r));
        return r;
}

/* Append "token N: reason" to the collected reasons. */
static void collect(char **all, int id, const char *reason) {
        char *s = NULL;
        if (asprintf(&s, "%s%stoken %d: %s", *all ? *all : "", *all ? "; " : "", id, strempty(reason)) >= 0) {
                free(*all);
                *all = s;
        }
}

void luks_key_done(struct luks_key *k) {
        secret_free(k->pass);
        *k = (struct luks_key) { .token = -1, .keyslot = -1 };
}

int luks_tpm2_token_get(struct crypt_device *cd, int id, struct tpm2_token *ret, char **why) {
        const char *json = NULL;
        int r = crypt_token_json_get(cd, id, &json);

        if (r < 0)
                return why_set(why, r, "cannot read the token: %s", strerror(-r));
        return tpm2_token_parse(json, ret, why);
}

static int unseal_token(struct crypt_device *cd, int id, struct tpm2_ctx *tpm, const struct tpm2_unseal_args *a,
                        struct luks_key *ret, char **why) {
        _cleanup_secret_ struct secret *key = NULL;
        struct tpm2_token t;
        int r;

        r = luks_tpm2_token_get(cd, id, &t, why);
        if (r < 0)
                return r;
        r = tpm2_unseal(tpm, &t, a, &key, why);
        if (r >= 0)
                r = luks_tpm2_passphrase(key, &ret->pass);
        if (r >= 0) {
                ret->token = id;
                ret->keyslot = t.keyslot;
        }
        tpm2_token_done(&t);
        return r;
}

/* Try the tokens from `from` on; the first that unseals wins. */
static int unseal_from(struct crypt_device *cd, int from, struct tpm2_ctx *tpm, const struct tpm2_unseal_args *a,
                       struct luks_key *ret, char **all) {
        int max = crypt_token_max(CRYPT_LUKS2), last = -ENOENT;
        bool lockout = false, wrong_pin = false;

        for (int id = from; id < max; id++) {
                _cleanup_free_ char *reason = NULL;
                int r;

                if (!luks_is_tpm2_token(cd, id))
                        continue;
                r = unseal_token(cd, id, tpm, a, ret, &reason);
                if (r >= 0)
                        return 0;
                log_debug("token %d: %s", id, strempty(reason));
                collect(all, id, reason);
                last = r;
                lockout = lockout || r == -EBUSY;
                wrong_pin = wrong_pin || r == -EACCES;
        }
        /* A lockout, then a wrong PIN, is what the caller must explain
         * (with the TPM's counter), whichever token said it. */
        return lockout ? -EBUSY : wrong_pin ? -EACCES : last;
}

int luks_unseal_tpm2(struct crypt_device *cd, struct tpm2_ctx *tpm, const struct tpm2_unseal_args *a,
                     struct luks_key *ret, char **why) {
        _cleanup_free_ char *all = NULL;
        int r;

        *ret = (struct luks_key) { .token = -1, .keyslot = -1 };
        if (luks_count_tpm2_tokens(cd) == 0)
                return why_set(why, ENOENT, "no systemd-tpm2 token");
        r = unseal_from(cd, 0, tpm, a, ret, &all);
        if (r < 0)
                why_set(why, r, "%s", all ? all : "no token could be used");
        return r;
}

int luks_unlock_tpm2(struct crypt_device *cd, struct tpm2_ctx *tpm, const struct tpm2_unseal_args *a,
                     const char *name, struct luks_result *ret, char **why) {
        _cleanup_free_ char *all = NULL;
        int from = 0, r = -ENOENT;

        if (luks_count_tpm2_tokens(cd) == 0)
                return why_set(why, ENOENT, "no systemd-tpm2 token");
        /* A token whose key does not open its keyslot makes way for the next. */
        for (;;) {
                struct luks_key k;
                _cleanup_free_ char *reason = NULL;

                k = (struct luks_key) { .token = -1, .keyslot = -1 };
                r = unseal_from(cd, from, tpm, a, &k, &all);
                if (r < 0)
                        break;
                r = activate(cd, name, k.keyslot, k.pass, NULL, &reason);
                if (r >= 0) {
                        *ret = (struct luks_result) { .token = k.token, .keyslot = k.keyslot };
                        luks_key_done(&k);
                        return 0;
                }
                collect(&all, k.token, reason);
                from = k.token + 1;
                luks_key_done(&k);
        }
        why_set(why, r, "%s", all ? all : "no token could be used");
        return r;
}

static void activate_job(struct luks_job *j) {
        j->result = activate(j->cd, j->name, j->key->keyslot, j->key->pass, j->measure, &j->why);
}

/* The HMACs a child computed come back through a pipe: plain data, no key;
 * the child has exited, so the read ends at EOF. */
static int read_measure(int fd, struct pcr15_digests *d) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = read_full_fd(fd, sizeof(*d), &buf, &len);

        if (r < 0)
                return r;
        if (len != sizeof(*d))
                return -EPIPE;
        memcpy(d, buf, sizeof(*d));
        return 0;
}

size_t luks_activate_all(struct luks_job *jobs, size_t n) {
        pid_t *pids;
        size_t failed = 0;

        if (n == 1) {
                activate_job(&jobs[0]);
                return jobs[0].result < 0;
        }
        pids = calloc(n, sizeof(*pids));
        int (*fds)[2] = calloc(n, sizeof(*fds));
        if (!pids || !fds) {
                free(pids);
                free(fds);
                return n;
        }
        for (size_t i = 0; i < n; i++) {
                fds[i][0] = fds[i][1] = -1;
                /* The digests fit in the pipe buffer: the child never blocks. */
                if (jobs[i].measure && pipe2(fds[i], O_CLOEXEC) < 0) {
                        pids[i] = -1;
                        activate_job(&jobs[i]);
                        continue;
                }
                pids[i] = fork();
                if (pids[i] == 0) {
                        /* The child only activates; it never touches the TPM
                         * context and leaves without running any cleanup. */
                        int r = activate(jobs[i].cd, jobs[i].name, jobs[i].key->keyslot, jobs[i].key->pass,
                                         jobs[i].measure, NULL);
                        if (r >= 0 && jobs[i].measure &&
                            write(fds[i][1], jobs[i].measure, sizeof(*jobs[i].measure)) != (ssize_t) sizeof(*jobs[i].measure))
                                r = -EPIPE;
                        _exit(r < 0 ? (-r & 0xff) : 0);
                }
                if (fds[i][1] >= 0)
                        close(fds[i][1]);
                if (pids[i] < 0)
                        activate_job(&jobs[i]);  /* no fork: do it here */
        }
        for (size_t i = 0; i < n; i++) {
                int status, err;

                if (pids[i] <= 0) {
                        if (fds[i][0] >= 0)
                                close(fds[i][0]);
                        continue;
                }
                while (waitpid(pids[i], &status, 0) < 0)
                        if (errno != EINTR) {
                                status = -1;
                                break;
                        }
                err = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
                if (!err && jobs[i].measure && read_measure(fds[i][0], jobs[i].measure) < 0)
                        err = EPIPE;
                if (fds[i][0] >= 0)
                        close(fds[i][0]);
                /* The reason is rebuilt here from the errno the child left. */
                jobs[i].result = err ? why_set(&jobs[i].why, err, err == EPERM ? "unsealed key does not open keyslot %d" :
                                               "cannot open keyslot %d: %s", jobs[i].key->keyslot, strerror(err))
                                     : jobs[i].key->keyslot;
        }
        for (size_t i = 0; i < n; i++)
                failed += jobs[i].result < 0;
        free(pids);
        free(fds);
        return failed;
}

int luks_unlock_secret(struct crypt_device *cd, const struct secret *key, const char *name,
                       struct pcr15_digests *measure, struct luks_result *ret, char **why) {
        int r = activate(cd, name, CRYPT_ANY_SLOT, key, measure, why);
        if (r < 0)
                return r;
        *ret = (struct luks_result) { .token = -1, .keyslot = r };
        return 0;
}

int luks_open_for_write(const char *path, struct crypt_device *judged, struct crypt_device **ret, char **why) {
        _cleanup_free_ char *then = NULL;
        struct crypt_device *cd = NULL;
        const char *json = NULL;
        int r;

        r = crypt_dump_json(judged, &json, 0);
        if (r < 0 || !(then = strdup(json)))
                return why_set(why, r < 0 ? r : -ENOMEM, "cannot read the judged LUKS2 header");
        r = crypt_init(&cd, path);
        if (r >= 0)
                r = crypt_load(cd, CRYPT_LUKS2, NULL);
        if (r >= 0)
                r = crypt_dump_json(cd, &json, 0);
        if (r < 0) {
                crypt_free(cd);
                return why_set(why, r, "cannot open the LUKS2 header for writing: %s", strerror(-r));
        }
        if (!streq(json, then)) {
                crypt_free(cd);
                return why_set(why, ESTALE, "the LUKS2 header changed after it was checked: refused");
        }
        *ret = cd;
        return 0;
}
