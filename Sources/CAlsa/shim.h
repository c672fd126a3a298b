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

// Whether ALSA's configuration defines PCM `name` as a plugin over another PCM (its definition
// has a `slave`): rate converters, channel mixers, DSP. 1 yes, 0 no, negative: no definition.
// Walking snd_config_t trees (a reference on the global one, a copy to delete) is plain C work.
static inline int hark_alsa_pcm_has_slave(const char *name) {
    snd_config_t *top = NULL, *def = NULL, *slave = NULL;
    int rc = snd_config_update_ref(&top);
    if (rc < 0) return rc;
    rc = snd_config_search_definition(top, "pcm", name, &def);
    if (rc >= 0) {
        rc = snd_config_search(def, "slave", &slave) == 0;
        snd_config_delete(def);
    }
    snd_config_unref(top);
    return rc;
}

// The `type` of PCM `name` in ALSA's configuration ("jack", "pulse", "hw", ...) copied into `out`;
// 0, or negative when the name has no definition or no type.
static inline int hark_alsa_pcm_type(const char *name, char *out, size_t size) {
    snd_config_t *top = NULL, *def = NULL, *type = NULL;
    const char *value = NULL;
    int rc = snd_config_update_ref(&top);
    if (rc < 0) return rc;
    rc = snd_config_search_definition(top, "pcm", name, &def);
    if (rc >= 0) {
        rc = snd_config_search(def, "type", &type);
        if (rc >= 0) rc = snd_config_get_string(type, &value);
        if (rc >= 0 && size > 0) { strncpy(out, value, size - 1); out[size - 1] = 0; }
        snd_config_delete(def);
    }
    snd_config_unref(top);
    return rc < 0 ? rc : 0;
}

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
