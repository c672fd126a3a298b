#ifndef HARK_CALSA_SHIM_H
#define HARK_CALSA_SHIM_H
#include <alsa/asoundlib.h>

// Swift cannot import the snd_pcm_*_alloca macros; Hark uses the _malloc/_free pairs instead.
// ALSA's error codes are negative errno values; these name the ones Hark recovers from,
// because Swift does not see macro-valued errno constants as Int32 expressions of the right sign.
static inline int hark_alsa_epipe(void) { return -EPIPE; }
static inline int hark_alsa_estrpipe(void) { return -ESTRPIPE; }
static inline int hark_alsa_eagain(void) { return -EAGAIN; }
static inline int hark_alsa_eintr(void) { return -EINTR; }

// snd_device_name_hint's list is a void** whose hints are opaque; Swift imports void** poorly.
static inline void *hark_alsa_hint_at(void **hints, int i) { return hints[i]; }

// ALSA prints its own diagnostics to stderr by default (e.g. "ALSA lib pcm_file.c: open ...
// failed"). Hark reports every error itself, with the device name, so it installs a silent
// handler. The handler is variadic, which Swift cannot define, hence C.
static void hark_alsa_quiet_handler(const char *file, int line, const char *function, int err,
                                    const char *fmt, ...) {
    (void)file; (void)line; (void)function; (void)err; (void)fmt;
}
static inline void hark_alsa_silence_library_errors(void) {
    snd_lib_error_set_handler(hark_alsa_quiet_handler);
}
#endif
