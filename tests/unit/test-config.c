/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/stat.h>

#include "testutil.h"

/* Every class of bad configuration is refused with FILE:LINE:COLUMN. */

static void test_syntax_error(void **state) {
        expect_error("overlay:\n  size: 25%\n  paths: [/etc\n", "test.yaml:4:1: ", "YAML syntax error");
        expect_error("binds:\n  seed: missing\n   state_dir: /x\n", "test.yaml:3:", "YAML syntax error");
        expect_error("a: b\n---\nc: d\n", "test.yaml:", "unknown key 'a'");
}

static void test_second_document(void **state) {
        expect_error("on_failure: halt\n---\non_failure: reboot\n", "test.yaml:3:1: ", "a second YAML document");
}

static void test_wrong_types(void **state) {
        expect_error("volumes: yes\n", "test.yaml:1:10: ", "expected a list of volumes");
        expect_error("overlay: [/etc]\n", "test.yaml:1:10: ", "expected a mapping (overlay)");
        expect_error("root:\n  relocate: sometimes\n", "test.yaml:2:13: ", "expected a boolean");
        expect_error("volumes:\n  - name: oem\n    timeout: soon\n", "test.yaml:3:14: ", "number of seconds");
        expect_error("binds:\n  paths: /etc/ssh\n", "test.yaml:2:10: ", "expected a list of absolute paths");
        expect_error("on_failure: explode\n", "test.yaml:1:13: ", "expected one of: halt, reboot, shell");
        expect_error("binds:\n  seed: always\n", "test.yaml:2:9: ", "expected one of: missing, newer");
        expect_error("overlay:\n  size: lots\n", "test.yaml:2:9: ", "tmpfs size");
        expect_error("volumes:\n  - name: oem\n    unlock: [tpm2, telepathy]\n", "test.yaml:3:20: ",
                     "unknown unlock method 'telepathy'");
        expect_error("volumes:\n  - name: oem\n    unlock: [tpm2, tpm2]\n", "test.yaml:3:20: ", "listed twice");
        expect_error("volumes:\n  - [a]\n", "test.yaml:2:5: ", "expected a volume");
        expect_error("volumes:\n  - mount: /data\n", "test.yaml:2:5: ", "volume without a name");
        expect_error("volumes:\n  - name: \"bad name\"\n", "test.yaml:2:11: ", "not valid");
        expect_error("tpm:\n  device:\n", "test.yaml:2:10: ", "expected a string");
}

static void test_unknown_keys(void **state) {
        expect_error("overlays:\n  size: 10%\n", "test.yaml:1:1: ", "unknown key 'overlays' in the configuration");
        expect_error("binds:\n  state-dir: /usr/local/.state\n", "test.yaml:2:3: ",
                     "unknown key 'state-dir' in binds; expected one of: state_dir, seed, paths, extra_paths");
        expect_error("volumes:\n  - name: oem\n    match: { label: X }\n", "test.yaml:3:14: ", "unknown key 'label' in match");
        expect_error("on_failure: halt\non_failure: reboot\n", "test.yaml:2:1: ", "appears twice");
}

static void test_relative_path(void **state) {
        expect_error("binds:\n  paths: [/etc/ssh, etc/foo]\n", "test.yaml:2:21: ", "relative path");
        expect_error("volumes:\n  - name: data\n    match: { uuid: 1234 }\n    mount: data\n", "test.yaml:4:12: ",
                     "relative path");
        expect_error("binds:\n  state_dir: usr/local/.state\n", "test.yaml:2:14: ", "relative path");
}

static void test_dotdot(void **state) {
        expect_error("binds:\n  paths:\n    - /etc/../root\n", "test.yaml:3:7: ", "'..' component");
        expect_error("overlay:\n  paths: [/etc, /var/./x]\n", "test.yaml:2:17: ", "'..' component");
        expect_error("init: [/sbin/../bin/sh]\n", "test.yaml:1:8: ", "'..' component");
}

static void test_api_paths(void **state) {
        expect_error("binds:\n  paths: [/proc/sys]\n", "test.yaml:2:11: ", "under /proc, /sys or /dev");
        expect_error("overlay:\n  paths: [/sys]\n", "test.yaml:2:11: ", "under /proc, /sys or /dev");
        expect_error("volumes:\n  - name: d\n    match: { uuid: 1 }\n    mount: /dev/shm\n", "test.yaml:4:12: ",
                     "under /proc, /sys or /dev");
        expect_error("binds:\n  paths: [/]\n", "test.yaml:2:11: ", "root directory");
        /* /devices or /system are not /dev or /sys */
        strv errors = {};
        struct plan p;
        assert_int_equal(load_plan("binds:\n  extra_paths: [/devices, /system]\n", NULL, &p, &errors), 0);
        plan_done(&p);
}

