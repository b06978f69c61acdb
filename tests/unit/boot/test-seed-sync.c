/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Seeding's durability order and its cheap paths, seen at the system calls
 * (wrapped at link time): no fsync per file but one syncfs, every rename
 * after it; copy_file_range given up after the first refusal; no chown
 * where the owner is already right; a seed cut before or during its renames
 * leaves only complete files, and the next one completes, reusing the
 * temporaries left behind, and removes the ones another image's seed left;
 * a tree larger than a batch flushes early. */
#include <sys/stat.h>

#include "seed-batch.h"
#include "seed-test.h"

static struct {
        unsigned seq, fsync, syncfs, syncfs_at, cfr, chown, rename, rename_early;
        int cfr_errno, syncfs_errno;
        int rename_fail_after;          /* < 0: never */
} w;

int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __wrap_fsync(int fd) {
        w.fsync++;
        return __real_fsync(fd);
}

int __real_syncfs(int fd);
int __wrap_syncfs(int fd);
int __wrap_syncfs(int fd) {
        w.syncfs++;
        w.syncfs_at = ++w.seq;
        if (w.syncfs_errno) {
                errno = w.syncfs_errno;
                return -1;
        }
        return __real_syncfs(fd);
}

ssize_t __real_copy_file_range(int in, off_t *oin, int out, off_t *oout, size_t n, unsigned flags);
ssize_t __wrap_copy_file_range(int in, off_t *oin, int out, off_t *oout, size_t n, unsigned flags);
ssize_t __wrap_copy_file_range(int in, off_t *oin, int out, off_t *oout, size_t n, unsigned flags) {
        w.cfr++;
        if (w.cfr_errno) {
                errno = w.cfr_errno;
                return -1;
        }
        return __real_copy_file_range(in, oin, out, oout, n, flags);
}

int __real_renameat2(int a, const char *an, int b, const char *bn, unsigned flags);
int __wrap_renameat2(int a, const char *an, int b, const char *bn, unsigned flags);
int __wrap_renameat2(int a, const char *an, int b, const char *bn, unsigned flags) {
        if (w.rename_fail_after >= 0 && w.rename >= (unsigned) w.rename_fail_after) {
                errno = EIO;
                return -1;
        }
        w.rename++;
        if (w.syncfs_at == 0)
                w.rename_early++;
        ++w.seq;
        return __real_renameat2(a, an, b, bn, flags);
}

int __real_fchown(int fd, uid_t u, gid_t g);
int __wrap_fchown(int fd, uid_t u, gid_t g);
int __wrap_fchown(int fd, uid_t u, gid_t g) {
        w.chown++;
        return __real_fchown(fd, u, g);
}

int __real_fchownat(int dfd, const char *name, uid_t u, gid_t g, int flags);
int __wrap_fchownat(int dfd, const char *name, uid_t u, gid_t g, int flags);
int __wrap_fchownat(int dfd, const char *name, uid_t u, gid_t g, int flags) {
        w.chown++;
        return __real_fchownat(dfd, name, u, g, flags);
}

static int setup(void **state) {
        struct seed_dirs *t = seed_dirs_new();
        /* 3 directories of 20 files, one of 300 KiB, a hard-linked pair. */
        sh("cd %s && for d in a b c; do mkdir $d; for i in $(seq 20); do echo $d$i >$d/f$i; done; done"
           " && head -c 307200 /dev/urandom >a/big && ln a/f1 a/f1-link",
           t->src);
        memset(&w, 0, sizeof w);
        w.rename_fail_after = -1;
        *state = t;
        return 0;
}

static int seed(struct seed_dirs *t, struct seed_stats *st) {
        return seed_paths(t->src, t->dst, SEED_MISSING, st);
}

static bool same_tree(struct seed_dirs *t) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "diff -r %s %s >/dev/null", t->src, t->dst);
        return system(cmd) == 0;
}

