/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/stat.h>

#include "load.h"
#include "testutil.h"

/* Every class of bad configuration is refused with FILE:LINE:COLUMN. */

/* DIR/NAME: a file with `text`, or a directory when text is NULL. */
static void write_below(const char *dir, const char *name, const char *text) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (!text) {
                assert_int_equal(mkdir(path, 0755), 0);
                return;
        }
        assert_non_null(f = fopen(path, "w"));
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

static void rm_rf(const char *dir) {
        char cmd[600];

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

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
        /* a key's newline and ANSI escape come back escaped: one line */
        expect_error("\"a\\nb\\e[2J\": 1\n", "test.yaml:1:1: ", "unknown key 'a\\x0ab\\x1b[2J' in the configuration");
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

        /* A root whose etc/usi-init leads out of it (here: into the first
         * root): its files are not read, and the error says so. */
        {
                char root2[] = "/tmp/usi-sys2-XXXXXX";
                assert_non_null(mkdtemp(root2));
                snprintf(path, sizeof path, "%s/etc", root2);
                assert_int_equal(mkdir(path, 0755), 0);
                snprintf(path, sizeof path, "%s/etc/usi-init", root2);
                {
                        char target[4096];
                        snprintf(target, sizeof target, "%s/etc/usi-init", dir);
                        assert_int_equal(symlink(target, path), 0);
                }
                config_init(&c);
                assert_true(config_load_system(&c, root2, &errors) < 0);
                assert_true(errors.n >= 1);
                assert_non_null(strstr(errors.v[0], "config.yaml: cannot read: "));
                strv_clear(&errors);
                config_done(&c);
                rm_rf(root2);
        }

        rm_rf(dir);
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


/* ---- trust-chain rule 5: what the /oem layer may set --------------------- */

static void test_provenance_table(void **state) {
        static const struct { const char *key; enum key_class cls; } want[] = {
                { "tpm", KEY_TRUST },
                { "tpm.measure_phases", KEY_TRUST },
                { "tpm.measure_volume_keys", KEY_TRUST },
                { "tpm.device", KEY_TRUST },
                { "tpm.signatures", KEY_TRUST },
                { "luks.ciphers", KEY_TRUST },
                { "init", KEY_TRUST },
                { "on_failure", KEY_TRUST },
                { "allow_shell", KEY_TRUST },
                { "allow_insecure_boot", KEY_TRUST },
                { "root.relocate", KEY_TRUST },
                { "root.read_only", KEY_TRUST },
                { "extensions.certificates", KEY_TRUST },
                { "extensions.efi_keys", KEY_TRUST },
                { "extensions.sources", KEY_TRUST },
                { "binds.state_dir", KEY_TRUST },
                { "timeout", KEY_TRUST },
                { "reboot_delay", KEY_TRUST },
                { "a.key.added.later", KEY_TRUST },
                { "overlay.size", KEY_LAYOUT },
                { "overlay.paths", KEY_LAYOUT },
                { "overlay.extra_paths", KEY_LAYOUT },
                { "binds.seed", KEY_LAYOUT },
                { "binds.paths", KEY_LAYOUT },
                { "binds.extra_paths", KEY_LAYOUT },
                { "binds.state_dirs", KEY_LAYOUT },   /* a prefix is a whole component */
                { "install.bind_mounts", KEY_LAYOUT },
                { "install.ephemeral_mounts", KEY_LAYOUT },
                { "install.encrypted_partitions", KEY_LAYOUT },
                { "install.device", KEY_TRUST },
                { "volumes.unlock", KEY_VOLUME },
                { "volumes.match.luks_label", KEY_VOLUME },
        };

        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                if (key_class_of(want[i].key) != want[i].cls)
                        print_error("%s: class %d, expected %d\n", want[i].key, key_class_of(want[i].key), want[i].cls);
                assert_int_equal(key_class_of(want[i].key), want[i].cls);
        }
        for (int l = CONFIG_LAYER_IMAGE; l <= CONFIG_LAYER_CMDLINE; l++) {
                assert_true(layer_may_set(l, KEY_TRUST, false));
                assert_true(layer_may_set(l, KEY_VOLUME, true));
        }
        assert_false(layer_may_set(CONFIG_LAYER_OEM, KEY_TRUST, false));
        assert_false(layer_may_set(CONFIG_LAYER_OEM, KEY_VOLUME, true));
        assert_true(layer_may_set(CONFIG_LAYER_OEM, KEY_VOLUME, false));
        assert_true(layer_may_set(CONFIG_LAYER_OEM, KEY_LAYOUT, false));
}

