/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "handoff.h"
#include "volume-keys.h"
#include "runner.h"
#include "stages.h"
#include "pcr15.h"
#include "phase.h"
#include "policy.h"
#include "state.h"
#include "tpm2.h"
#include "tpmtest.h"

/* PCR 15 as systemd-cryptsetup (tpm2-measure-pcr=yes) measures a volume key.
 * Every expected digest comes from the openssl command-line tool, over a
 * message written out literally here, not from the code under test. */

static const char UUID[] = "0b6b1cf5-46c5-4b2c-9e05-4a1c3a6e2f11";

static struct secret *test_key(void) {
        struct secret *k;
        assert_int_equal(secret_new(64, &k), 0);
        for (size_t i = 0; i < 64; i++)
                k->data[i] = (uint8_t) (i * 7 + 3);
        return k;
}

static void key_hex(const struct secret *k, char *out) {
        hex_string(k->data, k->size, out);
}

/* `openssl dgst -ALG -mac HMAC -macopt hexkey:KEY` over the message, in hex. */
static void openssl_hmac(const char *alg, const char *keyhex, const char *message, char *out, size_t size) {
        char path[] = "/tmp/usi-pcr15-msg-XXXXXX", cmd[1024];
        int fd = mkstemp(path);
        FILE *p;

        assert_true(fd >= 0);
        assert_int_equal(write(fd, message, strlen(message)), (ssize_t) strlen(message));
        close(fd);
        snprintf(cmd, sizeof(cmd), "openssl dgst -%s -mac HMAC -macopt hexkey:%s -r < %s", alg, keyhex, path);
        p = popen(cmd, "r");
        assert_non_null(p);
        assert_non_null(fgets(out, (int) size, p));
        assert_int_equal(pclose(p), 0);
        unlink(path);
        out[strcspn(out, " \n")] = '\0';
}

static void test_description(void **state) {
        char d[PCR15_DESCRIPTION_MAX], longname[200];

        assert_int_equal(pcr15_description("oem", UUID, d), 0);
        assert_string_equal(d, "cryptsetup:oem:0b6b1cf5-46c5-4b2c-9e05-4a1c3a6e2f11");
        /* systemd's xescape(name, ":"): ':' and '\' and control bytes as \xNN */
        assert_int_equal(pcr15_description("a:b\\c\td\x80", "U", d), 0);
        assert_string_equal(d, "cryptsetup:a\\x3ab\\x5cc\\x09d\\x80:U");
        assert_int_equal(pcr15_description("x", NULL, d), 0);
        assert_string_equal(d, "cryptsetup:x:");
        memset(longname, ':', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        assert_int_equal(pcr15_description(longname, UUID, d), -ENAMETOOLONG);
}

static void check_digests(const char *name, const char *literal) {
        _cleanup_secret_ struct secret *k = test_key();
        static const struct { TPMI_ALG_HASH alg; const char *name; } algs[] = {
                { TPM2_ALG_SHA1, "sha1" }, { TPM2_ALG_SHA256, "sha256" },
                { TPM2_ALG_SHA384, "sha384" }, { TPM2_ALG_SHA512, "sha512" },
        };
        struct pcr15_digests d;
        char kh[129], want[256], have[129];

        key_hex(k, kh);
        assert_int_equal(pcr15_digests_compute(k, name, UUID, &d), 0);
        assert_string_equal(d.description, literal);
        assert_int_equal(d.n, ELEMENTSOF(algs));
        for (size_t i = 0; i < ELEMENTSOF(algs); i++) {
                size_t k_ = 0;
                while (k_ < d.n && d.v[k_].alg != algs[i].alg)
                        k_++;
                assert_true(k_ < d.n);
                assert_int_equal(d.v[k_].size, tpm2_hash_size(algs[i].alg));
                openssl_hmac(algs[i].name, kh, literal, want, sizeof(want));
                assert_string_equal(hex_string(d.v[k_].digest, d.v[k_].size, have), want);
        }
        /* The key is in none of them. */
        assert_null(memmem(&d, sizeof(d), k->data, 16));
}

static void test_digests(void **state) {
        check_digests("persistent", "cryptsetup:persistent:0b6b1cf5-46c5-4b2c-9e05-4a1c3a6e2f11");
        check_digests("vol:one", "cryptsetup:vol\\x3aone:0b6b1cf5-46c5-4b2c-9e05-4a1c3a6e2f11");
}

/* ---- on a software TPM ----------------------------------------------------- */

struct swtpm {
        char dir[64];
        char tcti[128];
        pid_t pid;
};

/* Until DIR/sock exists (swtpm --daemon may return before it listens):
 * inotify events on the directory, with a deadline. */
static bool wait_socket(const char *dir) {
        char path[128], buf[4096];
        struct stat st;
        int fd = inotify_init1(IN_CLOEXEC);
        bool ok = false;

        snprintf(path, sizeof(path), "%s/sock", dir);
        if (fd < 0 || inotify_add_watch(fd, dir, IN_CREATE) < 0)
                return false;
        for (int waited = 0; waited < 10; waited++) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if ((ok = stat(path, &st) == 0 && S_ISSOCK(st.st_mode)))
                        break;
                if (poll(&p, 1, 1000) > 0)
                        (void) !read(fd, buf, sizeof(buf));
        }
        close(fd);
        return ok;
}

