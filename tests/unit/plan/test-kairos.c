/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* EFI variables from an efivars directory, the Secure Boot state, the Kairos
 * boot mode of /run/cos/, and allow_insecure_boot in the plan. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#include "efivars.h"
#include "kairos-mode.h"

static char dir[] = "/tmp/test-kairos-XXXXXX";

static int setup(void **state) {
        assert_non_null(mkdtemp(dir));
        return 0;
}

static int teardown(void **state) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static int open_dir(void) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

/* An EFI variable file as efivarfs shows it: attributes, then the value. */
static void put_var(const char *name, const char *guid, const void *value, size_t len) {
        char path[512];
        uint8_t attr[4] = { 0x06, 0, 0, 0 };
        snprintf(path, sizeof path, "%s/%s-%s", dir, name, guid);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, attr, 4), 4);
        if (len)
                assert_int_equal(write(fd, value, len), (ssize_t) len);
        close(fd);
}

/* A boot loader interface string: UTF-16LE with its terminating NUL. */
static void put_string(const char *name, const char *ascii) {
        uint8_t buf[512] = {};
        size_t n = strlen(ascii);
        for (size_t i = 0; i < n; i++)
                buf[2 * i] = (uint8_t) ascii[i];
        put_var(name, EFI_LOADER_GUID, buf, 2 * n + 2);
}

static void drop_var(const char *name, const char *guid) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s-%s", dir, name, guid);
        (void) unlink(path);
}

static void test_secure_boot(void **state) {
        int fd = open_dir();
        uint8_t v;

        assert_int_equal(secure_boot_state(-1), SECURE_BOOT_NO_EFI);
        /* EFI without the variable: no Secure Boot support, so off. */
        assert_int_equal(secure_boot_state(fd), SECURE_BOOT_OFF);
        v = 1;
        put_var("SecureBoot", EFI_GLOBAL_GUID, &v, 1);
        assert_int_equal(secure_boot_state(fd), SECURE_BOOT_ON);
        v = 0;
        put_var("SecureBoot", EFI_GLOBAL_GUID, &v, 1);
        assert_int_equal(secure_boot_state(fd), SECURE_BOOT_OFF);
        /* Malformed: only attributes, two bytes, another value. */
        put_var("SecureBoot", EFI_GLOBAL_GUID, NULL, 0);
        assert_int_equal(secure_boot_state(fd), SECURE_BOOT_OFF);
        put_var("SecureBoot", EFI_GLOBAL_GUID, "\x01\x01", 2);
        assert_int_equal(secure_boot_state(fd), SECURE_BOOT_OFF);
        v = 2;
        put_var("SecureBoot", EFI_GLOBAL_GUID, &v, 1);
        assert_int_equal(secure_boot_state(fd), SECURE_BOOT_OFF);
        /* The variable of another vendor GUID is not the firmware's. */
        drop_var("SecureBoot", EFI_GLOBAL_GUID);
        v = 1;
        put_var("SecureBoot", EFI_LOADER_GUID, &v, 1);
        assert_int_equal(secure_boot_state(fd), SECURE_BOOT_OFF);
        drop_var("SecureBoot", EFI_LOADER_GUID);
        /* A symlink is never followed. */
        put_var("Target", EFI_GLOBAL_GUID, &v, 1);
        char from[512];
        snprintf(from, sizeof from, "%s/SecureBoot-%s", dir, EFI_GLOBAL_GUID);
        assert_int_equal(symlink("Target-" EFI_GLOBAL_GUID, from), 0);
        assert_int_equal(secure_boot_state(fd), SECURE_BOOT_OFF);
        assert_int_equal(unlink(from), 0);
        close(fd);
}