/* Every trust key of issue 13 and of the table, as an attacker who writes
 * /oem would set them; each with the line and column where it stands. */
static const char oem_downgrade[] =
        "tpm:\n"                                 /* 1 */
        "  measure_phases: false\n"              /* 2 */
        "  measure_volume_keys: false\n"         /* 3 */
        "  device: device:/dev/tpm-evil\n"       /* 4 */
        "  signatures: [/oem/sig.json]\n"        /* 5 */
        "init: [/oem/evil]\n"                    /* 6 */
        "on_failure: shell\n"                    /* 7 */
        "allow_shell: true\n"                    /* 8 */
        "allow_insecure_boot: true\n"            /* 9 */
        "root:\n"                                /* 10 */
        "  relocate: false\n"                    /* 11 */
        "luks:\n"                                /* 12 */
        "  ciphers: [cipher_null-ecb]\n"         /* 13 */
        "extensions:\n"                          /* 14 */
        "  certificates: [/oem/keys]\n"          /* 15 */
        "  efi_keys: false\n"                    /* 16 */
        "  sources: [kairos]\n"                  /* 17 */
        "timeout: 1\n"                           /* 18 */
        "reboot_delay: 0\n"                      /* 19 */
        "binds:\n"                               /* 20 */
        "  state_dir: /oem/state\n"              /* 21 */
        "volumes:\n"                             /* 22 */
        "  - name: persistent\n"                 /* 23 */
        "    encrypted: no\n"                    /* 24 */
        "    unlock: [passphrase]\n"             /* 25 */
        "    match: { fs_label: EVIL }\n"        /* 26 */
        "    keyfile: /oem/key\n"                /* 27 */
        "    mount: /srv/moved\n";               /* 28 */

static const char *const oem_downgrade_ignored[] = {
        "/oem/usi-init.yaml:2:3: tpm.measure_phases " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:3:3: tpm.measure_volume_keys " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:4:3: tpm.device " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:5:3: tpm.signatures " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:6:1: init " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:7:1: on_failure " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:8:1: allow_shell " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:9:1: allow_insecure_boot " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:11:3: root.relocate " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:13:3: luks.ciphers " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:15:3: extensions.certificates " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:16:3: extensions.efi_keys " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:17:3: extensions.sources " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:18:1: timeout " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:19:1: reboot_delay " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:21:3: binds.state_dir " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:24:5: volumes.persistent.encrypted " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:25:5: volumes.persistent.unlock " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:26:14: volumes.persistent.match.fs_label " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:27:5: volumes.persistent.keyfile " IGNORED_ONLY_IMAGE,
        "/oem/usi-init.yaml:28:5: volumes.persistent.mount " IGNORED_ONLY_IMAGE,
};

static void assert_default_trust(const struct plan *p) {
        const struct plan_volume *v = NULL;

        assert_true(p->measure_phases);
        assert_true(p->measure_volume_keys);
        assert_string_equal(p->tpm_device, "device:/dev/tpmrm0");
        assert_false(strv_has(&p->signatures, "/oem/sig.json"));
        assert_false(strv_has(&p->init, "/oem/evil"));
        assert_string_equal(p->init.v[0], "/sbin/init");
        assert_int_equal(p->on_failure, ON_FAILURE_HALT);
        assert_false(p->shell_allowed);
        assert_false(p->insecure_boot_allowed);
        assert_true(p->root_relocate);
        assert_int_equal(p->luks_ciphers.n, 1);
        assert_string_equal(p->luks_ciphers.v[0], "aes-xts-plain64");
        assert_false(strv_has(&p->ext_cert_dirs, "/oem/keys"));
        assert_true(p->ext_efi_keys);
        assert_true(p->ext_source[EXT_SOURCE_STUB]);
        assert_int_equal(p->reboot_delay_sec, 10);
        assert_string_equal(p->state_dir, "/usr/local/.state");
        for (size_t i = 0; i < p->n_volumes; i++)
                if (streq(p->volumes[i].name, "persistent"))
                        v = &p->volumes[i];
        assert_non_null(v);
        assert_string_equal(v->mount, "/usr/local");
        assert_int_equal(v->encrypted, ENCRYPTION_AUTO);
        assert_int_equal(v->n_unlock, 1);
        assert_int_equal(v->unlock[0], UNLOCK_TPM2);
        assert_null(v->keyfile);
        assert_int_equal(v->timeout_ms, 30000);
        for (size_t m = 0; m < v->n_matches; m++)
                assert_string_not_equal(v->matches[m].value, "EVIL");
}