static int swtpm_up(void **state) {
        struct swtpm *s = calloc(1, sizeof(*s));
        char cmd[1024], pidfile[128];
        FILE *f;

        strcpy(s->dir, "/tmp/usi-pcr15-XXXXXX");
        assert_non_null(mkdtemp(s->dir));
        snprintf(pidfile, sizeof(pidfile), "%s/pid", s->dir);
        /* The swtpm TCTI finds the control socket at PATH.ctrl. */
        snprintf(cmd, sizeof(cmd),
                 "swtpm socket --tpm2 --server type=unixio,path=%s/sock --ctrl type=unixio,path=%s/sock.ctrl "
                 "--tpmstate dir=%s --flags not-need-init,startup-clear --daemon --pid file=%s",
                 s->dir, s->dir, s->dir, pidfile);
        /* No swtpm (a build without the test tools): the test says skipped. */
        if (system(cmd) != 0 || !(f = fopen(pidfile, "re"))) {
                free(s);
                *state = NULL;
                return 0;
        }
        assert_int_equal(fscanf(f, "%d", &s->pid), 1);
        fclose(f);
        assert_true(wait_socket(s->dir));
        snprintf(s->tcti, sizeof(s->tcti), "swtpm:path=%s/sock", s->dir);
        *state = s;
        return 0;
}

static int swtpm_down(void **state) {
        struct swtpm *s = *state;
        char cmd[256];

        if (!s)
                return 0;
        kill(s->pid, SIGTERM);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", s->dir);
        (void) !system(cmd);
        free(s);
        return 0;
}

/* Two volumes extended in order land in swtpm's PCR 15 (sha256 and sha1
 * banks) as the chain computed with openssl; state.json records each
 * extend, and the key appears nowhere in it. */