static void test_duplicate_mount_points(void **state) {
        expect_error("volumes:\n  - name: data\n    match: { luks_label: DATA }\n    mount: /oem\n",
                     "test.yaml:4:12: ", "duplicate mount point /oem: already used by a volume");
        expect_error("overlay:\n  extra_paths: [/etc/ssh]\n", "(built-in defaults):", "duplicate mount point /etc/ssh");
        expect_error("binds:\n  paths: [/opt, /opt]\n", "test.yaml:2:17: ", "/opt is listed twice");
        expect_error("binds:\n  paths: [/usr/local]\n  state_dir: /data/state\n", "test.yaml:2:11: ",
                     "duplicate mount point /usr/local");
}

static void test_state_dir_inside_bind(void **state) {
        expect_error("binds:\n  state_dir: /var/lib/state\n  extra_paths: [/var/lib]\n", "test.yaml:2:14: ",
                     "state dir /var/lib/state is inside the persistent path /var/lib");
        expect_error("binds:\n  paths: [/usr/local/.state/x]\n", "test.yaml:2:11: ", "inside the state dir");
}

static void test_state_name_collision(void **state) {
        expect_error("binds:\n  paths:\n    - /etc/a-b\n    - /etc/a/b\n", "test.yaml:4:7: ",
                     "persistent paths /etc/a-b and /etc/a/b share the state dir name etc-a-b.bind");
}

static void test_volume_semantics(void **state) {
        expect_error("volumes:\n  - name: data\n    mount: /data\n", "test.yaml:2:5: ", "has no match");
        expect_error("volumes:\n  - name: data\n    match: { uuid: 1 }\n    unlock: [keyfile]\n", "test.yaml:4:13: ",
                     "without a keyfile");
        expect_error("volumes:\n  - name: data\n    match: { uuid: 1 }\n    keyfile: /k\n", "test.yaml:4:14: ",
                     "not in its unlock list");
        expect_error("volumes:\n  - name: data\n    match: { uuid: 1 }\n    encrypted: no\n    unlock: [tpm2]\n",
                     "test.yaml:5:13: ", "declared not encrypted");
}

static void test_errors_all_reported(void **state) {
        strv errors = {};
        struct plan p;

        assert_int_equal(load_plan("overlays: 1\nroot: { relocate: 3 }\nbinds: { paths: [a] }\n", NULL, &p, &errors), -EINVAL);
        assert_int_equal(errors.n, 3);
        assert_true(strncmp(errors.v[0], "test.yaml:1:1:", 14) == 0);
        assert_true(strncmp(errors.v[1], "test.yaml:2:19:", 15) == 0);
        assert_true(strncmp(errors.v[2], "test.yaml:3:18:", 15) == 0);
        strv_clear(&errors);
}

static void test_merge(void **state) {
        struct config c;
        strv errors = {};
        const char *a = "volumes:\n  - name: persistent\n    timeout: 60\noverlay: { size: 10% }\n";
        const char *b = "volumes:\n  - name: persistent\n    options: noatime\n  - name: data\n    match: { fs_label: DATA }\n"
                        "    mount: /data\n    encrypted: false\noverlay: { paths: [/etc] }\n";

        config_init(&c);
        assert_int_equal(config_load_defaults(&c, &errors), 0);
        assert_int_equal(config_load_string(&c, "a.yaml", a, strlen(a), &errors), 0);
        assert_int_equal(config_load_string(&c, "b.yaml", b, strlen(b), &errors), 0);
        assert_int_equal(errors.n, 0);
        assert_int_equal(c.n_volumes, 3);
        assert_string_equal(c.volumes[1].name, "persistent");
        assert_int_equal(c.volumes[1].timeout_sec, 60);
        assert_string_equal(c.volumes[1].options, "noatime");
        assert_string_equal(c.volumes[1].match[MATCH_LUKS_LABEL], "COS_PERSISTENT");
        assert_string_equal(c.volumes[2].name, "data");
        assert_int_equal(c.volumes[2].encrypted, ENCRYPTION_NO);
        assert_string_equal(c.overlay_size, "10%");
        assert_int_equal(c.overlay_paths.n, 1);
        assert_string_equal(c.overlay_paths.v[0].path, "/etc");
        assert_string_equal(c.overlay_paths.v[0].mark.file, "b.yaml");
        assert_int_equal(c.overlay_paths.v[0].mark.line, 8);
        config_done(&c);
}

static void test_kairos_cloud_config(void **state) {
        struct config c;
        strv errors = {};
        const char *y = "#cloud-config\nusers:\n  - name: kairos\n    passwd: kairos\n"
                        "install:\n  device: /dev/sda\n  bind_mounts:\n    - /var/lib/foo\n    - /etc/ssh\n"
                        "  ephemeral_mounts: [/var/cache/x]\n  encrypted_partitions: [COS_PERSISTENT, COS_DATA]\n"
                        "stages:\n  boot:\n    - commands: [\"echo hi\"]\n";

        config_init(&c);
        assert_int_equal(config_load_defaults(&c, &errors), 0);
        assert_int_equal(config_load_kairos_string(&c, "/oem/90_custom.yaml", y, strlen(y), &errors), 0);
        assert_int_equal(errors.n, 0);
        assert_int_equal(c.bind_extra_paths.n, 2);
        assert_string_equal(c.bind_extra_paths.v[0].path, "/var/lib/foo");
        assert_int_equal(c.overlay_extra_paths.n, 1);
        assert_int_equal(c.encrypted_labels.n, 2);
        config_done(&c);

        /* their types are still checked, with the position */
        const char *bad = "install:\n  bind_mounts: /var/lib/foo\n";
        config_init(&c);
        assert_int_equal(config_load_kairos_string(&c, "/oem/bad.yaml", bad, strlen(bad), &errors), -EINVAL);
        assert_int_equal(errors.n, 1);
        assert_true(strncmp(errors.v[0], "/oem/bad.yaml:2:16: ", 20) == 0);
        strv_clear(&errors);
        config_done(&c);
}