static void test_strings(void **state) {
        int fd = open_dir();
        char *s = NULL;

        put_string("LoaderEntrySelected", "active.conf");
        assert_int_equal(efivar_read_string(fd, "LoaderEntrySelected", EFI_LOADER_GUID, &s), 0);
        assert_string_equal(s, "active.conf");
        free(s);
        assert_int_equal(efivar_read_string(fd, "LoaderDevicePartUUID", EFI_LOADER_GUID, &s), -ENOENT);
        /* Shorter than the attribute word. */
        char path[512];
        snprintf(path, sizeof path, "%s/Short-%s", dir, EFI_LOADER_GUID);
        int w = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        assert_int_equal(write(w, "\x06\x00", 2), 2);
        close(w);
        assert_int_equal(efivar_read_string(fd, "Short", EFI_LOADER_GUID, &s), -EBADMSG);
        close(fd);

        /* UTF-16LE: no NUL at the end, a NUL in the middle, non-ASCII, a
         * surrogate pair, a lone surrogate, an odd trailing byte. */
        static const uint8_t plain[] = { 'a', 0, 'b', 0 };
        assert_int_equal(efi_utf16le_to_utf8(plain, sizeof plain, &s), 0);
        assert_string_equal(s, "ab");
        free(s);
        static const uint8_t nul[] = { 'a', 0, 0, 0, 'b', 0 };
        assert_int_equal(efi_utf16le_to_utf8(nul, sizeof nul, &s), 0);
        assert_string_equal(s, "a");
        free(s);
        static const uint8_t umlaut[] = { 0xe4, 0x00, 0xac, 0x20 };   /* U+00E4 U+20AC */
        assert_int_equal(efi_utf16le_to_utf8(umlaut, sizeof umlaut, &s), 0);
        assert_string_equal(s, "\xc3\xa4\xe2\x82\xac");
        free(s);
        static const uint8_t pair[] = { 0x3d, 0xd8, 0x00, 0xde };      /* U+1F600 */
        assert_int_equal(efi_utf16le_to_utf8(pair, sizeof pair, &s), 0);
        assert_string_equal(s, "\xf0\x9f\x98\x80");
        free(s);
        static const uint8_t lone[] = { 0x00, 0xdc, 'x', 0, 'y' };
        assert_int_equal(efi_utf16le_to_utf8(lone, sizeof lone, &s), 0);
        assert_string_equal(s, "\xef\xbf\xbdx");
        free(s);
}

/* The LoaderEntrySelected table, as kairos-sdk reads it. */
static void test_uki_modes(void **state) {
        static const struct { bool from_install; const char *entry, *mode, *uki; } t[] = {
                { true,  "active.conf",            "active_mode",    "uki_boot_mode" },
                { true,  "active_v3.2.conf",       "active_mode",    "uki_boot_mode" },
                { true,  "passive.conf",           "passive_mode",   "uki_boot_mode" },
                { true,  "recovery.conf",          "recovery_mode",  "uki_boot_mode" },
                { true,  "statereset.conf",        "autoreset_mode", "uki_boot_mode" },
                { true,  "autoreset.conf",         "unknown",        "uki_boot_mode" },
                { true,  "active.efi",             "unknown",        "uki_boot_mode" },
                { true,  "active",                 "unknown",        "uki_boot_mode" },
                { true,  "my-active.conf",         "unknown",        "uki_boot_mode" },
                { true,  "",                       "unknown",        "uki_boot_mode" },
                { true,  NULL,                     "unknown",        "uki_boot_mode" },
                /* Not booted from a disk (no LoaderDevicePartUUID): install media. */
                { false, "active.conf",            "live_mode",      "uki_install_mode" },
                { false, NULL,                     "live_mode",      "uki_install_mode" },
        };
        struct kairos_mode m;

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                kairos_mode_uki(t[i].from_install, t[i].entry, &m);
                assert_string_equal(m.mode, t[i].mode);
                assert_string_equal(m.uki, t[i].uki);
        }
}

/* The mode the plan decides for a command line (no evidence of a UKI boot). */
static void cmdline_mode(const char *cmdline, struct kairos_mode *ret) {
        strv errors = {};
        struct plan p;

        assert_int_equal(load_plan(NULL, cmdline, &p, &errors), 0);
        assert_false(p.usi_mode);
        *ret = p.kairos;        /* static strings */
        assert_null(p.boot_entry);
        plan_done(&p);
}