static int count_tmp(struct seed_dirs *t) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "find %s -name '" SEED_TMP_PREFIX "*' | wc -l", t->dst);
        FILE *f = popen(cmd, "r");
        int n = -1;
        assert_int_equal(fscanf(f, "%d", &n), 1);
        pclose(f);
        return n;
}

static void test_one_syncfs_then_renames(void **state) {
        struct seed_dirs *t = *state;
        struct seed_stats st;

        assert_int_equal(seed(t, &st), 0);
        assert_int_equal(w.fsync, 0);
        assert_int_equal(w.syncfs, 1);
        assert_int_equal(w.rename, 62);         /* 60 + big + the link's second name */
        assert_int_equal(w.rename_early, 0);    /* no name before the data is durable */
        assert_int_equal(st.copied, 3 + 62);
        assert_true(same_tree(t));
        assert_int_equal(count_tmp(t), 0);
}

static void test_copy_range_refused_once(void **state) {
        struct seed_dirs *t = *state;
        struct seed_stats st;

        w.cfr_errno = EXDEV;
        assert_int_equal(seed(t, &st), 0);
        assert_int_equal(w.cfr, 1);
        assert_true(same_tree(t));

        sh("rm -rf %s/*", t->dst);
        memset(&w, 0, sizeof w);
        w.rename_fail_after = -1;
        w.cfr_errno = EOPNOTSUPP;
        assert_int_equal(seed(t, &st), 0);
        assert_int_equal(w.cfr, 1);
        assert_true(same_tree(t));
}

static void test_owner_calls_skipped(void **state) {
        struct seed_dirs *t = *state;
        struct seed_stats st;
        char p[256];
        struct stat s;

        sh("chown 1234:5678 %s/b/f3 && chmod 0640 %s/b/f3 && chmod 4755 %s/c/f4", t->src, t->src, t->src);
        assert_int_equal(seed(t, &st), 0);
        assert_int_equal(w.chown, 1);           /* only b/f3 is not root's */
        snprintf(p, sizeof p, "%s/b/f3", t->dst);
        assert_int_equal(stat(p, &s), 0);
        assert_int_equal(s.st_uid, 1234);
        assert_int_equal(s.st_gid, 5678);
        assert_int_equal(s.st_mode & 07777, 0640);
        snprintf(p, sizeof p, "%s/c/f4", t->dst);
        assert_int_equal(stat(p, &s), 0);
        assert_int_equal(s.st_mode & 07777, 04755);
}

static void test_cut_before_sync(void **state) {
        struct seed_dirs *t = *state;
        struct seed_stats st;
        char p[256];
        struct stat s;

        /* syncfs failing stands for a power cut before it: no name may exist. */
        w.syncfs_errno = EIO;
        assert_int_equal(seed(t, &st), -EIO);
        assert_int_equal(w.rename, 0);
        snprintf(p, sizeof p, "%s/a/f1", t->dst);
        assert_int_equal(lstat(p, &s), -1);
        assert_int_equal(count_tmp(t), 0);

        w.syncfs_errno = 0;
        assert_int_equal(seed(t, &st), 0);
        assert_int_equal(st.copied, 62);        /* the directories were made the first time */
        assert_true(same_tree(t));
}

