/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-c/json.h>

#include "testutil.h"

/* Kairos' default persistent paths (PERSISTENT_STATE_PATHS). */
static const char *const kairos_paths[] = {
        "/etc/cni", "/etc/init.d", "/etc/iscsi", "/etc/k0s", "/etc/kubernetes", "/etc/modprobe.d",
        "/etc/pwx", "/etc/rancher", "/etc/runlevels", "/etc/ssh", "/etc/ssl/certs", "/etc/sysconfig",
        "/etc/systemd", "/etc/zfs", "/home", "/opt", "/root", "/usr/libexec", "/var/cores",
        "/var/lib/ca-certificates", "/var/lib/cni", "/var/lib/containerd", "/var/lib/calico",
        "/var/lib/dbus", "/var/lib/etcd", "/var/lib/extensions", "/var/lib/confexts", "/var/lib/k0s", "/var/lib/kubelet",
        "/var/lib/longhorn", "/var/lib/osd", "/var/lib/rancher", "/var/lib/rook", "/var/lib/tailscale",
        "/var/lib/wicked", "/var/lib/kairos", "/var/log",
};

static const struct plan_bind *find_bind(const struct plan *p, const char *path) {
        for (size_t i = 0; i < p->n_binds; i++)
                if (streq(p->binds[i].path, path))
                        return &p->binds[i];
        return NULL;
}

static void test_defaults_are_kairos(void **state) {
        strv errors = {};
        struct plan p;

        assert_int_equal(load_plan(NULL, NULL, &p, &errors), 0);
        assert_int_equal(errors.n, 0);

        assert_int_equal(p.n_volumes, 2);
        assert_string_equal(p.volumes[0].name, "oem");
        assert_string_equal(p.volumes[0].mount, "/oem");
        assert_int_equal(p.volumes[0].matches[0].kind, MATCH_LUKS_LABEL);
        assert_string_equal(p.volumes[0].matches[0].value, "COS_OEM");
        assert_int_equal(p.volumes[0].matches[p.volumes[0].n_matches - 1].kind, MATCH_PARTLABEL);
        assert_string_equal(p.volumes[0].matches[p.volumes[0].n_matches - 1].value, "oem");
        assert_int_equal(p.volumes[0].timeout_ms, 5000);
        assert_string_equal(p.volumes[1].name, "persistent");
        assert_string_equal(p.volumes[1].mount, "/usr/local");
        assert_string_equal(p.volumes[1].matches[0].value, "COS_PERSISTENT");
        assert_string_equal(p.volumes[1].matches[p.volumes[1].n_matches - 1].value, "persistent");
        for (size_t i = 0; i < 2; i++) {
                assert_true(p.volumes[i].required);
                assert_false(p.volumes[i].pinned);
                assert_int_equal(p.volumes[i].n_unlock, 1);
                assert_int_equal(p.volumes[i].unlock[0], UNLOCK_TPM2);
        }

        assert_string_equal(p.overlay_size, "25%");
        assert_int_equal(p.overlay_paths.n, 3);
        assert_true(strv_contains(&p.overlay_paths, "/etc"));
        assert_true(strv_contains(&p.overlay_paths, "/var"));
        assert_true(strv_contains(&p.overlay_paths, "/srv"));

        assert_string_equal(p.state_dir, "/usr/local/.state");
        assert_int_equal(p.seed, SEED_MISSING);
        assert_int_equal(p.n_binds, ELEMENTSOF(kairos_paths));
        for (size_t i = 0; i < ELEMENTSOF(kairos_paths); i++)
                assert_non_null(find_bind(&p, kairos_paths[i]));
        assert_string_equal(find_bind(&p, "/etc/ssh")->state, "/usr/local/.state/etc-ssh.bind");
        assert_string_equal(find_bind(&p, "/etc/ssl/certs")->state, "/usr/local/.state/etc-ssl-certs.bind");
        assert_string_equal(find_bind(&p, "/var/lib/kubelet")->state, "/usr/local/.state/var-lib-kubelet.bind");

        assert_string_equal(p.tpm_device, "device:/dev/tpmrm0");
        assert_string_equal(p.signatures.v[0], "/.extra/tpm2-pcr-signature.json");
        assert_string_equal(p.signatures.v[1], "/run/systemd/tpm2-pcr-signature.json");
        assert_string_equal(p.signatures.v[2], "/etc/systemd/tpm2-pcr-signature.json");
        assert_true(p.measure_phases);
        assert_true(p.measure_volume_keys);
        assert_int_equal(p.init.n, 2);
        assert_string_equal(p.init.v[0], "/sbin/init");
        assert_string_equal(p.init.v[1], "/usr/lib/systemd/systemd");
        assert_int_equal(p.on_failure, ON_FAILURE_HALT);
        assert_false(p.shell_allowed);
        assert_int_equal(p.break_stage, -1);
        plan_done(&p);
}