/* The Kairos layout's sub-directory per mode, as immucore picks it. */
static void test_extension_dirs(void **state) {
        static const struct { bool from_install; const char *entry, *dir; } t[] = {
                { true,  "active.conf",     "active" },
                { true,  "passive.conf",    "passive" },
                { true,  "recovery.conf",   "recovery" },
                { true,  "statereset.conf", "recovery" },
                { true,  "foo.conf",        NULL },
                { true,  NULL,              NULL },
                { false, "active.conf",     NULL },
        };
        struct kairos_mode m;

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                kairos_mode_uki(t[i].from_install, t[i].entry, &m);
                if (t[i].dir)
                        assert_string_equal(kairos_mode_extension_dir(&m), t[i].dir);
                else
                        assert_null(kairos_mode_extension_dir(&m));
        }
        cmdline_mode("root=LABEL=COS_PASSIVE", &m);
        assert_string_equal(kairos_mode_extension_dir(&m), "passive");
        cmdline_mode("root=live:CDLABEL=COS_LIVE", &m);
        assert_null(kairos_mode_extension_dir(&m));
}

static void test_cmdline_modes(void **state) {
        static const struct { const char *cmdline, *mode; } t[] = {
                { "root=LABEL=COS_ACTIVE console=ttyS0",                     "active_mode" },
                { "root=LABEL=COS_PASSIVE",                                  "passive_mode" },
                { "root=LABEL=COS_RECOVERY",                                 "recovery_mode" },
                { "root=LABEL=COS_SYSTEM",                                   "recovery_mode" },
                { "recovery-mode",                                           "recovery_mode" },
                { "root=LABEL=COS_RECOVERY kairos.reset",                    "autoreset_mode" },
                { "root=live:CDLABEL=COS_LIVE",                              "live_mode" },
                { "root=live:LABEL=COS_LIVE",                                "live_mode" },
                { "netboot",                                                 "live_mode" },
                { "console=ttyS0 quiet",                                     "unknown" },
                { "",                                                        "unknown" },
                /* The recovery image boots as a live root: its label wins. */
                { "root=live:CDLABEL=COS_RECOVERY rd.live.dir=/",            "recovery_mode" },
                { "root=\"LABEL=COS_ACTIVE\"",                               "active_mode" },
                { "root=LABEL=COS_ACTIVE kairos.reset",                      "autoreset_mode" },
                { "netboot=1",                                               "live_mode" },
                /* The last root= wins, as the kernel's. */
                { "root=LABEL=COS_ACTIVE root=LABEL=COS_PASSIVE",            "passive_mode" },
                /* Whole words only: a label elsewhere, or a longer word, is no mode. */
                { "rd.cos.oemlabel=COS_ACTIVE",                              "unknown" },
                { "root=LABEL=COS_ACTIVE_OLD",                               "unknown" },
                { "root=UUID=1234 label=COS_PASSIVE",                        "unknown" },
                { "xkairos.reset rd.immucore.recovery-mode",                 "unknown" },
                { "root=live:/dev/sr0",                                      "unknown" },
                { "init=/netboot",                                           "unknown" },
                /* Words after "--" are the init's. */
                { "-- root=LABEL=COS_ACTIVE",                                "unknown" },
        };
        struct kairos_mode m;

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                cmdline_mode(t[i].cmdline, &m);
                if (!streq(m.mode, t[i].mode))
                        print_error("%s: %s\n", t[i].cmdline, m.mode);
                assert_string_equal(m.mode, t[i].mode);
                assert_null(m.uki);
        }
        cmdline_mode(NULL, &m);
        assert_string_equal(m.mode, "unknown");
}

/* In USI mode the plan takes the boot loader's variables from the facts,
 * read once with the plan inputs, and ignores the command line's words;
 * otherwise the reverse. */
