/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* state.json: the keys tests and `status` rely on, written atomically; and
 * the modules the plan asks for. */
#include <fcntl.h>
#include <json-c/json.h>

#include "modules.h"
#include "runner.h"
#include "stages.h"
#include "state.h"
#include "testutil.h"

static struct json_object *get(struct json_object *o, const char *key) {
        struct json_object *v = NULL;
        assert_true(json_object_object_get_ex(o, key, &v));
        return v;
}

static void fake_boot(struct boot *b) {
        struct boot_options o = { .root = "/" };
        assert_int_equal(boot_init(b, &o), 0);
        struct boot_volume *v = boot_volume_get(b, "oem");
        assert_non_null(v);
        v->found = true;
        v->found_by = MATCH_FS_LABEL;
        v->found_ms = 12;
        v->dev.devnode = strdup("/dev/loop0");
        v->dev.content = CONTENT_FS;
        v->dev.type = strdup("ext4");
        v->dev.label = strdup("COS_OEM");
        v->mount_device = strdup("/dev/loop0");
        v->mounted = true;
        assert_int_equal(boot_add_mount(b, STAGE_MOUNTS, "/dev/loop0", "/oem", "ext4", "defaults", false), 0);
        b->stages[STAGE_DEVICES] = (struct boot_stage_time) { .ran = true, .ms = 7, .start_ms = 2100, .end_ms = 2107 };
}

static void test_keys(void **state) {
        struct boot b;
        struct plan p;
        strv errors = {};

        fake_boot(&b);
        assert_int_equal(load_plan(NULL, NULL, &p, &errors), 0);
        struct json_object *o = state_to_json(&p, &b);
        assert_non_null(o);
        assert_string_equal(json_object_get_string(get(o, "outcome")), "success");
        assert_int_equal(json_object_get_int(get(o, "version")), STATE_VERSION);
        struct json_object *st = json_object_array_get_idx(get(o, "stages"), 0);
        assert_string_equal(json_object_get_string(get(st, "name")), "devices");
        assert_int_equal(json_object_get_int(get(st, "ms")), 7);
        /* the timeline: ms since the kernel started */
        assert_int_equal(json_object_get_int(get(st, "start_ms")), 2100);
        assert_int_equal(json_object_get_int(get(st, "end_ms")), 2107);
        assert_true(json_object_get_int64(get(o, "peak_rss_kb")) > 0);
        /* no TPM connection was used: no tpm record */
        assert_false(json_object_object_get_ex(o, "tpm", NULL));
        struct json_object *v = json_object_array_get_idx(get(o, "volumes"), 0);
        assert_string_equal(json_object_get_string(get(v, "device")), "/dev/loop0");
        assert_string_equal(json_object_get_string(get(v, "found_by")), "fs_label");
        assert_string_equal(json_object_get_string(get(v, "label")), "COS_OEM");
        assert_true(json_object_get_boolean(get(v, "mounted")));
        struct json_object *m = json_object_array_get_idx(get(o, "mounts"), 0);
        assert_string_equal(json_object_get_string(get(m, "target")), "/oem");
        assert_false(json_object_get_boolean(get(m, "existed")));
        assert_non_null(get(get(o, "plan"), "volumes"));

        /* no phases measured: no hand-off record */
        assert_false(json_object_object_get_ex(o, "pcr11_base", NULL));
        assert_false(json_object_object_get_ex(o, "handoff_window", NULL));
        json_object_put(o);

        /* the signed phase window (src/tpm/window.c) */
        b.window.base_known = true;
        b.window.pcr11_base[0] = 0xab;
        b.window.checked = true;
        b.window.unsealable = true;
        snprintf(b.window.signature, sizeof(b.window.signature), "/.extra/tpm2-pcr-signature.json");
        snprintf(b.window.reason, sizeof(b.window.reason), "PCR 11 after leave-initrd is still signed");
        o = state_to_json(&p, &b);
        assert_string_equal(json_object_get_string(get(o, "pcr11_base")),
                            "ab00000000000000000000000000000000000000000000000000000000000000");
        assert_true(json_object_get_boolean(get(get(o, "handoff_window"), "keys_unsealable")));
        assert_string_equal(json_object_get_string(get(get(o, "handoff_window"), "signature")),
                            "/.extra/tpm2-pcr-signature.json");
        assert_string_equal(json_object_get_string(get(get(o, "handoff_window"), "reason")),
                            "PCR 11 after leave-initrd is still signed");

        /* the extensions stage: present once it ran, accepted and rejected apart */
        assert_false(json_object_object_get_ex(o, "extensions", NULL));
        json_object_put(o);
        b.stages[STAGE_EXTENSIONS] = (struct boot_stage_time) { .ran = true, .ms = 5 };
        b.ext_mode_dir = "active";
        assert_int_equal(strv_push(&b.ext_anchor, "efi-db"), 0);
        b.extensions = calloc(2, sizeof *b.extensions);
        assert_non_null(b.extensions);
        b.extensions[0] = (struct boot_extension) { .path = strdup("/.extra/sysext/a.raw"), .source = EXT_SOURCE_STUB,
                                                    .name = strdup("a") };
        b.extensions[1] = (struct boot_extension) { .path = strdup("/var/lib/kairos/confexts/common/b.raw"),
                                                    .source = EXT_SOURCE_KAIROS, .confext = true,
                                                    .reason = strdup("not a GPT image") };
        b.n_extensions = 2;
        o = state_to_json(&p, &b);
        struct json_object *x = get(o, "extensions"), *e;
        assert_int_equal(json_object_get_int(get(x, "ms")), 5);
        assert_string_equal(json_object_get_string(get(x, "kairos_mode_dir")), "active");
        assert_string_equal(json_object_get_string(json_object_array_get_idx(get(x, "anchor"), 0)), "efi-db");
        e = json_object_array_get_idx(get(x, "accepted"), 0);
        assert_string_equal(json_object_get_string(get(e, "name")), "a");
        assert_string_equal(json_object_get_string(get(e, "source")), "stub");
        assert_string_equal(json_object_get_string(get(e, "kind")), "sysext");
        assert_false(json_object_object_get_ex(e, "reason", NULL));
        e = json_object_array_get_idx(get(x, "rejected"), 0);
        assert_string_equal(json_object_get_string(get(e, "path")), "/var/lib/kairos/confexts/common/b.raw");
        assert_string_equal(json_object_get_string(get(e, "source")), "kairos");
        assert_string_equal(json_object_get_string(get(e, "kind")), "confext");
        assert_string_equal(json_object_get_string(get(e, "reason")), "not a GPT image");
        assert_false(json_object_object_get_ex(e, "name", NULL));
        json_object_put(o);

        /* with the unlock connection's figures */
        b.tpm_used = true;
        b.tpm_stats = (struct tpm2_stats) { .commands = 17, .primaries_created = 1, .unsealed = 2 };
        o = state_to_json(&p, &b);
        assert_int_equal(json_object_get_int(get(get(o, "tpm"), "commands")), 17);
        assert_int_equal(json_object_get_int(get(get(o, "tpm"), "unsealed")), 2);
        json_object_put(o);

        boot_fail(&b, -ETIMEDOUT, "volume persistent: no device");
        b.failed_stage = STAGE_DEVICES;
        o = state_to_json(NULL, &b);
        assert_string_equal(json_object_get_string(get(o, "outcome")), "failed");
        assert_string_equal(json_object_get_string(get(o, "failed_stage")), "devices");
        assert_string_equal(json_object_get_string(get(o, "failure")), "volume persistent: no device");
        json_object_put(o);
        plan_done(&p);
        boot_done(&b);
}

