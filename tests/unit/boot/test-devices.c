/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The devices stage's decisions, over synthetic probe results: matching,
 * the uniqueness rule, the type rule, the Kairos GPT-name fallback; and
 * libblkid reading GPT partition names from a whole-disk image file. */
#include <sys/stat.h>
#include <sys/wait.h>

#include "devices.h"
#include "runner.h"
#include "testutil.h"

static struct probed dev(const char *node, enum content c, const char *type, const char *label,
                         const char *uuid, const char *partlabel) {
        return (struct probed) {
                .devnode = (char *) node, .content = c, .type = (char *) type, .label = (char *) label,
                .uuid = (char *) uuid, .partlabel = (char *) partlabel,
        };
}


static void plan_of(const char *yaml, const char *cmdline, struct plan *p) {
        strv errors = {};
        assert_int_equal(load_plan(yaml, cmdline, p, &errors), 0);
        strv_clear(&errors);
}

static enum resolve_result resolve(const struct plan *p, size_t vol, const struct probed *seen, size_t n,
                                   size_t *idx, enum match_kind *kind, char *why) {
        struct resolve_out out = { .index = SIZE_MAX };
        enum resolve_result r = volume_resolve(p, &p->volumes[vol], seen, n, &out);

        *idx = out.index;
        *kind = out.kind;
        if (r == RESOLVE_REFUSED)
                snprintf(why, 2048, "%s", out.why);
        return r;
}

static void test_plain_fs_label_found(void **state) {
        struct plan p;
        struct probed seen[] = {
                dev("/dev/vda1", CONTENT_FS, "ext4", "rootfs", "u0", NULL),
                dev("/dev/loop0", CONTENT_FS, "ext4", "COS_OEM", "u1", NULL),
        };
        size_t idx;
        enum match_kind kind;
        char why[2048];

        plan_of(NULL, NULL, &p);
        assert_int_equal(resolve(&p, 0, seen, 2, &idx, &kind, why), RESOLVE_FOUND);
        assert_int_equal(idx, 1);
        assert_int_equal(kind, MATCH_FS_LABEL);
        assert_int_equal(resolve(&p, 1, seen, 2, &idx, &kind, why), RESOLVE_NOT_YET);
        plan_done(&p);
}

static void test_luks2_found_by_luks_label(void **state) {
        struct plan p;
        struct probed seen[] = { dev("/dev/sda2", CONTENT_LUKS2, "crypto_LUKS", "COS_PERSISTENT", "u2", "persistent") };
        size_t idx;
        enum match_kind kind;
        char why[2048];

        plan_of(NULL, "rd.immucore.uki", &p);
        assert_int_equal(resolve(&p, 1, seen, 1, &idx, &kind, why), RESOLVE_FOUND);
        assert_int_equal(kind, MATCH_LUKS_LABEL);
        plan_done(&p);
}

static void test_gpt_name_fallback(void **state) {
        struct plan p;
        /* Encrypted before labels were set: only the GPT name says what it is. */
        struct probed seen[] = { dev("/dev/sda2", CONTENT_LUKS2, "crypto_LUKS", NULL, "u3", "oem") };
        size_t idx;
        enum match_kind kind;
        char why[2048];

        plan_of(NULL, NULL, &p);
        assert_int_equal(resolve(&p, 0, seen, 1, &idx, &kind, why), RESOLVE_FOUND);
        assert_int_equal(kind, MATCH_PARTLABEL);
        plan_done(&p);
}

static void test_duplicate_refused_naming_both(void **state) {
        struct plan p;
        struct probed seen[] = {
                dev("/dev/sda2", CONTENT_LUKS2, "crypto_LUKS", "COS_OEM", "u4", "oem"),
                dev("/dev/sdb1", CONTENT_FS, "ext4", "COS_OEM", "u5", NULL),
        };
        size_t idx;
        enum match_kind kind;
        char why[2048];

        plan_of(NULL, NULL, &p);
        assert_int_equal(resolve(&p, 0, seen, 2, &idx, &kind, why), RESOLVE_REFUSED);
        assert_non_null(strstr(why, "/dev/sda2"));
        assert_non_null(strstr(why, "/dev/sdb1"));
        /* A GPT name on one disk and a label on another is a duplicate too. */
        seen[0].label = NULL;
        assert_int_equal(resolve(&p, 0, seen, 2, &idx, &kind, why), RESOLVE_REFUSED);
        plan_done(&p);
}

static void test_pinned_accepts_one_of_duplicates(void **state) {
        struct plan p;
        struct probed seen[] = {
                dev("/dev/sda2", CONTENT_FS, "ext4", "COS_OEM", "AAAA-1", NULL),
                dev("/dev/sdb1", CONTENT_FS, "ext4", "COS_OEM", "BBBB-2", NULL),
        };
        size_t idx;
        enum match_kind kind;
        char why[2048];

        plan_of("volumes:\n  - name: oem\n    match: { uuid: bbbb-2, fs_label: COS_OEM }\n", NULL, &p);
        assert_true(p.volumes[0].pinned);
        assert_int_equal(resolve(&p, 0, seen, 2, &idx, &kind, why), RESOLVE_FOUND);
        assert_int_equal(idx, 1);
        assert_int_equal(kind, MATCH_UUID);
        plan_done(&p);
}