static void test_binds_parents_first(void **state) {
        strv errors = {};
        struct plan p;
        const char *y = "binds:\n  paths: [/var/lib/a/b/c, /var/lib/a, /home/x, /var/lib/a/b, /home, /opt]\n";

        assert_int_equal(load_plan(y, NULL, &p, &errors), 0);
        assert_int_equal(p.n_binds, 6);
        /* every bind comes after each bind that is its parent */
        for (size_t i = 0; i < p.n_binds; i++)
                for (size_t j = i + 1; j < p.n_binds; j++)
                        assert_false(path_startswith(p.binds[i].path, p.binds[j].path));
        assert_string_equal(p.binds[0].path, "/home");
        assert_string_equal(p.binds[1].path, "/opt");
        assert_string_equal(p.binds[5].path, "/var/lib/a/b/c");
        plan_done(&p);

        /* the default list too */
        assert_int_equal(load_plan(NULL, NULL, &p, &errors), 0);
        for (size_t i = 0; i < p.n_binds; i++)
                for (size_t j = i + 1; j < p.n_binds; j++)
                        assert_false(path_startswith(p.binds[i].path, p.binds[j].path));
        plan_done(&p);

        /* and the ephemeral paths */
        assert_int_equal(load_plan("overlay:\n  paths: [/var/lib/x, /var]\n", NULL, &p, &errors), 0);
        assert_string_equal(p.overlay_paths.v[0], "/var");
        plan_done(&p);
        assert_int_equal(errors.n, 0);
}

static void test_extra_paths(void **state) {
        strv errors = {};
        struct plan p;

        /* re-listing a default path is harmless; a new one is added */
        assert_int_equal(load_plan("binds:\n  extra_paths: [/etc/ssh, /var/lib/foo]\noverlay:\n  extra_paths: [/var/cache]\n",
                                   NULL, &p, &errors), 0);
        assert_int_equal(p.n_binds, ELEMENTSOF(kairos_paths) + 1);
        assert_string_equal(find_bind(&p, "/var/lib/foo")->state, "/usr/local/.state/var-lib-foo.bind");
        assert_true(strv_contains(&p.overlay_paths, "/var/cache"));
        plan_done(&p);
}

