/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcti-guard.h"
#include "util.h"

#define HEADER_SIZE 10
#define RESPONSE_MAX 4096          /* TPM2_MAX_RESPONSE_SIZE of tpm2-tss */
#define ST_RSP_COMMAND 0x00c4      /* a TPM 1.2-style error answer, still a response */
#define ST_NO_SESSIONS 0x8001
#define ST_SESSIONS 0x8002

/* One receive on its own thread. Whoever of the two finishes last frees
 * it: the waiter when the answer came in time, else the thread. */
struct job {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        TSS2_TCTI_CONTEXT *inner;
        int32_t timeout;
        bool done, abandoned;
        TSS2_RC rc;
        size_t size;
        uint8_t buf[RESPONSE_MAX];
};

struct tcti_guard {
        TSS2_TCTI_CONTEXT_COMMON_V2 common;   /* first: ESAPI sees a TCTI */
        TSS2_TCTI_CONTEXT *inner;
        unsigned *counter;
        unsigned timeout_ms;
        struct timespec deadline;           /* of the command in flight */
        uint32_t cc;                        /* the command in flight, or the last */
        uint32_t last_cc, last_rc;          /* the last response */
        unsigned repeats;                   /* of last_rc to last_cc, when a warning */
        uint32_t warn_cc, warn_rc;          /* the last run of warnings ESYS sends again on */
        unsigned warn_n;
        struct job *pending;                /* a response received, not yet handed over */
        bool inner_busy;                    /* a receive missed its deadline and still runs */
        enum tcti_guard_fault fault;
        uint32_t fault_cc;
        char detail[64];
};

static struct tcti_guard *G(TSS2_TCTI_CONTEXT *t) {
        return (struct tcti_guard *) t;
}

static uint32_t be32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static void job_free(struct job *j) {
        pthread_mutex_destroy(&j->lock);
        pthread_cond_destroy(&j->cond);
        explicit_bzero(j->buf, j->size < sizeof(j->buf) ? j->size : sizeof(j->buf));
        free(j);
}

static TSS2_RC fail(struct tcti_guard *g, enum tcti_guard_fault f, const char *detail) {
        if (g->fault == TCTI_GUARD_OK) {
                g->fault = f;
                g->fault_cc = g->cc;
                snprintf(g->detail, sizeof(g->detail), "%s", detail);
        }
        return f == TCTI_GUARD_MALFORMED ? TSS2_TCTI_RC_MALFORMED_RESPONSE : TSS2_TCTI_RC_IO_ERROR;
}

/* The code every command gets after a failure: the one that failure gave. */
static TSS2_RC failed_rc(const struct tcti_guard *g) {
        return g->fault == TCTI_GUARD_MALFORMED ? TSS2_TCTI_RC_MALFORMED_RESPONSE : TSS2_TCTI_RC_IO_ERROR;
}

static TSS2_RC guard_transmit(TSS2_TCTI_CONTEXT *t, size_t size, uint8_t const *command) {
        struct tcti_guard *g = G(t);
        TSS2_RC rc;

        if (g->fault != TCTI_GUARD_OK)
                return failed_rc(g);
        if (g->pending)         /* a response nobody read: not this command's */
                job_free(TAKE_PTR(g->pending));
        (*g->counter)++;
        g->cc = size >= HEADER_SIZE ? be32(command + 6) : 0;
        clock_gettime(CLOCK_MONOTONIC, &g->deadline);
        g->deadline.tv_sec += g->timeout_ms / 1000;
        g->deadline.tv_nsec += (long) (g->timeout_ms % 1000) * 1000000L;
        if (g->deadline.tv_nsec >= 1000000000L) {
                g->deadline.tv_sec++;
                g->deadline.tv_nsec -= 1000000000L;
        }
        rc = Tss2_Tcti_Transmit(g->inner, size, command);
        /* A TCTI that cannot even send (the socket refused, the device gone)
         * lost its TPM; one that refuses the call itself did not. */
        if (rc == TSS2_TCTI_RC_IO_ERROR)
                return fail(g, TCTI_GUARD_LOST, "the command could not be sent");
        return rc;
}

static void *job_run(void *p) {
        struct job *j = p;
        size_t size = sizeof(j->buf);
        TSS2_RC rc = Tss2_Tcti_Receive(j->inner, &size, j->buf, j->timeout);
        bool abandoned;

        pthread_mutex_lock(&j->lock);
        j->rc = rc;
        j->size = size;
        j->done = true;
        abandoned = j->abandoned;
        pthread_cond_signal(&j->cond);
        pthread_mutex_unlock(&j->lock);
        if (abandoned) {
                pthread_mutex_destroy(&j->lock);
                pthread_cond_destroy(&j->cond);
                free(j);
        }
        return NULL;
}