static void test_cut_during_renames(void **state) {
        struct seed_dirs *t = *state;
        struct seed_stats st;
        char tmp[SEED_TMP_NAME_MAX], p[512];
        struct stat s;

        w.rename_fail_after = 5;
        assert_int_equal(seed(t, &st), -EIO);
        assert_int_equal(w.rename, 5);
        assert_int_equal(count_tmp(t), 0);

        /* A power cut instead leaves the temporaries, torn, under their names:
         * the next seed makes them again and renames them. One of c's files
         * not renamed yet: */
        int i = 1;
        for (;; i++) {
                assert_true(i <= 20);
                snprintf(p, sizeof p, "%s/c/f%d", t->dst, i);
                if (lstat(p, &s) < 0)
                        break;
        }
        snprintf(p, sizeof p, "%s/c/f%d", t->src, i);
        assert_int_equal(stat(p, &s), 0);
        snprintf(p, sizeof p, "f%d", i);
        seed_batch_tmp_name(tmp, s.st_ino, p);
        sh("head -c 3 /dev/zero >'%s/c/%s'", t->dst, tmp);

        w.rename_fail_after = -1;
        assert_int_equal(seed(t, &st), 0);
        assert_int_equal(st.copied + st.kept, 3 + 62);
        assert_true(same_tree(t));
        assert_int_equal(count_tmp(t), 0);
}

static void test_stale_tmps_removed(void **state) {
        struct seed_dirs *t = *state;
        struct seed_stats st;
        char p[512];
        struct stat s;

        /* What a seed cut by a power cut under another image leaves: torn
         * temporaries named from inodes this image does not have, in the
         * state dir and below it. The next seed removes them; a directory
         * of such a name, and the user's own files, stay. */
        sh("mkdir -p %s/a && cd %s && head -c 4096 /dev/zero >'" SEED_TMP_PREFIX "4000000001.0123456789abcdef'"
           " && head -c 3 /dev/zero >'a/" SEED_TMP_PREFIX "4000000002.fedcba9876543210'"
           " && ln -s nowhere 'a/" SEED_TMP_PREFIX "4000000003.0000000000000001'"
           " && mkdir '" SEED_TMP_PREFIX "keep' && echo mine >a/user-file",
           t->dst, t->dst);
        assert_int_equal(count_tmp(t), 4);
        assert_int_equal(seed(t, &st), 0);
        assert_int_equal(count_tmp(t), 1);
        snprintf(p, sizeof p, "%s/" SEED_TMP_PREFIX "keep", t->dst);
        assert_int_equal(stat(p, &s), 0);
        assert_true(S_ISDIR(s.st_mode));
        snprintf(p, sizeof p, "%s/a/user-file", t->dst);
        assert_int_equal(stat(p, &s), 0);
        sh("rmdir '%s/" SEED_TMP_PREFIX "keep' && rm %s/a/user-file", t->dst, t->dst);
        assert_true(same_tree(t));
}

static void test_many_directories(void **state) {
        struct seed_dirs *t = *state;
        struct seed_stats st;
        char p[256];
        struct stat a, b;

        /* More directories with a file waiting than the batch holds: one
         * early flush, the made parent's times still set after the last
         * rename in it. */
        sh("mkdir %s/x && cd %s/x && for i in $(seq 300); do mkdir d$i && echo $i >d$i/f; echo $i >f$i; done"
           " && touch -d 2019-01-01 %s/x", t->src, t->src, t->src);
        assert_int_equal(seed(t, &st), 0);
        assert_int_equal(w.syncfs, 2);
        assert_int_equal(w.rename_early, 0);
        assert_true(same_tree(t));
        snprintf(p, sizeof p, "%s/x", t->src);
        assert_int_equal(stat(p, &a), 0);
        snprintf(p, sizeof p, "%s/x", t->dst);
        assert_int_equal(stat(p, &b), 0);
        assert_int_equal(b.st_mtim.tv_sec, a.st_mtim.tv_sec);
        assert_int_equal(b.st_mtim.tv_nsec, a.st_mtim.tv_nsec);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                SEED_TEST(test_one_syncfs_then_renames), SEED_TEST(test_copy_range_refused_once),
                SEED_TEST(test_owner_calls_skipped), SEED_TEST(test_cut_before_sync),
                SEED_TEST(test_cut_during_renames), SEED_TEST(test_stale_tmps_removed),
                SEED_TEST(test_many_directories),
        };
        return run_as_root("seeding's system calls", tests, sizeof tests / sizeof tests[0]);
}
