/* libvocalmidi_alloccount: counts the heap calls a thread makes while it has "armed" the
 * counter. Preload it (LD_PRELOAD) into a process that runs libvocalmidi_juce: the host arms
 * it around each processBlock call. The real-time rule is "the audio thread never
 * allocates"; this is how `vocalmidi dawtest` checks it from outside the plugin.
 *
 * The host's own side of processBlock allocates too (JUCE 7.0.5's VST3 host builds a
 * std::vector per block, its LV2 host grows a MIDI byte vector), so a counted call is blamed
 * on the plugin only when the innermost frame outside the C/C++ runtime is in the plugin's
 * binary (vmac_set_scope names it); the rest are counted as the host's.
 *
 * Linux/glibc only: it forwards to glibc's __libc_* entry points, so it needs no dlsym
 * (which may itself allocate). Counters are thread-local (initial-exec TLS, no allocation).
 * VOCALMIDI_ALLOC_ABORT=N aborts on the N-th call blamed on the plugin, for a debugger.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <string.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define VMAC_API __attribute__((visibility("default")))
#define VMAC_TLS __thread __attribute__((tls_model("initial-exec")))

extern void* __libc_malloc(size_t size);
extern void* __libc_calloc(size_t count, size_t size);
extern void* __libc_realloc(void* ptr, size_t size);
extern void* __libc_memalign(size_t alignment, size_t size);
extern void __libc_free(void* ptr);

static VMAC_TLS int armed;
static VMAC_TLS int inside; /* re-entry guard: backtrace() may allocate the first time */
static VMAC_TLS uint64_t counted, countedHost;
static char scope[512];     /* substring of the plugin binary's path; "" blames every call */
static long abortAt = -1;   /* -1: not read yet, 0: never */

/* Whose call is it? The innermost frame outside the C/C++ runtime (malloc, operator new,
 * std::vector...) decides: the plugin's binary, or anything else (the host's). A host
 * callback that the plugin calls (e.g. a host's event list growing) is the host's. */
static int blamedOnPlugin(void)
{
    void* frames[48];
    const int n = backtrace(frames, 48);
    Dl_info self;
    const char* selfName = dladdr((void*) &blamedOnPlugin, &self) != 0 ? self.dli_fname : "";

    for (int i = 0; i < n; ++i)
    {
        Dl_info info;

        if (dladdr(frames[i], &info) == 0 || info.dli_fname == NULL)
            continue;

        const char* f = info.dli_fname;

        if (strcmp(f, selfName) == 0 || strstr(f, "/libc.so") != NULL || strstr(f, "/libstdc++.so") != NULL
            || strstr(f, "/libgcc_s.so") != NULL || strstr(f, "/libm.so") != NULL)
            continue;

        return strstr(f, scope) != NULL;
    }

    return 0;
}

static void count(void)
{
    if (!armed || inside)
        return;

    inside = 1;
    const int blamed = scope[0] == '\0' || blamedOnPlugin();
    inside = 0;

    if (!blamed)
    {
        ++countedHost;
        return;
    }

    ++counted;

    if (abortAt < 0)
    {
        const char* v = getenv("VOCALMIDI_ALLOC_ABORT"); /* getenv does not allocate */
        abortAt = v != NULL ? strtol(v, NULL, 10) : 0;
    }

    if (abortAt > 0 && counted == (uint64_t) abortAt)
        abort();
}

/* Start (1) or stop (0) counting the calling thread's heap calls. */
VMAC_API void vmac_arm(int on) { armed = on; }

/* Blame only calls with a frame from a binary whose path contains `path_part` ("" or NULL:
 * every call). Set it while no thread is armed. */
VMAC_API void vmac_set_scope(const char* path_part)
{
    size_t n = path_part != NULL ? strlen(path_part) : 0;
    if (n >= sizeof scope)
        n = sizeof scope - 1;
    memcpy(scope, path_part != NULL ? path_part : "", n);
    scope[n] = '\0';

    /* The first backtrace() loads the unwinder (allocating): do it now, unarmed. */
    void* frames[4];
    backtrace(frames, 4);
}

/* Heap calls (allocations and frees) blamed on the plugin that the calling thread made while
 * armed, since it started; and those not blamed on it (the host's own). */
VMAC_API uint64_t vmac_count(void) { return counted; }
VMAC_API uint64_t vmac_count_host(void) { return countedHost; }

VMAC_API void* malloc(size_t size)
{
    count();
    return __libc_malloc(size);
}

VMAC_API void* calloc(size_t n, size_t size)
{
    count();
    return __libc_calloc(n, size);
}

VMAC_API void* realloc(void* ptr, size_t size)
{
    count();
    return __libc_realloc(ptr, size);
}

VMAC_API void free(void* ptr)
{
    if (ptr != NULL)
        count();
    __libc_free(ptr);
}

VMAC_API void* memalign(size_t alignment, size_t size)
{
    count();
    return __libc_memalign(alignment, size);
}

VMAC_API void* aligned_alloc(size_t alignment, size_t size)
{
    count();
    return __libc_memalign(alignment, size);
}

VMAC_API int posix_memalign(void** out, size_t alignment, size_t size)
{
    count();
    if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0)
        return EINVAL;
    void* p = __libc_memalign(alignment, size);
    if (p == NULL && size != 0)
        return ENOMEM;
    *out = p;
    return 0;
}