static void test_oem_trust_ignored(void **state) {
        strv errors = {};
        struct plan p;

        assert_int_equal(load_plan_oem(NULL, oem_downgrade, NULL, &p, &errors), 0);
        assert_int_equal(errors.n, 0);
        for (size_t i = 0; i < ELEMENTSOF(oem_downgrade_ignored); i++) {
                if (!strv_has(&p.notes, oem_downgrade_ignored[i]))
                        for (size_t j = 0; j < p.notes.n; j++)
                                print_error("note: %s\n", p.notes.v[j]);
                assert_true(strv_has(&p.notes, oem_downgrade_ignored[i]));
        }
        assert_int_equal(p.notes.n, ELEMENTSOF(oem_downgrade_ignored));
        assert_default_trust(&p);
        plan_done(&p);

        /* the same file from the image is honoured: the table is about who wrote it */
        assert_int_equal(load_plan_oem("tpm:\n  measure_phases: false\non_failure: shell\nallow_shell: true\n", NULL,
                                       NULL, &p, &errors), 0);
        assert_false(p.measure_phases);
        assert_true(p.shell_allowed);
        assert_int_equal(p.on_failure, ON_FAILURE_SHELL);
        plan_done(&p);

        /* a key no table knows, where only the image may write, is ignored
         * too (the image would be told it is unknown); in the layout it is an error */
        assert_int_equal(load_plan_oem(NULL, "tpm:\n  measure_phase: false\nfuture_key: 1\n", NULL, &p, &errors), 0);
        assert_true(strv_has(&p.notes, "/oem/usi-init.yaml:2:3: tpm.measure_phase " IGNORED_ONLY_IMAGE));
        assert_true(strv_has(&p.notes, "/oem/usi-init.yaml:3:1: future_key " IGNORED_ONLY_IMAGE));
        plan_done(&p);
        assert_int_equal(load_plan_oem(NULL, "overlay:\n  sise: 64m\n", NULL, &p, &errors), -EINVAL);
        assert_int_equal(errors.n, 1);
        assert_non_null(strstr(errors.v[0], "/oem/usi-init.yaml:2:3: unknown key 'sise' in overlay"));
        strv_clear(&errors);

        /* and what the image set stays when /oem tries to undo it */
        assert_int_equal(load_plan_oem("allow_shell: true\non_failure: shell\n", "allow_shell: false\non_failure: halt\n",
                                       NULL, &p, &errors), 0);
        assert_true(p.shell_allowed);
        assert_int_equal(p.on_failure, ON_FAILURE_SHELL);
        assert_int_equal(p.notes.n, 2);
        plan_done(&p);
        assert_int_equal(errors.n, 0);
}

static void test_oem_layout_applied(void **state) {
        strv errors = {};
        struct plan p;

        assert_int_equal(load_plan_oem(NULL,
                                       "overlay:\n  size: 64m\n  extra_paths: [/var/cache/x]\n"
                                       "binds:\n  seed: newer\n  paths: [/etc/ssh, /home]\n  extra_paths: [/srv/data]\n",
                                       NULL, &p, &errors), 0);
        assert_int_equal(errors.n, 0);
        for (size_t j = 0; j < p.notes.n; j++)
                assert_null(strstr(p.notes.v[j], "ignored"));
        assert_string_equal(p.overlay_size, "64m");
        assert_true(strv_has(&p.overlay_paths, "/var/cache/x"));
        assert_int_equal(p.seed, SEED_NEWER);
        assert_int_equal(p.n_binds, 3);
        plan_done(&p);

        /* a Kairos cloud-config's install.* keys are layout too */
        struct config c;
        const char *y = "install:\n  bind_mounts: [/var/lib/foo]\n  ephemeral_mounts: [/var/cache/y]\n"
                        "  encrypted_partitions: [COS_DATA]\n";
        config_init(&c);
        assert_int_equal(config_load_defaults(&c, &errors), 0);
        c.layer = CONFIG_LAYER_OEM;
        assert_int_equal(config_load_kairos_string(&c, "/oem/90_custom.yaml", y, strlen(y), &errors), 0);
        assert_int_equal(c.bind_extra_paths.n, 1);
        assert_int_equal(c.overlay_extra_paths.n, 1);
        assert_int_equal(c.encrypted_labels.n, 1);
        assert_int_equal(c.ignored.n, 0);
        config_done(&c);
}

static bool has_volume(const struct plan *p, const char *name) {
        for (size_t i = 0; i < p->n_volumes; i++)
                if (streq(p->volumes[i].name, name))
                        return true;
        return false;
}