static void test_plan_kairos_facts(void **state) {
        struct plan_facts f = {};
        struct cmdline cl;
        struct config c;
        strv errors = {};
        struct plan p;

        f.loader_entry = strdup("passive.conf");
        f.loader_partuuid = strdup("0fc63daf-8483-4772-8e79-3d69d8477de4");
        assert_non_null(f.loader_entry);
        assert_non_null(f.loader_partuuid);
        config_init(&c);
        assert_int_equal(config_load_defaults(&c, &errors), 0);
        cmdline_init(&cl);
        assert_int_equal(cmdline_parse("root=LABEL=COS_ACTIVE", &cl), 0);

        assert_int_equal(plan_build_on(&c, &cl, &f, &p, &errors), 0);
        assert_false(p.usi_mode);
        assert_string_equal(p.kairos.mode, "active_mode");
        assert_null(p.kairos.uki);
        assert_null(p.boot_entry);
        plan_done(&p);

        assert_int_equal(strv_push(&f.usi_evidence, "EFI variables of systemd-stub: StubInfo"), 0);
        assert_int_equal(plan_build_on(&c, &cl, &f, &p, &errors), 0);
        assert_true(p.usi_mode);
        assert_string_equal(p.kairos.mode, "passive_mode");
        assert_string_equal(p.kairos.uki, "uki_boot_mode");
        assert_string_equal(p.boot_entry, "passive.conf");
        assert_string_equal(p.boot_partuuid, f.loader_partuuid);
        plan_done(&p);

        cmdline_done(&cl);
        config_done(&c);
        plan_facts_done(&f);
        assert_int_equal(errors.n, 0);
}

static void test_write(void **state) {
        int fd = open_dir();
        struct kairos_mode m;
        const char *failed = NULL;
        char path[512], buf[8] = {};

        kairos_mode_uki(true, "passive.conf", &m);
        assert_int_equal(kairos_mode_write(fd, &m, &failed), 0);
        snprintf(path, sizeof path, "%s/passive_mode", dir);
        int r = open(path, O_RDONLY);
        assert_true(r >= 0);
        assert_int_equal(read(r, buf, sizeof buf), 1);
        assert_string_equal(buf, "1");
        close(r);
        snprintf(path, sizeof path, "%s/uki_boot_mode", dir);
        assert_int_equal(access(path, F_OK), 0);
        /* A planted symlink in place of a sentinel is not followed. */
        snprintf(path, sizeof path, "%s/active_mode", dir);
        assert_int_equal(symlink("/nonexistent/elsewhere", path), 0);
        kairos_mode_uki(true, "active.conf", &m);
        assert_int_equal(kairos_mode_write(fd, &m, &failed), -ELOOP);
        assert_string_equal(failed, "active_mode");
        assert_int_equal(unlink(path), 0);
        close(fd);
}

/* allow_insecure_boot: off by default; the config or either option turns it on. */
static void test_plan_insecure(void **state) {
        static const struct { const char *yaml, *cmdline; bool allowed; } t[] = {
                { NULL,                           "",                                false },
                { "allow_insecure_boot: false\n", "",                                false },
                { "allow_insecure_boot: true\n",  "",                                true },
                { NULL,                           "rd.usi.insecure",                 true },
                { NULL,                           "rd.immucore.securebootdisabled",  true },
                { "allow_insecure_boot: false\n", "rd.usi.insecure",                 true },
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                strv errors = {};
                struct plan p;
                assert_int_equal(load_plan(t[i].yaml, t[i].cmdline, &p, &errors), 0);
                assert_int_equal(p.insecure_boot_allowed, t[i].allowed);
                plan_done(&p);
                strv_clear(&errors);
        }
        strv errors = {};
        struct plan p;
        assert_int_equal(load_plan("allow_insecure_boot: maybe\n", NULL, &p, &errors), -EINVAL);
        strv_clear(&errors);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_secure_boot),
                cmocka_unit_test(test_strings),
                cmocka_unit_test(test_uki_modes),
                cmocka_unit_test(test_cmdline_modes),
                cmocka_unit_test(test_plan_kairos_facts),
                cmocka_unit_test(test_extension_dirs),
                cmocka_unit_test(test_write),
                cmocka_unit_test(test_plan_insecure),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