static void test_cmdline_overrides(void **state) {
        strv errors = {};
        struct plan p;

        assert_int_equal(load_plan(NULL, "rd.immucore.oemlabel=MYOEM rd.immucore.oemtimeout=9 rd.usi.timeout=40 "
                                         "rd.cos.overlay=tmpfs:10% rd.usi.tpm2_device=swtpm:path=/s init=/bin/sh "
                                         "rd.usi.break=binds rd.usi.debug rd.immucore.uki -- single",
                                   &p, &errors), 0);
        assert_string_equal(p.volumes[0].matches[0].value, "MYOEM");
        assert_int_equal(p.volumes[0].timeout_ms, 9000);
        assert_int_equal(p.volumes[1].timeout_ms, 40000);
        assert_string_equal(p.overlay_size, "10%");
        assert_string_equal(p.tpm_device, "swtpm:path=/s");
        assert_string_equal(p.init.v[0], "/bin/sh");
        assert_int_equal(p.init.n, 3);
        assert_int_equal(p.break_stage, STAGE_BINDS);
        assert_true(p.debug);
        assert_true(p.usi_mode);
        /* USI mode declares every default volume encrypted */
        assert_true(plan_volume_needs_crypt(&p, &p.volumes[0]));
        assert_true(plan_volume_needs_crypt(&p, &p.volumes[1]));
        assert_int_equal(p.init_args.n, 1);
        assert_string_equal(p.init_args.v[0], "single");
        plan_done(&p);

        /* outside USI mode a default volume may be plain */
        assert_int_equal(load_plan(NULL, NULL, &p, &errors), 0);
        assert_false(plan_volume_needs_crypt(&p, &p.volumes[0]));
        plan_done(&p);

        /* bad values become notes, not failures */
        assert_int_equal(load_plan(NULL, "rd.cos.overlay=block:/dev/sda rd.usi.break=nowhere init=sh rd.usi.nope", &p, &errors), 0);
        assert_string_equal(p.overlay_size, "25%");
        assert_int_equal(p.break_stage, -1);
        assert_int_equal(p.notes.n, 4);
        plan_done(&p);
        assert_int_equal(errors.n, 0);
}

static void test_failure_policy(void **state) {
        strv errors = {};
        struct plan p;

        assert_int_equal(load_plan("on_failure: shell\n", NULL, &p, &errors), 0);
        assert_int_equal(p.on_failure, ON_FAILURE_HALT);  /* not allowed: fail closed */
        assert_int_equal(p.notes.n, 1);
        plan_done(&p);

        assert_int_equal(load_plan("on_failure: shell\nallow_shell: true\n", NULL, &p, &errors), 0);
        assert_int_equal(p.on_failure, ON_FAILURE_SHELL);
        plan_done(&p);

        assert_int_equal(load_plan(NULL, "rd.usi.shell", &p, &errors), 0);
        assert_int_equal(p.on_failure, ON_FAILURE_SHELL);
        assert_true(p.shell_allowed);
        plan_done(&p);

        assert_int_equal(load_plan(NULL, "rd.immucore.rebootonfailure", &p, &errors), 0);
        assert_int_equal(p.on_failure, ON_FAILURE_REBOOT);
        assert_int_equal(p.reboot_delay_sec, 10);
        plan_done(&p);

        assert_int_equal(load_plan("on_failure: reboot\n", "rd.usi.on_failure=halt", &p, &errors), 0);
        assert_int_equal(p.on_failure, ON_FAILURE_HALT);
        plan_done(&p);
        assert_int_equal(errors.n, 0);
}

/* tpm.measure_volume_keys (PCR 15) is on by default and turned off alone. */
static void test_measure_volume_keys(void **state) {
        strv errors = {};
        struct plan p;

        assert_int_equal(load_plan("tpm:\n  measure_volume_keys: false\n", NULL, &p, &errors), 0);
        assert_false(p.measure_volume_keys);
        assert_true(p.measure_phases);
        plan_done(&p);
        assert_int_equal(errors.n, 0);
}

/* tpm.timeout: each TPM command's deadline, 30 s by default, 0 for none;
 * more than an hour is refused with the key named. */
static void test_tpm_timeout(void **state) {
        strv errors = {};
        struct plan p;

        assert_int_equal(load_plan("", NULL, &p, &errors), 0);
        assert_int_equal(p.tpm_timeout_ms, 30000);
        plan_done(&p);
        assert_int_equal(load_plan("tpm:\n  timeout: 2\n", NULL, &p, &errors), 0);
        assert_int_equal(p.tpm_timeout_ms, 2000);
        plan_done(&p);
        assert_int_equal(load_plan("tpm:\n  timeout: 0\n", NULL, &p, &errors), 0);
        assert_int_equal(p.tpm_timeout_ms, 0);
        plan_done(&p);
        assert_int_equal(errors.n, 0);
        assert_true(load_plan("tpm:\n  timeout: 4000\n", NULL, &p, &errors) < 0);
        assert_true(errors.n > 0 && strstr(errors.v[0], "seconds from 0 to 3600"));
        strv_clear(&errors);
}