static void test_empty_and_comment_only(void **state) {
        struct config c;
        strv errors = {};

        config_init(&c);
        assert_int_equal(config_load_string(&c, "e.yaml", "", 0, &errors), 0);
        assert_int_equal(config_load_string(&c, "e.yaml", "# nothing\n", 10, &errors), 0);
        assert_int_equal(config_load_string(&c, "e.yaml", "~\n", 2, &errors), 0);
        assert_int_equal(errors.n, 0);
        config_done(&c);
}

static void test_files(void **state) {
        char dir[] = "/tmp/test-config-XXXXXX";
        char path[512];
        struct config c;
        strv errors = {};
        FILE *f;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/etc", dir);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/etc/usi-init", dir);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/etc/usi-init/config.d", dir);
        assert_int_equal(mkdir(path, 0755), 0);

        snprintf(path, sizeof path, "%s/etc/usi-init/config.yaml", dir);
        assert_non_null(f = fopen(path, "w"));
        fputs("reboot_delay: 1\ntimeout: 7\n", f);
        fclose(f);
        /* lexical order: 10 before 20, and 20 wins */
        snprintf(path, sizeof path, "%s/etc/usi-init/config.d/20-b.yaml", dir);
        assert_non_null(f = fopen(path, "w"));
        fputs("reboot_delay: 3\n", f);
        fclose(f);
        snprintf(path, sizeof path, "%s/etc/usi-init/config.d/10-a.yaml", dir);
        assert_non_null(f = fopen(path, "w"));
        fputs("reboot_delay: 2\n", f);
        fclose(f);
        snprintf(path, sizeof path, "%s/etc/usi-init/config.d/30-c.conf", dir);
        assert_non_null(f = fopen(path, "w"));
        fputs("this is not read\n", f);
        fclose(f);

        config_init(&c);
        assert_int_equal(config_load_system(&c, dir, &errors), 0);
        assert_int_equal(errors.n, 0);
        assert_int_equal(c.reboot_delay_sec, 3);
        assert_int_equal(c.default_timeout_sec, 7);
        config_done(&c);

        /* a missing system config is not an error */
        config_init(&c);
        assert_int_equal(config_load_system(&c, "/nonexistent-root", &errors), 0);
        assert_int_equal(config_load_file(&c, "/nonexistent.yaml", &errors), -ENOENT);
        assert_int_equal(errors.n, 0);
        /* a directory where a file is expected is reported */
        assert_true(config_load_file(&c, dir, &errors) < 0);
        assert_int_equal(errors.n, 1);
        assert_non_null(strstr(errors.v[0], "not a regular file"));
        strv_clear(&errors);
        config_done(&c);

        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static void test_path_normalize(void **state) {
        char *s = NULL;
        const char *why = NULL;

        assert_int_equal(path_normalize("//etc///ssh/", PATH_MOUNTPOINT, &s, &why), 0);
        assert_string_equal(s, "/etc/ssh");
        free(s);
        assert_int_equal(path_normalize("/etc/my dir", PATH_MOUNTPOINT, &s, &why), -EINVAL);
        assert_int_equal(path_normalize("/etc/\ttab", PATH_FILE, &s, &why), -EINVAL);
        assert_int_equal(path_normalize("/dev/disk/key", PATH_FILE, &s, &why), 0);
        free(s);
        assert_true(path_startswith("/etc/ssh", "/etc"));
        assert_false(path_startswith("/etcetera", "/etc"));
        assert_true(path_startswith("/etc", "/etc"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_syntax_error),
                cmocka_unit_test(test_second_document),
                cmocka_unit_test(test_wrong_types),
                cmocka_unit_test(test_unknown_keys),
                cmocka_unit_test(test_relative_path),
                cmocka_unit_test(test_dotdot),
                cmocka_unit_test(test_api_paths),
                cmocka_unit_test(test_duplicate_mount_points),
                cmocka_unit_test(test_state_dir_inside_bind),
                cmocka_unit_test(test_state_name_collision),
                cmocka_unit_test(test_volume_semantics),
                cmocka_unit_test(test_errors_all_reported),
                cmocka_unit_test(test_merge),
                cmocka_unit_test(test_kairos_cloud_config),
                cmocka_unit_test(test_empty_and_comment_only),
                cmocka_unit_test(test_files),
                cmocka_unit_test(test_path_normalize),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