static void test_encrypted_plain_refused(void **state) {
        struct plan p;
        struct probed seen[] = { dev("/dev/loop3", CONTENT_FS, "ext4", "COS_OEM", "u6", NULL) };
        size_t idx;
        enum match_kind kind;
        char why[2048];

        plan_of("volumes:\n  - name: oem\n    encrypted: true\n", NULL, &p);
        assert_int_equal(resolve(&p, 0, seen, 1, &idx, &kind, why), RESOLVE_REFUSED);
        assert_non_null(strstr(why, "/dev/loop3"));
        assert_non_null(strstr(why, "ext4"));
        plan_done(&p);

        /* A UKI boot declares the default volumes encrypted. */
        plan_of(NULL, "rd.immucore.uki", &p);
        assert_int_equal(resolve(&p, 0, seen, 1, &idx, &kind, why), RESOLVE_REFUSED);
        plan_done(&p);
}

static void test_luks1_and_others_refused(void **state) {
        struct plan p;
        struct probed l1[] = { dev("/dev/sda3", CONTENT_LUKS1, "crypto_LUKS", NULL, "u7", "persistent") };
        struct probed swap[] = { dev("/dev/sda4", CONTENT_OTHER, "swap", "COS_PERSISTENT", "u8", NULL) };
        size_t idx;
        enum match_kind kind;
        char why[2048];

        plan_of(NULL, NULL, &p);
        assert_int_equal(resolve(&p, 1, l1, 1, &idx, &kind, why), RESOLVE_REFUSED);
        assert_non_null(strstr(why, "LUKS1"));
        assert_int_equal(resolve(&p, 1, swap, 1, &idx, &kind, why), RESOLVE_REFUSED);
        assert_non_null(strstr(why, "swap"));
        plan_done(&p);
}

static void test_not_encrypted_luks_refused(void **state) {
        struct plan p;
        struct probed seen[] = { dev("/dev/sda2", CONTENT_LUKS2, "crypto_LUKS", "COS_OEM", "u9", NULL) };
        size_t idx;
        enum match_kind kind;
        char why[2048];

        plan_of("volumes:\n  - name: data\n    match: { fs_label: COS_OEM }\n    mount: /data\n    encrypted: false\n", NULL, &p);
        assert_string_equal(p.volumes[2].name, "data");
        assert_int_equal(resolve(&p, 2, seen, 1, &idx, &kind, why), RESOLVE_REFUSED);
        assert_non_null(strstr(why, "declared not encrypted"));
        plan_done(&p);
}

static void test_uuid_case_insensitive(void **state) {
        struct probed d = dev("/dev/x", CONTENT_FS, "ext4", NULL, "abcd-EF01", NULL);
        struct plan_match m = { MATCH_UUID, (char *) "ABCD-ef01" };

        assert_true(probed_matches(&d, &m));
        m.kind = MATCH_PARTUUID;
        assert_false(probed_matches(&d, &m));
}

/* A device that turns up after the volume was found is a duplicate when it
 * carries what the volume's matches look for; the found device itself, or
 * another label, or (pinned) another UUID, is not. */
static void test_late_duplicate(void **state) {
        struct plan p;
        struct probed found = dev("/dev/vda1", CONTENT_LUKS2, "crypto_LUKS", "COS_OEM", "u1", "oem");
        struct probed copy = dev("/dev/vdb", CONTENT_LUKS2, "crypto_LUKS", "COS_OEM", "u1", NULL);
        struct probed other = dev("/dev/vdc", CONTENT_FS, "ext4", "DATA", "u9", NULL);
        struct probed gpt = dev("/dev/vdd1", CONTENT_NONE, NULL, NULL, NULL, "oem");
        struct resolve_out out;

        plan_of(NULL, NULL, &p);
        assert_false(volume_duplicate(&p.volumes[0], &found, &found, &out));
        assert_false(volume_duplicate(&p.volumes[0], &found, &other, &out));
        assert_true(volume_duplicate(&p.volumes[0], &found, &copy, &out));
        assert_string_equal(out.device, "/dev/vda1 and /dev/vdb (volume oem)");
        assert_non_null(strstr(out.why, "two devices match it, /dev/vda1 (LUKS2 label COS_OEM"));
        assert_non_null(strstr(out.why, "and /dev/vdb (LUKS2 label COS_OEM"));
        /* An empty partition named like the volume's GPT fallback counts too. */
        assert_true(volume_duplicate(&p.volumes[0], &found, &gpt, &out));
        plan_done(&p);

        /* Pinned: only the UUID counts, and a header copy carries it. */
        plan_of("volumes:\n  - name: oem\n    match: { uuid: u1 }\n", NULL, &p);
        assert_false(volume_duplicate(&p.volumes[0], &found, &other, &out));
        assert_true(volume_duplicate(&p.volumes[0], &found, &copy, &out));
        plan_done(&p);
}