/* tpm.bind_volumes: warn by default, require taken from the image, a word
 * it does not know named, and require without the volume-key measurements
 * (which make the chain) refused. /oem cannot set it (a trust key). */
static void test_bind_volumes(void **state) {
        strv errors = {};
        struct plan p;

        assert_int_equal(load_plan(NULL, NULL, &p, &errors), 0);
        assert_int_equal(p.bind_volumes, BIND_WARN);
        plan_done(&p);
        assert_int_equal(load_plan("tpm:\n  bind_volumes: require\n", NULL, &p, &errors), 0);
        assert_int_equal(p.bind_volumes, BIND_REQUIRE);
        plan_done(&p);
        assert_int_equal(errors.n, 0);

        assert_int_equal(load_plan("tpm:\n  bind_volumes: always\n", NULL, &p, &errors), -EINVAL);
        assert_true(errors.n > 0 && strstr(errors.v[0], "unknown volume binding policy 'always'; expected one of: warn, require"));
        strv_clear(&errors);
        assert_int_equal(load_plan("tpm:\n  bind_volumes: require\n  measure_volume_keys: false\n", NULL, &p, &errors),
                         -EINVAL);
        assert_true(errors.n > 0 && strstr(errors.v[0], "expected tpm.measure_volume_keys: true"));
        strv_clear(&errors);

        assert_int_equal(load_plan_oem("tpm:\n  bind_volumes: require\n", "tpm:\n  bind_volumes: warn\n", NULL, &p,
                                       &errors), 0);
        assert_int_equal(p.bind_volumes, BIND_REQUIRE);
        assert_true(p.notes.n > 0 && strstr(p.notes.v[0], "tpm.bind_volumes ignored: only the image may set this"));
        plan_done(&p);
        strv_clear(&errors);
}

/* tpm.reseal: off by default, auto from the image, /oem cannot turn it on
 * (a disk's holder would have the boot write tokens). */
static void test_reseal(void **state) {
        strv errors = {};
        struct plan p;

        assert_int_equal(load_plan(NULL, NULL, &p, &errors), 0);
        assert_int_equal(p.reseal, RESEAL_OFF);
        plan_done(&p);
        assert_int_equal(load_plan("tpm:\n  reseal: auto\n", NULL, &p, &errors), 0);
        assert_int_equal(p.reseal, RESEAL_AUTO);
        plan_done(&p);
        assert_int_equal(load_plan("tpm:\n  reseal: always\n", NULL, &p, &errors), -EINVAL);
        assert_true(errors.n > 0 && strstr(errors.v[0], "unknown reseal policy 'always'; expected one of: off, auto"));
        strv_clear(&errors);
        assert_int_equal(load_plan_oem(NULL, "tpm:\n  reseal: auto\n", NULL, &p, &errors), 0);
        assert_int_equal(p.reseal, RESEAL_OFF);
        assert_true(p.notes.n > 0 && strstr(p.notes.v[0], "tpm.reseal ignored: only the image may set this"));
        plan_done(&p);
        strv_clear(&errors);
}

