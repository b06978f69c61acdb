/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "plan.h"

/* Where each trust setting of the plan came from, so `plan` can show that no
 * file on /oem decided one (trust-chain rule 5). A setting the kernel command
 * line overrides came from the command line, whatever the files said. */

static bool cl_tpm_device(const struct cmdline *cl) { return cl->tpm2_device; }
static bool cl_init(const struct cmdline *cl) { return cl->init && cl->init[0] == '/'; }
static bool cl_on_failure(const struct cmdline *cl) { return cl->shell || cl->on_failure != ON_FAILURE_UNSET; }
static bool cl_shell(const struct cmdline *cl) { return cl->shell; }
static bool cl_insecure(const struct cmdline *cl) { return cl->insecure; }
static bool cl_timeout(const struct cmdline *cl) { return cl->timeout_sec >= 0; }

static const struct {
        const char *key;
        bool (*cmdline)(const struct cmdline *cl);
} trust_settings[] = {
        { "tpm.device",              cl_tpm_device },
        { "tpm.timeout",             NULL },
        { "tpm.signatures",          NULL },
        { "tpm.measure_phases",      NULL },
        { "tpm.measure_volume_keys", NULL },
        { "tpm.bind_volumes",        NULL },
        { "tpm.reseal",              NULL },
        { "luks.ciphers",            NULL },
        { "init",                    cl_init },
        { "on_failure",              cl_on_failure },
        { "allow_shell",             cl_shell },
        { "allow_insecure_boot",     cl_insecure },
        { "root.relocate",           NULL },
        { "root.read_only",          NULL },
        { "extensions.sources",      NULL },
        { "extensions.certificates", NULL },
        { "extensions.efi_keys",     NULL },
        { "binds.state_dir",         NULL },
        { "timeout",                 cl_timeout },
        { "reboot_delay",            NULL },
};

/* The keys of an existing volume that decide how it is found and opened. */
static const char *const volume_settings[] = { "match", "encrypted", "unlock", "keyfile" };

static int push_origin(struct plan *p, const char *key, const struct mark *m, bool cmdline) {
        struct plan_origin *o = realloc(p->origins, (p->n_origins + 1) * sizeof *o);
        int r;

        if (!o)
                return -ENOMEM;
        p->origins = o;
        o = &p->origins[p->n_origins];
        *o = (struct plan_origin) { .key = strdup(key) };
        r = cmdline ? ((o->from = strdup("kernel command line")) ? 0 : -ENOMEM) : mark_to_string(m, &o->from);
        if (!o->key || r < 0) {
                free(o->key);
                free(o->from);
                return -ENOMEM;
        }
        p->n_origins++;
        return 0;
}

int plan_build_origins(const struct config *c, const struct cmdline *cl, struct plan *p) {
        int r;

        for (size_t i = 0; i < ELEMENTSOF(trust_settings); i++) {
                bool by_cmdline = trust_settings[i].cmdline && trust_settings[i].cmdline(cl);
                if ((r = push_origin(p, trust_settings[i].key, config_origin_of(c, trust_settings[i].key), by_cmdline)) < 0)
                        return r;
        }
        for (size_t i = 0; i < c->n_volumes; i++)
                for (size_t k = 0; k < ELEMENTSOF(volume_settings); k++) {
                        char key[128];
                        const struct mark *m;
                        bool by_cmdline = streq(volume_settings[k], "match") && cl->oem_label &&
                                          c->volumes[i].mount.path && streq(c->volumes[i].mount.path, "/oem");

                        snprintf(key, sizeof key, "volumes.%s.%s", c->volumes[i].name, volume_settings[k]);
                        m = config_origin_of(c, key);
                        if (!m && !by_cmdline)
                                continue;       /* never set: nothing decides it */
                        if ((r = push_origin(p, key, m, by_cmdline)) < 0)
                                return r;
                }
        return 0;
}