/* rd.usi.shell opens a shell after an ordinary failure, never after a
 * trust-chain refusal (PCR 11 still unseals then); a reboot stays. */
static void test_refusal_gets_no_shell(void **state) {
        struct plan p;
        struct boot b = { .failed_stage = -1 };

        plan_of(NULL, "rd.usi.shell", &p);
        assert_int_equal(p.on_failure, ON_FAILURE_SHELL);
        assert_int_equal(boot_failure_action(&p, &b), ON_FAILURE_SHELL);
        b.refused = true;
        assert_int_equal(boot_failure_action(&p, &b), ON_FAILURE_HALT);
        plan_done(&p);
        plan_of(NULL, "rd.immucore.rebootonfailure", &p);
        assert_int_equal(boot_failure_action(&p, &b), ON_FAILURE_REBOOT);
        plan_done(&p);
        assert_int_equal(boot_failure_action(NULL, &b), ON_FAILURE_HALT);
}

static int run(const char *cmd) {
        int s = system(cmd);
        return WIFEXITED(s) ? WEXITSTATUS(s) : -1;
}

/* The host kernel makes no partition devices; libblkid still reads the GPT
 * of an image file, and the fallback names match there. */
static void test_gpt_image_partitions(void **state) {
        char dir[] = "/tmp/usi-devices.XXXXXX", cmd[2048], img[64];
        struct probed *v = NULL;
        size_t n = 0;
        struct plan p;

        if (run("command -v sfdisk >/dev/null && command -v mkfs.ext4 >/dev/null") != 0)
                skip();
        assert_non_null(mkdtemp(dir));
        snprintf(img, sizeof img, "%s/disk.img", dir);
        snprintf(cmd, sizeof cmd,
                 "truncate -s 40M %s && printf 'label: gpt\\nstart=2048, size=16384, name=oem\\nstart=18432, size=16384, name=persistent\\n' | "
                 "sfdisk -q %s >/dev/null && mkfs.ext4 -q -L COS_OEM -E offset=%d %s 8M >/dev/null 2>&1",
                 img, img, 2048 * 512, img);
        assert_int_equal(run(cmd), 0);

        assert_int_equal(probe_image_partitions(img, &v, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(v[0].partlabel, "oem");
        assert_int_equal(v[0].content, CONTENT_FS);
        assert_string_equal(v[0].label, "COS_OEM");
        assert_non_null(v[0].partuuid);
        assert_string_equal(v[1].partlabel, "persistent");
        assert_int_equal(v[1].content, CONTENT_NONE);

        /* The default plan: oem by its file system label; persistent by the
         * GPT name alone, and refused because nothing usable is on it. */
        size_t idx;
        enum match_kind kind;
        char why[2048];
        plan_of(NULL, NULL, &p);
        assert_int_equal(resolve(&p, 0, v, n, &idx, &kind, why), RESOLVE_FOUND);
        assert_int_equal(idx, 0);
        assert_int_equal(resolve(&p, 1, v, n, &idx, &kind, why), RESOLVE_REFUSED);
        assert_int_equal(kind, MATCH_PARTLABEL);
        plan_done(&p);

        probed_free_array(v, n);
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        run(cmd);
}

static void test_probe_image_file(void **state) {
        char dir[] = "/tmp/usi-devices.XXXXXX", cmd[2048], img[64];
        struct probed d;

        if (run("command -v mkfs.ext4 >/dev/null") != 0)
                skip();
        assert_non_null(mkdtemp(dir));
        snprintf(img, sizeof img, "%s/fs.img", dir);
        snprintf(cmd, sizeof cmd, "truncate -s 8M %s && mkfs.ext4 -q -L COS_PERSISTENT %s", img, img);
        assert_int_equal(run(cmd), 0);
        assert_int_equal(probe_device(img, &d), 0);
        assert_int_equal(d.content, CONTENT_FS);
        assert_string_equal(d.type, "ext4");
        assert_string_equal(d.label, "COS_PERSISTENT");
        char what[256];
        probed_describe(&d, what, sizeof what);
        assert_non_null(strstr(what, "ext4 file system label COS_PERSISTENT"));
        probed_done(&d);
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        run(cmd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_plain_fs_label_found),
                cmocka_unit_test(test_luks2_found_by_luks_label),
                cmocka_unit_test(test_gpt_name_fallback),
                cmocka_unit_test(test_duplicate_refused_naming_both),
                cmocka_unit_test(test_pinned_accepts_one_of_duplicates),
                cmocka_unit_test(test_encrypted_plain_refused),
                cmocka_unit_test(test_luks1_and_others_refused),
                cmocka_unit_test(test_not_encrypted_luks_refused),
                cmocka_unit_test(test_uuid_case_insensitive),
                cmocka_unit_test(test_late_duplicate),
                cmocka_unit_test(test_refusal_gets_no_shell),
                cmocka_unit_test(test_probe_image_file),
                cmocka_unit_test(test_gpt_image_partitions),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