static void test_write_atomic(void **state) {
        char dir[] = "/tmp/usi-state.XXXXXX", path[128], cmd[256];
        struct boot b;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/state.json", dir);
        fake_boot(&b);
        assert_int_equal(state_write(NULL, &b, path), 0);
        assert_int_equal(state_write(NULL, &b, path), 0);   /* over the old one */
        struct json_object *o = json_object_from_file(path);
        assert_non_null(o);
        assert_string_equal(json_object_get_string(get(o, "outcome")), "success");
        json_object_put(o);
        snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) = 1 && rm -rf %s", dir, dir);
        assert_int_equal(system(cmd), 0);   /* no temporary file left */
        boot_done(&b);
}

static bool has_need(const struct module_need *n, size_t k, const char *name, bool required) {
        for (size_t i = 0; i < k; i++)
                if (streq(n[i].name, name))
                        return n[i].required == required;
        return false;
}

static void test_modules_for_plan(void **state) {
        struct module_need n[16];
        struct plan p;
        strv errors = {};

        assert_int_equal(load_plan(NULL, NULL, &p, &errors), 0);
        size_t k = modules_for_plan(&p, n, ELEMENTSOF(n));
        assert_true(has_need(n, k, "overlay", true));
        assert_true(has_need(n, k, "dm_crypt", false));
        assert_true(has_need(n, k, "tpm_crb", false));
        assert_true(has_need(n, k, "ext4", false));
        plan_done(&p);

        assert_int_equal(load_plan("volumes:\n  - name: data\n    match: { fs_label: D }\n    mount: /data\n    fstype: xfs\n    encrypted: false\n", NULL, &p, &errors), 0);
        k = modules_for_plan(&p, n, ELEMENTSOF(n));
        assert_true(has_need(n, k, "xfs", true));
        plan_done(&p);
}

static void test_modalias(void **state) {
        assert_true(modalias_is_storage("pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01", "0x010601"));
        assert_true(modalias_is_storage("pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00", NULL));
        assert_false(modalias_is_storage("pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00", "0x020000"));
        assert_true(modalias_is_storage("virtio:d00000002v00001AF4", NULL));
        assert_false(modalias_is_storage("virtio:d00000001v00001AF4", NULL));
        assert_true(modalias_is_storage("usb:v0781p5581d0100dc00dsc00dp00ic08isc06ip50in00", NULL));
        assert_false(modalias_is_storage("usb:v046Dp C52Bd1201dc00dsc00dp00ic03isc01ip01in00", NULL));
        assert_true(modalias_is_storage("scsi:t-0x00", NULL));
        assert_false(modalias_is_storage(NULL, NULL));
}

static void test_missing_modules(void **state) {
        static const struct module_need opt[] = { { "usi_test_no_such_module", false, "a test" } };
        static const struct module_need req[] = { { "usi_test_no_such_module_either", true, "a test" } };
        struct boot b;
        struct boot_options o = { .root = "/" };

        assert_int_equal(boot_init(&b, &o), 0);
        assert_int_equal(modules_load(&b, "/nonexistent-modules-dir", opt, 1), 0);
        assert_int_equal(b.modules_missing.n, 1);
        assert_non_null(strstr(b.warnings.v[0], "optional module usi_test_no_such_module"));
        assert_false(b.failed);
        assert_int_equal(modules_load(&b, "/nonexistent-modules-dir", req, 1), -ENOENT);
        assert_true(b.failed);
        assert_non_null(strstr(b.failure, "required module usi_test_no_such_module_either"));
        boot_done(&b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_keys),
                cmocka_unit_test(test_write_atomic),
                cmocka_unit_test(test_modules_for_plan),
                cmocka_unit_test(test_modalias),
                cmocka_unit_test(test_missing_modules),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