static void test_oem_new_volumes(void **state) {
        static const struct { const char *mount, *extra, *why; } refused[] = {
                { "/etc/data",        "",                             "below /etc" },
                { "/usr",             "",                             "/usr, which only the image places" },
                { "/usr/local/data",  "",                             "/usr, which only the image" },
                { "/oem/data",        "",                             "/oem, which only the image places" },
                { "/run/data",        "",                             "/run, which only the image places" },
                { "/srv",             "",                             "/srv/image, the mount point of the image's volume img" },
                { "/srv/image/x",     "",                             "the image's volume img" },
                { "/data",            "    encrypted: no\n",          "must be encrypted" },
                { "/data",            "    keyfile: /oem/key\n",      "cannot name a key file" },
                { "/data",            "    unlock: [keyfile]\n",      "cannot be unlocked by a key file" },
                { "/data",            "    match: { fs_label: COS_PERSISTENT }\n",
                  "its filesystem label COS_PERSISTENT is how the image's volume persistent is found" },
        };
        const char *image = "volumes:\n  - name: img\n    match: { luks_label: IMG }\n    mount: /srv/image\n";
        strv errors = {};
        struct plan p;

        assert_int_equal(load_plan_oem(image, "volumes:\n  - name: data\n    match: { luks_label: DATA }\n"
                                              "    mount: /data\n    unlock: [tpm2, recovery-key]\n", NULL, &p, &errors), 0);
        assert_int_equal(errors.n, 0);
        assert_int_equal(p.notes.n, 0);
        assert_true(has_volume(&p, "data"));
        plan_done(&p);

        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                char oem[512], prefix[128];
                bool found = false;

                snprintf(oem, sizeof oem, "volumes:\n  - name: data\n    mount: %s\n%s%s", refused[i].mount,
                         strstr(refused[i].extra, "match:") ? "" : "    match: { luks_label: DATA }\n", refused[i].extra);
                assert_int_equal(load_plan_oem(image, oem, NULL, &p, &errors), 0);
                assert_int_equal(errors.n, 0);
                assert_false(has_volume(&p, "data"));
                snprintf(prefix, sizeof prefix, "/oem/usi-init.yaml:2:5: volume data ignored: ");
                for (size_t j = 0; j < p.notes.n; j++)
                        found = found || (strncmp(p.notes.v[j], prefix, strlen(prefix)) == 0 &&
                                          strstr(p.notes.v[j], refused[i].why));
                if (!found)
                        for (size_t j = 0; j < p.notes.n; j++)
                                print_error("%s: note: %s\n", refused[i].mount, p.notes.v[j]);
                assert_true(found);
                plan_done(&p);
        }
}

static void test_rd_usi_config_on_oem(void **state) {
        char dir[] = "/tmp/test-config-XXXXXX", path[512];
        struct plan_inputs lo = PLAN_INPUTS_INIT;
        struct cmdline cl;
        strv errors = {};
        struct plan p;

        assert_non_null(mkdtemp(dir));
        write_below(dir, "oem", NULL);
        write_below(dir, "oem/extra.yaml", "tpm:\n  measure_phases: false\noverlay:\n  size: 32m\n");
        lo.root = dir;
        lo.cmdline = "rd.usi.config=/oem/extra.yaml";

        /* before /oem is mounted it is not read, and not an error */
        cmdline_init(&cl);
        assert_int_equal(plan_load(&lo, false, &cl, &p, &errors), 0);
        assert_true(p.measure_phases);
        assert_string_equal(p.overlay_size, "25%");
        cmdline_done(&cl);
        plan_done(&p);

        /* after, it is read as the /oem layer: the layout is taken, trust is not */
        cmdline_init(&cl);
        assert_int_equal(plan_load(&lo, true, &cl, &p, &errors), 0);
        assert_int_equal(errors.n, 0);
        assert_true(p.measure_phases);
        assert_string_equal(p.overlay_size, "32m");
        snprintf(path, sizeof path, "%s/oem/extra.yaml:2:3: tpm.measure_phases " IGNORED_ONLY_IMAGE, dir);
        assert_true(strv_has(&p.notes, path));
        cmdline_done(&cl);
        plan_done(&p);

        rm_rf(dir);
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
                cmocka_unit_test(test_provenance_table),
                cmocka_unit_test(test_oem_trust_ignored),
                cmocka_unit_test(test_oem_layout_applied),
                cmocka_unit_test(test_oem_new_volumes),
                cmocka_unit_test(test_rd_usi_config_on_oem),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