static void test_extend_swtpm(void **state) {
        struct swtpm *s = *state;
        _cleanup_secret_ struct secret *k = test_key();
        _cleanup_tpm2_ struct tpm2_ctx *c = NULL;
        _cleanup_free_ char *why = NULL;
        static const char *const names[] = { "oem", "vol:two" };
        static const char *const literal[] = {
                "cryptsetup:oem:0b6b1cf5-46c5-4b2c-9e05-4a1c3a6e2f11",
                "cryptsetup:vol\\x3atwo:0b6b1cf5-46c5-4b2c-9e05-4a1c3a6e2f11",
        };
        static const struct { TPMI_ALG_HASH alg; const char *name; } banks[] = {
                { TPM2_ALG_SHA256, "sha256" }, { TPM2_ALG_SHA1, "sha1" },
        };
        struct pcr15_digests d[2];
        struct boot b = { .root = "", .root_fd = -1 };
        char kh[129], want[2][129], h[129], have[129];
        uint8_t value[64];

        if (!s)
                skip();
        if (tpm2_open(s->tcti, &c, &why) < 0)
                fail_msg("%s", why);
        key_hex(k, kh);
        for (size_t j = 0; j < ELEMENTSOF(banks); j++)
                memset(want[j], '0', 2 * tpm2_hash_size(banks[j].alg)), want[j][2 * tpm2_hash_size(banks[j].alg)] = 0;
        for (size_t i = 0; i < 2; i++) {
                /* Another key per volume. */
                k->data[0] = (uint8_t) i;
                key_hex(k, kh);
                assert_int_equal(pcr15_digests_compute(k, names[i], UUID, &d[i]), 0);
                assert_int_equal(pcr15_extend(c, &d[i], &b.pcr15, &b.n_pcr15, &why), 0);
                for (size_t j = 0; j < ELEMENTSOF(banks); j++) {
                        openssl_hmac(banks[j].name, kh, literal[i], h, sizeof(h));
                        openssl_extend(banks[j].name, want[j], h, want[j], sizeof(want[j]));
                }
        }
        for (size_t j = 0; j < ELEMENTSOF(banks); j++) {
                uint8_t chain[64] = {};

                assert_int_equal(tpm2_pcr_read(c, banks[j].alg, UINT32_C(1) << 15, value, &why), 0);
                assert_string_equal(hex_string(value, tpm2_hash_size(banks[j].alg), have), want[j]);
                /* The chain value computed without the TPM is the TPM's. */
                for (size_t i = 0; i < 2; i++)
                        assert_int_equal(pcr15_chain(banks[j].alg, chain, &d[i]), 0);
                assert_string_equal(hex_string(chain, tpm2_hash_size(banks[j].alg), have), want[j]);
        }
        assert_int_equal(pcr15_chain(TPM2_ALG_SM3_256, value, &d[0]), -EOPNOTSUPP);

        /* swtpm's active banks: sha1 and sha256 (at least); one record each per volume */
        assert_true(b.n_pcr15 >= 4);
        struct json_object *o = state_to_json(NULL, &b);
        struct json_object *a, *e, *v;
        const char *text = json_object_to_json_string(o);
        assert_true(json_object_object_get_ex(o, "volume_key_measurements", &a));
        assert_int_equal(json_object_array_length(a), b.n_pcr15);
        e = json_object_array_get_idx(a, 0);
        assert_true(json_object_object_get_ex(e, "pcr", &v));
        assert_int_equal(json_object_get_int(v), 15);
        assert_true(json_object_object_get_ex(e, "description", &v));
        assert_string_equal(json_object_get_string(v), literal[0]);
        assert_true(json_object_object_get_ex(e, "bank", &v));
        assert_non_null(tpm2_hash_from_string(json_object_get_string(v)));
        assert_true(json_object_object_get_ex(e, "digest", &v));
        for (size_t k_ = 0; k_ < d[0].n; k_++)
                if (d[0].v[k_].alg == tpm2_hash_from_string(json_object_get_string(json_object_object_get(e, "bank"))))
                        assert_string_equal(json_object_get_string(v), hex_string(d[0].v[k_].digest, d[0].v[k_].size, h));
        /* the last record is the second volume's */
        e = json_object_array_get_idx(a, b.n_pcr15 - 1);
        assert_string_equal(json_object_get_string(json_object_object_get(e, "description")), literal[1]);
        /* no key, in hex or raw */
        key_hex(k, kh);
        assert_null(strstr(text, kh));
        kh[32] = '\0';
        assert_null(strstr(text, kh));
        json_object_put(o);
        free(b.pcr15);
}

/* The boot's extends follow the plan's volume order, not the order the
 * volumes were opened in (here: persistent first), over one connection;
 * a TPM that is not there fails the boot with a sentence naming PCR 15. */