static void test_volumes(void **state) {
        strv errors = {};
        struct plan p;
        const char *y = "volumes:\n"
                        "  - name: data\n    match: { uuid: 0b5e0f3c-1111-2222-3333-444455556666, luks_label: DATA }\n"
                        "    mount: /data\n    unlock: [tpm2, passphrase, keyfile]\n    keyfile: /etc/data.key\n"
                        "    required: false\n"
                        "  - name: oem\n    enabled: false\n"
                        "  - name: persistent\n    mount: /persist\n"
                        "binds:\n  state_dir: /persist/.state\n";

        assert_int_equal(load_plan(y, NULL, &p, &errors), 0);
        assert_int_equal(p.n_volumes, 2);
        assert_string_equal(p.volumes[0].name, "persistent");
        assert_string_equal(p.volumes[0].mount, "/persist");
        assert_string_equal(p.volumes[1].name, "data");
        assert_true(p.volumes[1].pinned);
        assert_int_equal(p.volumes[1].matches[0].kind, MATCH_UUID);
        assert_int_equal(p.volumes[1].n_unlock, 3);
        assert_int_equal(p.volumes[1].unlock[1], UNLOCK_PASSPHRASE);
        assert_string_equal(p.volumes[1].keyfile, "/etc/data.key");
        assert_false(p.volumes[1].required);
        assert_string_equal(find_bind(&p, "/etc/ssh")->state, "/persist/.state/etc-ssh.bind");
        assert_int_equal(p.notes.n, 0);
        plan_done(&p);

        /* Kairos encrypted_partitions: known labels become encrypted, others unlock-only volumes */
        struct config c;
        struct cmdline cl;
        const char *k = "install:\n  encrypted_partitions: [COS_PERSISTENT, COS_DATA]\n";
        config_init(&c);
        cmdline_init(&cl);
        assert_int_equal(config_load_defaults(&c, &errors), 0);
        assert_int_equal(config_load_kairos_string(&c, "k.yaml", k, strlen(k), &errors), 0);
        assert_int_equal(plan_build(&c, &cl, &p, &errors), 0);
        assert_int_equal(p.n_volumes, 3);
        assert_int_equal(p.volumes[0].encrypted, ENCRYPTION_AUTO);
        assert_int_equal(p.volumes[1].encrypted, ENCRYPTION_YES);
        assert_string_equal(p.volumes[2].name, "COS_DATA");
        assert_null(p.volumes[2].mount);
        assert_int_equal(p.volumes[2].encrypted, ENCRYPTION_YES);
        plan_done(&p);
        config_done(&c);
        cmdline_done(&cl);
        assert_int_equal(errors.n, 0);
}

static void test_state_dir_not_persistent_note(void **state) {
        strv errors = {};
        struct plan p;

        assert_int_equal(load_plan("binds:\n  state_dir: /run/state\n", NULL, &p, &errors), 0);
        assert_int_equal(p.notes.n, 1);
        assert_non_null(strstr(p.notes.v[0], "will not persist"));
        plan_done(&p);
}

static void test_state_name(void **state) {
        char *s;

        assert_int_equal(plan_state_name("/etc/ssh", &s), 0);
        assert_string_equal(s, "etc-ssh.bind");
        free(s);
        assert_int_equal(plan_state_name("/var/lib/a-b", &s), 0);
        assert_string_equal(s, "var-lib-a-b.bind");
        free(s);
}

