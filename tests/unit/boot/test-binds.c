/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Seeding a state dir from the image: what is copied, what is kept, and
 * that owner, mode, times, xattrs, ACLs, symlinks, device nodes and fifos
 * survive; symlinks are never followed; nothing is deleted or left half
 * written. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "root-fs.h"
#include "seed-test.h"

static int setup(void **state) {
        *state = seed_dirs_new();
        return 0;
}

static int seed(struct seed_dirs *t, enum seed_policy pol, struct seed_stats *st) {
        return seed_paths(t->src, t->dst, pol, st);
}

static void readfile(const char *dir, const char *name, char *buf, size_t size) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        FILE *f = fopen(p, "re");
        assert_non_null(f);
        size_t n = fread(buf, 1, size - 1, f);
        buf[n] = '\0';
        fclose(f);
}

static void writefile(const char *dir, const char *name, const char *text, const char *when) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        if (when)
                sh("touch -h -d '%s' '%s'", when, p);
}

/* POSIX ACL as the kernel stores it in system.posix_acl_access:
 * user::rw- user:1000:r-- group::r-- mask::r-- other::--- */
static const uint8_t acl_blob[] = {
        2, 0, 0, 0,
        0x01, 0, 6, 0, 0xff, 0xff, 0xff, 0xff,
        0x02, 0, 4, 0, 0xe8, 0x03, 0, 0,
        0x04, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
        0x10, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
        0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
};

static void test_metadata_preserved(void **state) {
        struct seed_dirs *t = *state;
        struct seed_stats st;
        char p[512], q[512], buf[256];
        struct stat a, b;

        sh("mkdir -m 0750 %s/sub && chown 1234:5678 %s/sub", t->src, t->src);
        writefile(t->src, "sub/conf", "hello\n", "2020-02-03 04:05:06.123456789");
        sh("chown 1234:5678 %s/sub/conf && chmod 0640 %s/sub/conf", t->src, t->src);
        snprintf(p, sizeof p, "%s/sub/conf", t->src);
        assert_int_equal(setxattr(p, "user.usi-test", "v1", 2, 0), 0);
        bool acl = setxattr(p, "system.posix_acl_access", acl_blob, sizeof acl_blob, 0) == 0;
        sh("touch -d '2020-02-03 04:05:06.123456789' %s", p);
        sh("ln -s /etc/passwd %s/sub/link && chown -h 1234:5678 %s/sub/link", t->src, t->src);
        sh("mknod %s/null c 1 3 && mkfifo -m 0620 %s/fifo && chmod u+s,g+s %s/sub/conf", t->src, t->src, t->src);
        sh("touch -d 2019-01-01 %s/sub", t->src);

        assert_int_equal(seed(t, SEED_MISSING, &st), 0);
        assert_int_equal(st.copied, 5);

        snprintf(q, sizeof q, "%s/sub/conf", t->dst);
        assert_int_equal(lstat(p, &a), 0);
        assert_int_equal(lstat(q, &b), 0);
        assert_int_equal(b.st_uid, 1234);
        assert_int_equal(b.st_gid, 5678);
        assert_int_equal(b.st_mode, a.st_mode);  /* set-id bits too */
        assert_int_equal(b.st_mtim.tv_sec, a.st_mtim.tv_sec);
        assert_int_equal(b.st_mtim.tv_nsec, a.st_mtim.tv_nsec);
        readfile(t->dst, "sub/conf", buf, sizeof buf);
        assert_string_equal(buf, "hello\n");
        assert_int_equal(getxattr(q, "user.usi-test", buf, sizeof buf), 2);
        assert_memory_equal(buf, "v1", 2);
        if (acl) {
                uint8_t got[sizeof acl_blob + 16];
                assert_int_equal(getxattr(q, "system.posix_acl_access", got, sizeof got), sizeof acl_blob);
                assert_memory_equal(got, acl_blob, sizeof acl_blob);
        }

        snprintf(p, sizeof p, "%s/sub", t->src);
        snprintf(q, sizeof q, "%s/sub", t->dst);
        assert_int_equal(lstat(p, &a), 0);
        assert_int_equal(lstat(q, &b), 0);
        assert_int_equal(b.st_mode, a.st_mode);
        assert_int_equal(b.st_uid, 1234);
        assert_int_equal(b.st_mtim.tv_sec, a.st_mtim.tv_sec);  /* set after its contents */

        snprintf(q, sizeof q, "%s/sub/link", t->dst);
        assert_int_equal(lstat(q, &b), 0);
        assert_true(S_ISLNK(b.st_mode));
        assert_int_equal(b.st_uid, 1234);
        ssize_t n = readlink(q, buf, sizeof buf - 1);
        assert_int_equal(n, strlen("/etc/passwd"));

        snprintf(q, sizeof q, "%s/null", t->dst);
        assert_int_equal(lstat(q, &b), 0);
        assert_true(S_ISCHR(b.st_mode));
        assert_int_equal(major(b.st_rdev), 1);
        assert_int_equal(minor(b.st_rdev), 3);
        snprintf(q, sizeof q, "%s/fifo", t->dst);
        assert_int_equal(lstat(q, &b), 0);
        assert_true(S_ISFIFO(b.st_mode));
        assert_int_equal(b.st_mode & 07777, 0620);
}