static void test_measure_boot_order(void **state) {
        struct swtpm *s = *state;
        _cleanup_secret_ struct secret *k = test_key();
        struct plan_volume vols[2] = { { .name = (char *) "oem" }, { .name = (char *) "persistent" } };
        struct plan p = { .volumes = vols, .n_volumes = 2, .measure_volume_keys = true, .break_stage = -1 };
        struct boot b = { .root = "", .root_fd = -1, .failed_stage = -1, .handoff = true };
        char tcti[] = "swtpm:path=/nonexistent/usi-pcr15-socket";

        if (!s)
                skip();
        p.tpm_device = s->tcti;
        /* a swtpm TCTI is not the machine's own TPM: measured without PID 1 */
        assert_true(pcr15_wanted(&p, &b));
        for (size_t i = 0; i < 2; i++) {
                struct boot_volume *bv = boot_volume_get(&b, vols[1 - i].name);
                assert_non_null(bv);
                assert_non_null(bv->dev.devnode = strdup("/dev/vdx"));
                assert_non_null(bv->pcr15 = malloc(sizeof(*bv->pcr15)));
                k->data[0] = (uint8_t) i;
                assert_int_equal(pcr15_digests_compute(k, bv->name, UUID, bv->pcr15), 0);
        }
        assert_int_equal(pcr15_measure_boot(&p, &b), 0);
        assert_non_null(b.tpm);
        assert_true(b.n_pcr15 >= 2);
        assert_string_equal(b.pcr15[0].description, "cryptsetup:oem:0b6b1cf5-46c5-4b2c-9e05-4a1c3a6e2f11");
        assert_string_equal(b.pcr15[b.n_pcr15 - 1].description,
                            "cryptsetup:persistent:0b6b1cf5-46c5-4b2c-9e05-4a1c3a6e2f11");
        /* measured once: nothing is left to extend */
        assert_null(b.volumes[0].pcr15);
        assert_null(b.volumes[1].pcr15);
        size_t n = b.n_pcr15;
        assert_int_equal(pcr15_measure_boot(&p, &b), 0);
        assert_int_equal(b.n_pcr15, n);
        boot_done(&b);

        /* no TPM at all (a passphrase boot): a warning, nothing to latch */
        b = (struct boot) { .root = "", .root_fd = -1, .failed_stage = -1, .handoff = true };
        p.tpm_device = tcti;
        struct boot_volume *bv = boot_volume_get(&b, "oem");
        assert_non_null(bv->pcr15 = calloc(1, sizeof(*bv->pcr15)));
        assert_int_equal(pcr15_measure_boot(&p, &b), 0);
        assert_false(b.failed);
        assert_int_equal(b.warnings.n, 1);
        assert_non_null(strstr(b.warnings.v[0], "volume keys not measured into PCR 15: no TPM"));
        boot_done(&b);

        /* a TPM that refuses the extend (no HMAC for its banks) fails the boot, naming the volume */
        b = (struct boot) { .root = "", .root_fd = -1, .failed_stage = -1, .handoff = true };
        p.tpm_device = s->tcti;
        bv = boot_volume_get(&b, "oem");
        assert_non_null(bv->dev.devnode = strdup("/dev/vdx"));
        assert_non_null(bv->pcr15 = calloc(1, sizeof(*bv->pcr15)));
        assert_true(pcr15_measure_boot(&p, &b) < 0);
        assert_true(b.failed);
        assert_non_null(strstr(b.failure, "volume oem: cannot measure the volume key of /dev/vdx into PCR 15: no HMAC for the"));
        boot_done(&b);

        /* off by config, or a --no-handoff run, or the host's own TPM: not wanted */
        p.measure_volume_keys = false;
        assert_false(pcr15_wanted(&p, &b));
        p.measure_volume_keys = true;
        b.handoff = false;
        assert_false(pcr15_wanted(&p, &b));
        b.handoff = true;
        p.tpm_device = (char *) "device:/dev/tpmrm0";
        assert_false(pcr15_wanted(&p, &b));
        /* a systemd initrd's service: no hand-off, this machine's TPM, asked for */
        b.handoff = false;
        b.measure_volume_keys = true;
        assert_true(pcr15_wanted(&p, &b));
        p.measure_volume_keys = false;
        assert_false(pcr15_wanted(&p, &b));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_description),
                cmocka_unit_test(test_digests),
                cmocka_unit_test_setup_teardown(test_extend_swtpm, swtpm_up, swtpm_down),
                cmocka_unit_test_setup_teardown(test_measure_boot_order, swtpm_up, swtpm_down),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