static void test_json(void **state) {
        strv errors = {};
        struct plan p;
        struct json_object *o, *v;

        assert_int_equal(load_plan(NULL, NULL, &p, &errors), 0);
        o = plan_to_json(&p);
        assert_non_null(o);
        assert_true(json_object_object_get_ex(o, "volumes", &v));
        assert_int_equal(json_object_array_length(v), 2);
        v = json_object_array_get_idx(v, 1);
        assert_string_equal(json_object_get_string(json_object_object_get(v, "mount")), "/usr/local");
        assert_string_equal(json_object_get_string(json_object_object_get(v, "device_mapper")), "/dev/mapper/persistent");
        assert_true(json_object_object_get_ex(o, "binds", &v));
        assert_string_equal(json_object_get_string(json_object_object_get(v, "state_dir")), "/usr/local/.state");
        assert_int_equal(json_object_array_length(json_object_object_get(v, "entries")), ELEMENTSOF(kairos_paths));
        assert_true(json_object_object_get_ex(o, "actions", &v));
        /* enter-initrd, 2 x (find, unlock, mount), reload-config, the binding
         * check, volume keys (PCR 15) and leave-initrd after the last unlock,
         * tmpfs, 3 overlays, binds, 2 extension sources + trust + stage, exec */
        assert_int_equal(json_object_array_length(v), 1 + 6 + 1 + 3 + 1 + 3 + ELEMENTSOF(kairos_paths) + 4 + 1);
        /* enter-initrd, find oem, unlock oem, mount oem, reload, find persistent, unlock persistent */
        assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(v, 6), "subject")),
                            "persistent");
        assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(v, 7), "subject")),
                            "volume-binding");
        assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(v, 8), "subject")),
                            "volume-keys");
        assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(v, 9), "subject")),
                            "leave-initrd");
        assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(v, 10), "action")),
                            "mount");
        assert_string_equal(json_object_get_string(json_object_object_get(json_object_object_get(o, "tpm"),
                                                                          "bind_volumes")), "warn");
        assert_true(json_object_get_boolean(json_object_object_get(json_object_object_get(o, "tpm"),
                                                                   "measure_volume_keys")));
        assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(v, 0), "action")), "measure");
        for (const char *const *k = (const char *const[]) { "version", "usi_mode", "tpm", "overlay", "root", "init",
                                                             "on_failure", "break", "notes", "extensions", "kairos",
                                                             "fsck", NULL }; *k; k++)
                assert_true(json_object_object_get_ex(o, *k, NULL));
        json_object_put(o);
        plan_done(&p);
}

/* fsck.mode=, fsck.repair= and the Kairos mode come through the command
 * line's table into the plan, and `plan` shows them, JSON and text. */
static const char *json_str(struct json_object *o, const char *obj, const char *key) {
        struct json_object *v;
        assert_true(json_object_object_get_ex(o, obj, &v));
        return json_object_get_string(json_object_object_get(v, key));
}

static void test_cmdline_facts_shown(void **state) {
        strv errors = {};
        struct plan p;
        struct json_object *o;
        char *text = NULL;
        size_t len = 0;

        assert_int_equal(load_plan(NULL, NULL, &p, &errors), 0);
        o = plan_to_json(&p);
        assert_non_null(o);
        assert_string_equal(json_str(o, "fsck", "mode"), "auto");
        assert_string_equal(json_str(o, "fsck", "repair"), "preen");
        assert_string_equal(json_str(o, "kairos", "mode"), "unknown");
        assert_null(json_str(o, "kairos", "uki"));
        assert_null(json_str(o, "kairos", "boot_entry"));
        json_object_put(o);
        plan_done(&p);

        assert_int_equal(load_plan(NULL, "root=LABEL=COS_RECOVERY kairos.reset fsck.mode=force fsck.repair=no", &p, &errors), 0);
        o = plan_to_json(&p);
        assert_non_null(o);
        assert_string_equal(json_str(o, "fsck", "mode"), "force");
        assert_string_equal(json_str(o, "fsck", "repair"), "no");
        assert_string_equal(json_str(o, "kairos", "mode"), "autoreset_mode");
        json_object_put(o);

        FILE *f = open_memstream(&text, &len);
        assert_int_equal(plan_print_text(&p, f), 0);
        fclose(f);
        assert_non_null(strstr(text, "\nKairos mode: autoreset_mode (from the kernel command line)\n"));
        assert_non_null(strstr(text, "\nfsck of ext file systems: mode force, repair no\n"));
        free(text);
        plan_done(&p);
        assert_int_equal(errors.n, 0);
}

/* extensions: the defaults reproduce Kairos (both sources, the image's
 * verity.d and the EFI keys); each source and anchor can be turned off; a
 * certificate directory the final OS can write is refused. */
