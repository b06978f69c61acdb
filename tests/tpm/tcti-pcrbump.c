/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test-only TCTI "pcrbump": passes everything to the TCTI named by its
 * configuration string, except that right before the first Unseal it sends
 * one recorded command of its own (the file in $USI_TEST_BUMP_COMMAND, a
 * PCR_Extend of a PCR outside the policy) and swallows the answer. The TPM's
 * PCR update counter then moves under the policy session, so the Unseal
 * fails with TPM_RC_PCR_CHANGED, as when the firmware or another process
 * extends a PCR at the wrong moment; usi-init must try again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_tcti.h>
#include <tss2/tss2_tctildr.h>

#define BUMP_MAGIC UINT64_C(0x7573692d62756d70)
#define CC_UNSEAL 0x0000015e

struct bump {
        TSS2_TCTI_CONTEXT_COMMON_V2 common;
        TSS2_TCTI_CONTEXT *child;
        int done;
};

static struct bump *B(TSS2_TCTI_CONTEXT *c) { return (struct bump *) c; }

static void send_recorded(struct bump *b) {
        const char *path = getenv("USI_TEST_BUMP_COMMAND");
        uint8_t cmd[4096], rsp[4096];
        size_t n, rn = sizeof(rsp);
        FILE *f;

        if (!path || !(f = fopen(path, "rb")))
                return;
        n = fread(cmd, 1, sizeof(cmd), f);
        fclose(f);
        if (n >= 10 && Tss2_Tcti_Transmit(b->child, n, cmd) == TSS2_RC_SUCCESS)
                (void) Tss2_Tcti_Receive(b->child, &rn, rsp, TSS2_TCTI_TIMEOUT_BLOCK);
        fprintf(stderr, "pcrbump: sent the recorded command before Unseal\n");
}

static TSS2_RC bump_transmit(TSS2_TCTI_CONTEXT *c, size_t size, const uint8_t *cmd) {
        struct bump *b = B(c);
        if (!b->done && size >= 10 &&
            ((uint32_t) cmd[6] << 24 | (uint32_t) cmd[7] << 16 | (uint32_t) cmd[8] << 8 | cmd[9]) == CC_UNSEAL) {
                b->done = 1;
                send_recorded(b);
        }
        return Tss2_Tcti_Transmit(b->child, size, cmd);
}

static TSS2_RC bump_receive(TSS2_TCTI_CONTEXT *c, size_t *size, uint8_t *rsp, int32_t timeout) {
        return Tss2_Tcti_Receive(B(c)->child, size, rsp, timeout);
}

static void bump_finalize(TSS2_TCTI_CONTEXT *c) {
        Tss2_TctiLdr_Finalize(&B(c)->child);
}

static TSS2_RC bump_cancel(TSS2_TCTI_CONTEXT *c) {
        return Tss2_Tcti_Cancel(B(c)->child);
}

static TSS2_RC bump_poll(TSS2_TCTI_CONTEXT *c, TSS2_TCTI_POLL_HANDLE *h, size_t *n) {
        return Tss2_Tcti_GetPollHandles(B(c)->child, h, n);
}

static TSS2_RC bump_locality(TSS2_TCTI_CONTEXT *c, uint8_t l) {
        return Tss2_Tcti_SetLocality(B(c)->child, l);
}

static TSS2_RC bump_init(TSS2_TCTI_CONTEXT *c, size_t *size, const char *conf) {
        struct bump *b;
        TSS2_RC rc;

        if (!c) {
                *size = sizeof(struct bump);
                return TSS2_RC_SUCCESS;
        }
        b = B(c);
        memset(b, 0, sizeof(*b));
        rc = Tss2_TctiLdr_Initialize(conf, &b->child);
        if (rc != TSS2_RC_SUCCESS)
                return rc;
        b->common.v1.magic = BUMP_MAGIC;
        b->common.v1.version = 2;
        b->common.v1.transmit = bump_transmit;
        b->common.v1.receive = bump_receive;
        b->common.v1.finalize = bump_finalize;
        b->common.v1.cancel = bump_cancel;
        b->common.v1.getPollHandles = bump_poll;
        b->common.v1.setLocality = bump_locality;
        return TSS2_RC_SUCCESS;
}

static const TSS2_TCTI_INFO info = {
        .version = 2,
        .name = "pcrbump",
        .description = "test TCTI: one recorded command before the first Unseal",
        .config_help = "the TCTI to pass everything to, e.g. swtpm:path=SOCK",
        .init = bump_init,
};

const TSS2_TCTI_INFO *Tss2_Tcti_Info(void);
const TSS2_TCTI_INFO *Tss2_Tcti_Info(void) {
        return &info;
}
