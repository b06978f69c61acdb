/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include "root-fs.h"
#include "efisiglist.h"
#include "log.h"
#include "sysext-anchor.h"
#include "why.h"

const char *const sysext_anchor_cert_dirs[] = {
        "/usr/lib/verity.d",
        "/etc/verity.d",
        NULL,
};

const char *const sysext_anchor_efi_vars[] = {
        "PK-8be4df61-93ca-11d2-aa0d-00e098032b8c",
        "KEK-8be4df61-93ca-11d2-aa0d-00e098032b8c",
        "db-d719b2cb-3d3a-4596-a3bc-dad00e67656f",
        NULL,
};

/* A certificate file or EFI variable is a few KiB; db with many entries a
 * few dozen. */
#define ANCHOR_FILE_MAX (1024 * 1024)

static void bio_freep(BIO **p) { BIO_free(*p); }
static void x509_freep(X509 **p) { X509_free(*p); }

int sysext_anchor_init(struct sysext_anchor *a) {
        *a = (struct sysext_anchor) {};
        a->certs = sk_X509_new_null();
        return a->certs ? 0 : -ENOMEM;
}

void sysext_anchor_done(struct sysext_anchor *a) {
        sk_X509_pop_free(a->certs, X509_free);
        a->certs = NULL;
        strv_clear(&a->origins);
}

size_t sysext_anchor_count(const struct sysext_anchor *a) {
        return a->certs ? (size_t) sk_X509_num(a->certs) : 0;
}

/* Takes the certificate. 1: added, 0: already there (PK, KEK and db often
 * hold the same one). */
static int add_cert(struct sysext_anchor *a, X509 *cert, const char *origin) {
        _cleanup_(x509_freep) X509 *c = cert;

        for (int i = 0; i < sk_X509_num(a->certs); i++)
                if (X509_cmp(sk_X509_value(a->certs, i), c) == 0)
                        return 0;
        if (strv_push(&a->origins, origin) < 0)
                return -ENOMEM;
        if (sk_X509_push(a->certs, c) <= 0) {
                free(a->origins.v[--a->origins.n]);
                a->origins.v[a->origins.n] = NULL;
                return -ENOMEM;
        }
        c = NULL;
        return 1;
}

int sysext_anchor_add_pem(struct sysext_anchor *a, const char *pem, size_t size, const char *origin, char **why) {
        _cleanup_(bio_freep) BIO *bio = NULL;
        int added = 0, found = 0;

        if (size > INT32_MAX)
                return why_set(why, EFBIG, "%s: too large", origin);
        bio = BIO_new_mem_buf(pem, (int) size);
        if (!bio)
                return -ENOMEM;
        for (;;) {
                X509 *c = PEM_read_bio_X509(bio, NULL, NULL, NULL);
                int r;
                if (!c)
                        break;
                found++;
                r = add_cert(a, c, origin);
                if (r < 0)
                        return r;
                added += r;
        }
        ERR_clear_error();  /* the end of the PEM text is reported as an error */
        if (found == 0)
                return why_set(why, EBADMSG, "%s: no PEM certificate", origin);
        return added;
}

static int read_file(int dir_fd, const char *name, int flags, size_t max, uint8_t **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        /* Never blocking: a FIFO is refused below, not waited on. */
        fd = openat(dir_fd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | flags);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        /* efivarfs reports a size of 0 before the first read on some kernels;
         * the buffer is NUL-terminated, as PEM callers treat it as text. */
        return read_full_fd(fd, max, (char **) ret, ret_size);
}

int sysext_read_file_at(int dir_fd, const char *name, size_t max, uint8_t **ret, size_t *ret_size) {
        return read_file(dir_fd, name, O_NOFOLLOW, max, ret, ret_size);
}

int sysext_anchor_add_cert_file(struct sysext_anchor *a, const char *path, char **why) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t size;
        int r;

        /* A file named by the caller, who may name a symlink
         * (/etc/ssl/certs holds nothing else). */
        r = read_file(AT_FDCWD, path, 0, ANCHOR_FILE_MAX, &buf, &size);
        if (r < 0)
                return why_set(why, r, "certificate %s: %s", path, strerror(-r));
        return sysext_anchor_add_pem(a, (const char *) buf, size, path, why);
}

int sysext_anchor_add_cert_dir(struct sysext_anchor *a, int root_fd, const char *dir) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *open_why = NULL;
        DIR *d;
        struct dirent *de;
        int r, total = 0;

        r = root_open_flags(root_fd, dir, RESOLVE_TARGET, O_RDONLY | O_DIRECTORY, &fd, &open_why);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_warn_errno(r, "trust anchor %s: %s", dir, open_why ? open_why : strerror(-r));
        d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -1;  /* owned by d now */
        while ((de = readdir(d))) {
                _cleanup_free_ uint8_t *buf = NULL;
                _cleanup_free_ char *origin = NULL, *why = NULL;
                size_t n = strlen(de->d_name), size;

                if (n <= 4 || !streq(de->d_name + n - 4, ".crt"))
                        continue;
                if (asprintf(&origin, "%s/%s", dir, de->d_name) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
                r = sysext_read_file_at(dirfd(d), de->d_name, ANCHOR_FILE_MAX, &buf, &size);
                if (r < 0) {
                        log_warn("trust anchor %s: skipped: %s", origin, strerror(-r));
                        continue;
                }
                r = sysext_anchor_add_pem(a, (const char *) buf, size, origin, &why);
                if (r == -ENOMEM) {
                        closedir(d);
                        return r;
                }
                if (r < 0) {
                        log_warn("trust anchor %s: skipped: %s", origin, why ? why : strerror(-r));
                        continue;
                }
                total += r;
        }
        closedir(d);
        return total;
}

