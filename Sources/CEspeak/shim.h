#ifndef HARK_CESPEAK_SHIM_H
#define HARK_CESPEAK_SHIM_H
// espeak-ng's pronunciation rules and dictionaries, used as a text → phoneme converter only
// (espeak_TextToPhonemes); Hark never synthesizes through it at run time.
#include <espeak-ng/speak_lib.h>
#endif
