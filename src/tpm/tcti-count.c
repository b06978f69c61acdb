/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "tcti-count.h"

struct tcti_count {
        TSS2_TCTI_CONTEXT_COMMON_V2 common;   /* first: ESAPI sees a TCTI */
        TSS2_TCTI_CONTEXT *inner;
        unsigned *counter;
};

static TSS2_TCTI_CONTEXT *inner_of(TSS2_TCTI_CONTEXT *t) {
        return ((struct tcti_count *) t)->inner;
}

static TSS2_RC count_transmit(TSS2_TCTI_CONTEXT *t, size_t size, uint8_t const *command) {
        (*((struct tcti_count *) t)->counter)++;
        return Tss2_Tcti_Transmit(inner_of(t), size, command);
}

static TSS2_RC count_receive(TSS2_TCTI_CONTEXT *t, size_t *size, uint8_t *response, int32_t timeout) {
        return Tss2_Tcti_Receive(inner_of(t), size, response, timeout);
}

static void count_finalize(TSS2_TCTI_CONTEXT *t) {
        (void) t;  /* the inner TCTI is finalized by its owner */
}

static TSS2_RC count_cancel(TSS2_TCTI_CONTEXT *t) {
        return Tss2_Tcti_Cancel(inner_of(t));
}

static TSS2_RC count_poll_handles(TSS2_TCTI_CONTEXT *t, TSS2_TCTI_POLL_HANDLE *handles, size_t *n) {
        return Tss2_Tcti_GetPollHandles(inner_of(t), handles, n);
}

static TSS2_RC count_set_locality(TSS2_TCTI_CONTEXT *t, uint8_t locality) {
        return Tss2_Tcti_SetLocality(inner_of(t), locality);
}

static TSS2_RC count_make_sticky(TSS2_TCTI_CONTEXT *t, TPM2_HANDLE *handle, uint8_t sticky) {
        return Tss2_Tcti_MakeSticky(inner_of(t), handle, sticky);
}

int tcti_count_new(TSS2_TCTI_CONTEXT *inner, unsigned *counter, TSS2_TCTI_CONTEXT **ret) {
        struct tcti_count *t = calloc(1, sizeof(*t));

        if (!t)
                return -ENOMEM;
        t->common.v1 = (TSS2_TCTI_CONTEXT_COMMON_V1) {
                .magic = TSS2_TCTI_MAGIC(inner),
                .version = 2,
                .transmit = count_transmit,
                .receive = count_receive,
                .finalize = count_finalize,
                .cancel = count_cancel,
                .getPollHandles = count_poll_handles,
                .setLocality = count_set_locality,
        };
        t->common.makeSticky = count_make_sticky;
        t->inner = inner;
        t->counter = counter;
        *ret = (TSS2_TCTI_CONTEXT *) t;
        return 0;
}

void tcti_count_free(TSS2_TCTI_CONTEXT *t) {
        free(t);
}