static void test_missing_keeps_everything_else(void **state) {
        struct seed_dirs *t = *state;
        struct seed_stats st;
        char buf[256];

        writefile(t->src, "edited", "image\n", "2030-01-01");
        writefile(t->src, "new", "image new\n", NULL);
        writefile(t->dst, "edited", "user\n", "2000-01-01");
        writefile(t->dst, "only-mine", "mine\n", NULL);

        assert_int_equal(seed(t, SEED_MISSING, &st), 0);
        assert_int_equal(st.copied, 1);
        readfile(t->dst, "edited", buf, sizeof buf);
        assert_string_equal(buf, "user\n");         /* older, but missing never replaces */
        readfile(t->dst, "new", buf, sizeof buf);
        assert_string_equal(buf, "image new\n");
        readfile(t->dst, "only-mine", buf, sizeof buf);
        assert_string_equal(buf, "mine\n");         /* never deleted */
}

static void test_newer_replaces_only_older(void **state) {
        struct seed_dirs *t = *state;
        struct seed_stats st;
        char buf[256];

        writefile(t->src, "old-in-state", "image v2\n", "2030-01-01");
        writefile(t->src, "new-in-state", "image v1\n", "2001-01-01");
        writefile(t->dst, "old-in-state", "user\n", "2000-01-01");
        writefile(t->dst, "new-in-state", "user edit\n", "2020-01-01");
        sh("mkdir %s/dir && ln -s dir %s/kind", t->src, t->dst);  /* different kinds */

        assert_int_equal(seed(t, SEED_NEWER, &st), 0);
        assert_int_equal(st.replaced, 1);
        readfile(t->dst, "old-in-state", buf, sizeof buf);
        assert_string_equal(buf, "image v2\n");
        readfile(t->dst, "new-in-state", buf, sizeof buf);
        assert_string_equal(buf, "user edit\n");
}

static void test_symlinks_never_followed(void **state) {
        struct seed_dirs *t = *state;
        struct seed_stats st;
        char p[512];
        struct stat s;

        /* The state dir holds a symlink where the image has a directory: the
         * seed must not write through it into `outside`. */
        sh("mkdir -p %s/etc/deep && echo x >%s/etc/deep/file && ln -s %s %s/etc", t->src, t->src, t->outside, t->dst);
        /* And an image symlink to a directory is copied as a symlink. */
        sh("mkdir %s/real && echo y >%s/real/f && ln -s real %s/alias", t->src, t->src, t->src);

        assert_int_equal(seed(t, SEED_NEWER, &st), 0);
        snprintf(p, sizeof p, "%s/deep", t->outside);
        assert_int_equal(lstat(p, &s), -1);
        snprintf(p, sizeof p, "%s/alias", t->dst);
        assert_int_equal(lstat(p, &s), 0);
        assert_true(S_ISLNK(s.st_mode));
}

static void test_no_temporary_left(void **state) {
        struct seed_dirs *t = *state;
        struct seed_stats st;

        sh("mkdir -p %s/a/b && echo 1 >%s/a/b/c && echo 2 >%s/top", t->src, t->src, t->src);
        assert_int_equal(seed(t, SEED_MISSING, &st), 0);
        /* A second run finds everything present and changes nothing. */
        assert_int_equal(seed(t, SEED_MISSING, &st), 0);
        assert_int_equal(st.copied, 0);
        char cmd[256];
        snprintf(cmd, sizeof cmd, "find %s -name '.#usi-init.*' | grep -q .", t->dir);
        assert_int_equal(system(cmd), 256);
}

static void test_root_check_refuses_escapes(void **state) {
        struct seed_dirs *t = *state;
        _cleanup_free_ char *why = NULL;
        int root, fd;

        sh("ln -s / %s/abs && ln -s ../../../../.. %s/rel && mkdir %s/d && ln -s d %s/inside", t->src, t->src, t->src, t->src);
        root = open(t->src, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(root >= 0);
        assert_true(root_check(root, "/abs/etc", RESOLVE_TARGET, &why) < 0);
        assert_non_null(strstr(why, "/abs is a symlink (to /)"));
        assert_true(root_check(root, "/rel", RESOLVE_TARGET, &why) < 0);
        /* A relative symlink staying inside is followed for targets ... */
        assert_int_equal(root_check(root, "/inside/x", RESOLVE_TARGET, &why), 0);
        /* ... but never in the state dir, and never as the last component. */
        assert_true(root_check(root, "/inside/x", RESOLVE_STRICT, &why) < 0);
        assert_true(root_open(root, "/inside", RESOLVE_TARGET, &fd, &why) < 0);
        /* Missing components are fine for a check, created by mkdir_p. */
        assert_int_equal(root_check(root, "/d/not/yet", RESOLVE_STRICT, &why), 0);
        struct stat tmpl = { .st_mode = S_IFDIR | 0710, .st_uid = 42, .st_gid = 43 }, s;
        int r = root_mkdir_p(root, "/d/not/yet", RESOLVE_STRICT, &tmpl, &fd, NULL, &why);
        if (r < 0)
                print_error("%s\n", why);
        assert_int_equal(r, 0);
        assert_int_equal(fstat(fd, &s), 0);
        assert_int_equal(s.st_mode & 07777, 0710);
        assert_int_equal(s.st_uid, 42);
        close(fd);
        close(root);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                SEED_TEST(test_metadata_preserved), SEED_TEST(test_missing_keeps_everything_else),
                SEED_TEST(test_newer_replaces_only_older), SEED_TEST(test_symlinks_never_followed),
                SEED_TEST(test_no_temporary_left), SEED_TEST(test_root_check_refuses_escapes),
        };
        return run_as_root("seeding preserves owners and device nodes", tests, sizeof tests / sizeof tests[0]);
}