static int32_t ms_left(const struct timespec *deadline) {
        struct timespec now;
        int64_t ms;

        clock_gettime(CLOCK_MONOTONIC, &now);
        ms = (int64_t) (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
        return ms < 0 ? 0 : ms > INT32_MAX ? INT32_MAX : (int32_t) ms;
}

/* Receive into j->buf within the deadline. The thread also passes what is
 * left of it to the TCTI, so one that honours timeouts (the device TCTI
 * polls) comes back by itself and can be finalized; one that ignores them
 * stays blocked on the TPM and is abandoned. */
static TSS2_RC receive_by(struct tcti_guard *g, struct job **ret) {
        struct job *j = calloc(1, sizeof(*j));
        pthread_condattr_t ca;
        pthread_attr_t attr;
        pthread_t th;
        bool done;
        int r = 0;

        if (!j)
                return TSS2_TCTI_RC_MEMORY;
        pthread_mutex_init(&j->lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&j->cond, &ca);
        pthread_condattr_destroy(&ca);
        j->inner = g->inner;
        j->timeout = ms_left(&g->deadline);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &attr, job_run, j) != 0) {
                pthread_attr_destroy(&attr);
                pthread_mutex_destroy(&j->lock);
                pthread_cond_destroy(&j->cond);
                free(j);
                return TSS2_TCTI_RC_MEMORY;
        }
        pthread_attr_destroy(&attr);
        /* A moment past the deadline, so a TCTI that honours it is seen
         * coming back with TRY_AGAIN rather than abandoned. */
        struct timespec until = g->deadline;
        until.tv_nsec += 200 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&j->lock);
        while (!j->done && r != ETIMEDOUT)
                r = pthread_cond_timedwait(&j->cond, &j->lock, &until);
        done = j->done;
        if (!done)
                j->abandoned = true;
        pthread_mutex_unlock(&j->lock);
        if (!done) {
                g->inner_busy = true;
                return fail(g, TCTI_GUARD_TIMEOUT, "");
        }
        *ret = j;
        return TSS2_RC_SUCCESS;
}

/* The response's header must be a TPM response's: a known tag and the size
 * of what came. */
static TSS2_RC check_header(struct tcti_guard *g, const uint8_t *rsp, size_t size) {
        char d[64];
        uint16_t tag;

        if (size < HEADER_SIZE) {
                snprintf(d, sizeof(d), "%zu bytes, shorter than a header", size);
                return fail(g, TCTI_GUARD_MALFORMED, d);
        }
        tag = (uint16_t) (rsp[0] << 8 | rsp[1]);
        if (tag != ST_NO_SESSIONS && tag != ST_SESSIONS && tag != ST_RSP_COMMAND) {
                snprintf(d, sizeof(d), "tag 0x%04x", tag);
                return fail(g, TCTI_GUARD_MALFORMED, d);
        }
        if (be32(rsp + 2) != size) {
                snprintf(d, sizeof(d), "size %u in its header, %zu bytes read", be32(rsp + 2), size);
                return fail(g, TCTI_GUARD_MALFORMED, d);
        }
        return TSS2_RC_SUCCESS;
}

/* The whole response, fetched once: SAPI asks for its size first (a NULL
 * buffer) and then for the bytes, and the swtpm TCTI already blocks on the
 * TPM for the size. So the first of the two calls receives it all, within
 * the deadline, into a buffer of our own, and both are answered from it. */
static TSS2_RC fetch(struct tcti_guard *g) {
        struct job *j = NULL;
        TSS2_RC r;

        if (g->timeout_ms == 0) {
                j = calloc(1, sizeof(*j));
                if (!j)
                        return TSS2_TCTI_RC_MEMORY;
                j->size = sizeof(j->buf);
                j->rc = Tss2_Tcti_Receive(g->inner, &j->size, j->buf, TSS2_TCTI_TIMEOUT_BLOCK);
                pthread_mutex_init(&j->lock, NULL);
                pthread_cond_init(&j->cond, NULL);
        } else if ((r = receive_by(g, &j)) != TSS2_RC_SUCCESS)
                return r;
        r = j->rc;
        if (r == TSS2_TCTI_RC_TRY_AGAIN)
                r = fail(g, TCTI_GUARD_TIMEOUT, "");
        else if (r == TSS2_TCTI_RC_IO_ERROR)
                r = fail(g, TCTI_GUARD_LOST, "");
        else if (r == TSS2_RC_SUCCESS)
                r = check_header(g, j->buf, j->size);
        if (r != TSS2_RC_SUCCESS) {
                job_free(j);
                return r;
        }
        g->pending = j;
        return TSS2_RC_SUCCESS;
}

static bool warning(uint32_t rc) {
        /* TPM_RC_YIELDED, TPM_RC_TESTING, TPM_RC_RETRY: ESYS sends again. */
        return rc == 0x908 || rc == 0x90a || rc == 0x922;
}