int sysext_anchor_add_cert_dirs(struct sysext_anchor *a, int root_fd) {
        int total = 0;

        for (const char *const *d = sysext_anchor_cert_dirs; *d; d++) {
                int r = sysext_anchor_add_cert_dir(a, root_fd, *d);
                if (r == -ENOMEM)
                        return r;
                if (r > 0)
                        total += r;
        }
        return total;
}

struct efi_ctx {
        struct sysext_anchor *a;
        const char *origin;
        char **why;
        int added;
};

static int efi_entry(const struct efi_sig_entry *e, void *userdata) {
        struct efi_ctx *c = userdata;
        const unsigned char *p = e->data;
        X509 *cert;
        int r;

        if (e->size > LONG_MAX)
                return why_set(c->why, EBADMSG, "list %u: entry too large", e->list);
        cert = d2i_X509(NULL, &p, (long) e->size);
        ERR_clear_error();
        if (!cert)
                return why_set(c->why, EBADMSG, "list %u: the X.509 entry at offset %zu is not a DER certificate",
                               e->list, e->offset);
        r = add_cert(c->a, cert, c->origin);
        if (r < 0)
                return r;
        c->added += r;
        return 0;
}

int sysext_anchor_add_efi_var(struct sysext_anchor *a, const uint8_t *buf, size_t size, bool with_attributes,
                              const char *origin, char **why) {
        struct efi_ctx c = { .a = a, .origin = origin, .why = why };
        const uint8_t *data = buf;
        size_t n = size;
        int r;

        if (with_attributes && efi_var_data(buf, size, &data, &n, NULL) < 0)
                return why_set(why, EBADMSG, "%s: shorter than the 4 attribute bytes", origin);
        r = efi_siglist_parse(data, n, efi_entry, &c, NULL, why);
        if (r < 0) {
                why_prefix(why, "%s", origin);
                return r;
        }
        return c.added;
}

/* efivarfs attribute words use the low 7 bits (NV, BS, RT, HW error,
 * authenticated write, time-based authenticated write, append); a bare list
 * starts with a type GUID, whose first bytes are never that small. */
static bool looks_like_efivarfs(const uint8_t *buf, size_t size) {
        return size >= 4 && buf[0] < 0x80 && buf[1] == 0 && buf[2] == 0 && buf[3] == 0;
}

int sysext_anchor_add_efi_file(struct sysext_anchor *a, const char *path, char **why) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t size;
        int r;

        r = read_file(AT_FDCWD, path, 0, ANCHOR_FILE_MAX, &buf, &size);
        if (r < 0)
                return why_set(why, r, "EFI variable %s: %s", path, strerror(-r));
        return sysext_anchor_add_efi_var(a, buf, size, looks_like_efivarfs(buf, size), path, why);
}

int sysext_anchor_add_efivars(struct sysext_anchor *a, int efivars_fd) {
        int total = 0;

        for (const char *const *v = sysext_anchor_efi_vars; *v; v++) {
                _cleanup_free_ uint8_t *buf = NULL;
                _cleanup_free_ char *why = NULL;
                char origin[64];
                size_t size;
                int r;

                /* The variable's own name, without the vendor GUID. */
                snprintf(origin, sizeof(origin), "efi-%.*s", (int) strcspn(*v, "-"), *v);
                r = sysext_read_file_at(efivars_fd, *v, ANCHOR_FILE_MAX, &buf, &size);
                if (r == -ENOENT) {
                        log_debug("trust anchor: EFI variable %s is not set", origin + 4);
                        continue;
                }
                if (r < 0) {
                        log_warn("trust anchor: EFI variable %s: %s", origin + 4, strerror(-r));
                        continue;
                }
                r = sysext_anchor_add_efi_var(a, buf, size, true, origin, &why);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        log_warn("trust anchor: refused %s", why ? why : strerror(-r));
                        continue;
                }
                total += r;
        }
        return total;
}

static void sanitize(char *s) {
        for (; *s; s++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", *s))
                        *s = '_';
}

int sysext_anchor_write_pem(const struct sysext_anchor *a, int dir_fd, char **why) {
        for (int i = 0; i < sk_X509_num(a->certs); i++) {
                _cleanup_(bio_freep) BIO *bio = BIO_new(BIO_s_mem());
                _cleanup_close_ int fd = -1;
                char name[96], label[64];
                const char *base = strrchr(a->origins.v[i], '/');
                char *pem;
                long len;

                if (!bio || !PEM_write_bio_X509(bio, sk_X509_value(a->certs, i)))
                        return -ENOMEM;
                len = BIO_get_mem_data(bio, &pem);
                snprintf(label, sizeof(label), "%s", base ? base + 1 : a->origins.v[i]);
                label[strcspn(label, ".")] = 0;
                sanitize(label);
                snprintf(name, sizeof(name), "%02d-%s.crt", i, label);
                fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0444);
                if (fd < 0)
                        return why_set(why, errno, "cannot create %s: %m", name);
                for (long off = 0; off < len;) {
                        ssize_t k = write(fd, pem + off, (size_t) (len - off));
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0)
                                return why_set(why, k < 0 ? errno : EIO, "cannot write %s: %m", name);
                        off += k;
                }
        }
        return 0;
}