static void test_extensions(void **state) {
        strv errors = {};
        struct plan p;

        assert_int_equal(load_plan(NULL, NULL, &p, &errors), 0);
        assert_true(p.ext_source[EXT_SOURCE_STUB]);
        assert_true(p.ext_source[EXT_SOURCE_KAIROS]);
        assert_int_equal(p.ext_cert_dirs.n, 2);
        assert_string_equal(p.ext_cert_dirs.v[0], "/usr/lib/verity.d");
        assert_string_equal(p.ext_cert_dirs.v[1], "/etc/verity.d");
        assert_true(p.ext_efi_keys);
        assert_non_null(find_bind(&p, "/var/lib/kairos"));
        assert_int_equal(p.notes.n, 0);
        plan_done(&p);

        /* A bind list without /var/lib/kairos: said, the plan still valid. */
        assert_int_equal(load_plan("binds:\n  paths: [/etc/ssh]\n", NULL, &p, &errors), 0);
        assert_int_equal(p.notes.n, 1);
        assert_non_null(strstr(p.notes.v[0], "/var/lib/kairos/extensions is not on a volume or a persistent path"));
        plan_done(&p);
        assert_int_equal(load_plan("binds:\n  paths: [/var/lib]\n", NULL, &p, &errors), 0);
        assert_int_equal(p.notes.n, 0);
        plan_done(&p);

        assert_int_equal(load_plan("extensions:\n  sources: [kairos]\n  certificates: []\n  efi_keys: false\n",
                                   NULL, &p, &errors), 0);
        assert_false(p.ext_source[EXT_SOURCE_STUB]);
        assert_true(p.ext_source[EXT_SOURCE_KAIROS]);
        assert_int_equal(p.ext_cert_dirs.n, 0);
        assert_false(p.ext_efi_keys);
        plan_done(&p);

        assert_int_equal(load_plan("extensions:\n  sources: []\n", NULL, &p, &errors), 0);
        assert_false(p.ext_source[EXT_SOURCE_STUB]);
        assert_false(p.ext_source[EXT_SOURCE_KAIROS]);
        plan_done(&p);
        assert_int_equal(errors.n, 0);

        assert_int_equal(load_plan("extensions:\n  sources: [stub, usb, stub]\n", NULL, &p, &errors), -EINVAL);
        assert_int_equal(errors.n, 2);
        assert_non_null(strstr(errors.v[0], "test.yaml:2:19: unknown extension source 'usb'; expected one of: stub, kairos"));
        assert_non_null(strstr(errors.v[1], "test.yaml:2:24: extension source 'stub' is listed twice"));
        strv_clear(&errors);

        /* On the persistent volume, or under a persistent path: refused. */
        assert_int_equal(load_plan("extensions:\n  certificates: [/usr/lib/verity.d, /usr/local/keys, /etc/ssh/verity.d]\n",
                                   NULL, &p, &errors), -EINVAL);
        assert_int_equal(errors.n, 2);
        assert_non_null(strstr(errors.v[0], "test.yaml:2:37: extension certificate directory /usr/local/keys is on a volume (/usr/local)"));
        assert_non_null(strstr(errors.v[1], "/etc/ssh/verity.d is on a persistent path (/etc/ssh)"));
        strv_clear(&errors);
}


/* Where each trust setting came from: the image's file with its position,
 * the built-in defaults, or the kernel command line; never /oem. */