static TSS2_RC guard_receive(TSS2_TCTI_CONTEXT *t, size_t *size, uint8_t *response, int32_t timeout) {
        struct tcti_guard *g = G(t);
        uint32_t rc;
        TSS2_RC r;

        if (g->fault != TCTI_GUARD_OK)
                return failed_rc(g);
        if (!g->pending) {
                /* A caller with a timeout of its own polls: as asked. */
                if (timeout != TSS2_TCTI_TIMEOUT_BLOCK)
                        return Tss2_Tcti_Receive(g->inner, size, response, timeout);
                r = fetch(g);
                if (r != TSS2_RC_SUCCESS)
                        return r;
        }
        if (!response) {
                *size = g->pending->size;
                return TSS2_RC_SUCCESS;
        }
        if (*size < g->pending->size) {
                *size = g->pending->size;
                return TSS2_TCTI_RC_INSUFFICIENT_BUFFER;
        }
        memcpy(response, g->pending->buf, g->pending->size);
        *size = g->pending->size;
        job_free(TAKE_PTR(g->pending));
        rc = be32(response + 6);
        if (warning(rc)) {
                g->repeats = rc == g->last_rc && g->cc == g->last_cc ? g->repeats + 1 : 1;
                g->warn_cc = g->cc;
                g->warn_rc = rc;
                g->warn_n = g->repeats;
        } else
                g->repeats = 0;
        g->last_rc = rc;
        g->last_cc = g->cc;
        return TSS2_RC_SUCCESS;
}

static void guard_finalize(TSS2_TCTI_CONTEXT *t) {
        (void) t;  /* the inner TCTI is finalized by its owner */
}

static TSS2_RC guard_cancel(TSS2_TCTI_CONTEXT *t) {
        return Tss2_Tcti_Cancel(G(t)->inner);
}

static TSS2_RC guard_poll_handles(TSS2_TCTI_CONTEXT *t, TSS2_TCTI_POLL_HANDLE *handles, size_t *n) {
        return Tss2_Tcti_GetPollHandles(G(t)->inner, handles, n);
}

static TSS2_RC guard_set_locality(TSS2_TCTI_CONTEXT *t, uint8_t locality) {
        return Tss2_Tcti_SetLocality(G(t)->inner, locality);
}

static TSS2_RC guard_make_sticky(TSS2_TCTI_CONTEXT *t, TPM2_HANDLE *handle, uint8_t sticky) {
        return Tss2_Tcti_MakeSticky(G(t)->inner, handle, sticky);
}

int tcti_guard_new(TSS2_TCTI_CONTEXT *inner, unsigned *counter, TSS2_TCTI_CONTEXT **ret) {
        struct tcti_guard *g = calloc(1, sizeof(*g));

        if (!g)
                return -ENOMEM;
        g->common.v1 = (TSS2_TCTI_CONTEXT_COMMON_V1) {
                .magic = TSS2_TCTI_MAGIC(inner),
                .version = 2,
                .transmit = guard_transmit,
                .receive = guard_receive,
                .finalize = guard_finalize,
                .cancel = guard_cancel,
                .getPollHandles = guard_poll_handles,
                .setLocality = guard_set_locality,
        };
        g->common.makeSticky = guard_make_sticky;
        g->inner = inner;
        g->counter = counter;
        *ret = (TSS2_TCTI_CONTEXT *) g;
        return 0;
}

bool tcti_guard_inner_idle(TSS2_TCTI_CONTEXT *t) {
        return !t || !G(t)->inner_busy;
}

void tcti_guard_free(TSS2_TCTI_CONTEXT *t) {
        if (t && G(t)->pending)
                job_free(G(t)->pending);
        free(t);
}

void tcti_guard_set_timeout(TSS2_TCTI_CONTEXT *t, unsigned timeout_ms) {
        G(t)->timeout_ms = timeout_ms;
}

enum tcti_guard_fault tcti_guard_fault(TSS2_TCTI_CONTEXT *t, uint32_t *ret_cc, char *detail, size_t detail_size) {
        struct tcti_guard *g = G(t);

        if (g->fault != TCTI_GUARD_OK) {
                *ret_cc = g->fault_cc;
                snprintf(detail, detail_size, "%s", g->detail);
        }
        return g->fault;
}

void tcti_guard_last(TSS2_TCTI_CONTEXT *t, uint32_t *ret_cc, uint32_t *ret_rc, unsigned *ret_repeats) {
        *ret_cc = G(t)->warn_cc;
        *ret_rc = G(t)->warn_rc;
        *ret_repeats = G(t)->warn_n;
}

const char *tcti_guard_command_name(uint32_t cc, char buf[24]) {
        static const struct {
                uint32_t cc;
                const char *name;
        } names[] = {
                { 0x121, "EvictControl" }, { 0x131, "CreatePrimary" }, { 0x144, "Startup" },
                { 0x153, "Create" }, { 0x157, "Load" }, { 0x15e, "Unseal" }, { 0x165, "FlushContext" },
                { 0x167, "LoadExternal" }, { 0x16a, "PolicyAuthorize" }, { 0x16b, "PolicyAuthValue" },
                { 0x173, "ReadPublic" }, { 0x176, "StartAuthSession" }, { 0x177, "VerifySignature" },
                { 0x17a, "GetCapability" }, { 0x17b, "GetRandom" }, { 0x17e, "PCR_Read" },
                { 0x17f, "PolicyPCR" }, { 0x180, "PolicyRestart" }, { 0x182, "PCR_Extend" },
                { 0x189, "PolicyGetDigest" }, { 0x191, "CreateLoaded" },
        };

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (names[i].cc == cc)
                        return names[i].name;
        snprintf(buf, 24, "command 0x%x", cc);
        return buf;
}