static void test_trust_origins(void **state) {
        static const char *const oem = "tpm:\n  measure_phases: false\ninit: [/oem/evil]\n"
                                       "volumes:\n  - name: oem\n    unlock: [passphrase]\n";
        strv errors = {};
        struct plan p;

        assert_int_equal(load_plan_oem("tpm:\n  measure_phases: true\nluks:\n  ciphers: [aes-xts-plain64, serpent-xts-plain64]\n",
                                       oem, "rd.usi.shell init=/sbin/other", &p, &errors), 0);
        assert_int_equal(errors.n, 0);
        assert_string_equal(trust_origin(&p, "tpm.measure_phases"), "/etc/usi-init/config.yaml:2:19");
        assert_string_equal(trust_origin(&p, "luks.ciphers"), "/etc/usi-init/config.yaml:4:12");
        assert_string_equal(trust_origin(&p, "tpm.measure_volume_keys"), "(built-in defaults)");
        assert_string_equal(trust_origin(&p, "volumes.oem.unlock"), "(built-in defaults)");
        assert_string_equal(trust_origin(&p, "volumes.persistent.match"), "(built-in defaults)");
        assert_string_equal(trust_origin(&p, "init"), "kernel command line");
        assert_string_equal(trust_origin(&p, "on_failure"), "kernel command line");
        assert_string_equal(trust_origin(&p, "allow_shell"), "kernel command line");
        assert_string_equal(trust_origin(&p, "allow_insecure_boot"), "(built-in defaults)");
        for (size_t i = 0; i < p.n_origins; i++)
                assert_null(strstr(p.origins[i].from, "/oem/"));
        for (const char *const *k = (const char *const[]) { "tpm.device", "tpm.signatures", "root.relocate",
                                                             "root.read_only", "extensions.sources",
                                                             "extensions.certificates", "extensions.efi_keys",
                                                             "binds.state_dir", "timeout", "reboot_delay", NULL };
             *k; k++)
                assert_non_null(trust_origin(&p, *k));

        /* the allow-list the header check reads */
        assert_int_equal(p.luks_ciphers.n, 2);
        assert_string_equal(p.luks_ciphers.v[1], "serpent-xts-plain64");

        /* and the same in JSON */
        struct json_object *o = plan_to_json(&p), *v;
        assert_non_null(o);
        assert_true(json_object_object_get_ex(o, "trust_origins", &v));
        assert_string_equal(json_object_get_string(json_object_object_get(v, "tpm.measure_phases")),
                            "/etc/usi-init/config.yaml:2:19");
        assert_true(json_object_object_get_ex(o, "luks", &v));
        assert_int_equal(json_object_array_length(json_object_object_get(v, "ciphers")), 2);
        json_object_put(o);
        plan_done(&p);

        /* the text form names them too */
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        assert_int_equal(load_plan(NULL, "rd.usi.tpm2_device=swtpm:port=2321", &p, &errors), 0);
        assert_int_equal(plan_print_text(&p, f), 0);
        fclose(f);
        assert_non_null(strstr(text, "LUKS2 ciphers allowed: aes-xts-plain64\n"));
        assert_non_null(strstr(text, "  tpm.device                       kernel command line\n"));
        assert_non_null(strstr(text, "  tpm.measure_phases               (built-in defaults)\n"));
        free(text);
        plan_done(&p);
}

/* luks.ciphers: a list of dm-crypt cipher names, never empty. */
static void test_luks_ciphers(void **state) {
        expect_error("luks:\n  ciphers: []\n", "test.yaml:2:12: ", "expected at least one cipher");
        expect_error("luks:\n  ciphers: aes-xts-plain64\n", "test.yaml:2:12: ", "expected a list of dm-crypt ciphers");
        expect_error("luks:\n  ciphers: [aes-xts-plain64, \"aes xts\"]\n", "test.yaml:2:30: ", "'aes xts' is not valid");
        expect_error("luks:\n  cipher: [aes-xts-plain64]\n", "test.yaml:2:3: ", "unknown key 'cipher' in luks");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults_are_kairos),
                cmocka_unit_test(test_binds_parents_first),
                cmocka_unit_test(test_extra_paths),
                cmocka_unit_test(test_cmdline_overrides),
                cmocka_unit_test(test_failure_policy),
                cmocka_unit_test(test_measure_volume_keys),
                cmocka_unit_test(test_tpm_timeout),
                cmocka_unit_test(test_bind_volumes),
                cmocka_unit_test(test_reseal),
                cmocka_unit_test(test_volumes),
                cmocka_unit_test(test_state_dir_not_persistent_note),
                cmocka_unit_test(test_state_name),
                cmocka_unit_test(test_json),
                cmocka_unit_test(test_cmdline_facts_shown),
                cmocka_unit_test(test_extensions),
                cmocka_unit_test(test_trust_origins),
                cmocka_unit_test(test_luks_ciphers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
