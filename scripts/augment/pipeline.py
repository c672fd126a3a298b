"""The `--mix people` training corpus of scripts/synth.py (issue 16): which voice says an utterance,
which speaker it becomes, and the channel and room it is heard through.

Voices are drawn by group (an espeak-ng accent, a flite or festival voice, a Kokoro style or blend in
one accent, a Pico voice) with the weights voice_wer.py derives from the checker's word error rate on
each group (voice_weights.json): the more human a voice sounds to a real recognizer, the more of the
corpus it says. Then, for each utterance (all draws from the utterance's own seeded RNG):

  speaker   WORLD conversion (speakers.py) on `convert_share` of utterances, else sox speed 0.9-1.1
  check     optional (--check-wer): tiny.en's WER above the threshold drops the utterance
  room      50%: an impulse response of the simulated bank (channel.py)
  noise     70% (`noise_share`): music 35%, babble 30%, colored 20%, sound themes 15%, at 0-30 dB SNR (noise.py)
  response  35% a drawn microphone, 10% the telephone band (then GSM 60% of the time), else flat
  codec     15% of the rest: G.722, Opus 6/12 kbit/s, MP3 16/24 kbit/s (ffmpeg)
  low-pass  `lowpass_share` of utterances through 11 025 Hz and back, like the human training speech
  level     always: -55 to -12 dBFS RMS (mostly near -28), or 8% clipped 3-15 dB past full scale
"""
import json
import os

import numpy as np

import channel
import noise
import speakers

HERE = os.path.dirname(os.path.abspath(__file__))
WEIGHTS = os.path.join(HERE, "voice_weights.json")
KOKORO_BLEND_WEIGHTS = [round(0.1 * i, 1) for i in range(1, 10)]


def load_weights(path=WEIGHTS):
    if not os.path.exists(path):
        raise SystemExit(f"synth: {path} is missing: run scripts/augment/voice_wer.py to measure the voices")
    groups = json.load(open(path))["groups"]
    names = sorted(groups)
    return names, np.array([groups[n]["weight"] for n in names], dtype=np.float64)


def pick_voice(rng, names, weights, espeak_variants):
    """An engine and voice: a group drawn by weight, then a voice inside it."""
    r = rng.random() * weights.sum()
    group = names[int(np.searchsorted(np.cumsum(weights), r, side="right").clip(0, len(names) - 1))]
    engine, name = group.split(":", 1)
    if engine == "espeak-ng":
        variant = rng.choice(espeak_variants) if espeak_variants else ""
        return dict(engine=engine, voice=name + (f"+{variant}" if variant else ""), group=group,
                    speed=rng.randint(120, 200), pitch=rng.randint(25, 75))
    if engine == "kokoro":
        style, accent = name.split("/")
        if style == "blend":
            from voices import KOKORO_STYLES
            a, b = sorted(rng.sample(KOKORO_STYLES, 2))     # sorted: one name per blend
            style = f"{a}+{b}@{rng.choice(KOKORO_BLEND_WEIGHTS):.2f}"
        return dict(engine=engine, voice=style, accent=accent, group=group, speed=round(rng.uniform(0.85, 1.15), 2))
    return dict(engine=engine, voice=name, group=group)


_BANKS = {}


def banks(cache_dir, babble_path):
    """The room and noise banks, loaded once per process."""
    if "rirs" not in _BANKS:
        _BANKS["rirs"] = channel.rir_bank(cache_dir)[0]
        _BANKS["noise"] = noise.Bank(cache_dir)
        _BANKS["babble"] = list(np.load(babble_path)) if babble_path else []
    return _BANKS["rirs"], _BANKS["noise"], _BANKS["babble"]


def speaker_stage(rng, x, rate, convert_share):
    """WORLD conversion, or None: the caller applies a plain sox speed change instead."""
    choice = speakers.pick(rng, convert_share)
    if choice is None:
        return x, None, ""
    y, desc = speakers.apply(x, rate, choice)
    return y, speakers.conversion_name(choice[0]), desc


def channel_stage(rng, x, opts):
    """Room, noise, response, codec, low-pass and level, as the module's docstring says."""
    rirs, bank, babble_tracks = banks(opts["cache"], opts.get("babble"))
    desc = []
    if rng.random() < 0.5:
        i = rng.randrange(len(rirs))
        x = channel.reverberate(x, rirs[i])
        desc.append(f"rir={i}")
    if rng.random() < opts.get("noise_share", 0.7):
        r = rng.random()
        kind = "music" if r < 0.35 else "babble" if r < 0.65 else "colored" if r < 0.85 else "themes"
        if kind == "babble" and not babble_tracks:
            kind = "music"
        if kind == "babble":
            track = babble_tracks[rng.randrange(len(babble_tracks))]
            start = rng.randrange(len(track))
            n = np.resize(np.roll(track, -start), len(x))
        else:
            n = bank.draw(rng, kind, len(x))
        snr = rng.uniform(0, 30)
        x = noise.mix(x, n, snr)
        desc.append(f"{kind}@{snr:.0f}dB")
    r = rng.random()
    phone = False
    if r < 0.35:
        x, d = channel.microphone(x, rng)
        desc.append(d)
    elif r < 0.45:
        x = channel.telephone(x)
        phone = True
        desc.append("telephone")
    if phone and rng.random() < 0.6:
        x = channel.codec(x, "gsm")
        desc.append("codec=gsm")
    elif not phone and rng.random() < 0.15:
        name = rng.choice(["g722", "opus6k", "opus12k", "mp3-16k", "mp3-24k"])
        x = channel.codec(x, name)
        desc.append(f"codec={name}")
    if rng.random() < opts.get("lowpass_share", 0.3):
        x = channel.lowpass_11k(x)
        desc.append("lowpass=5.5k")
    x, d = channel.level(x, rng)
    desc.append(d)
    return x, " ".join(desc)


def base_voices(espeak_variants):
    """How many distinct base voices the groups offer: espeak-ng accent x variant, the flite, festival
    and Pico voices, and Kokoro's styles and two-style blends (10 pairs x 9 weights) in 2 accents."""
    from voices import KOKORO_ACCENTS, KOKORO_STYLES, PICO_VOICES
    import synth
    pairs = len(KOKORO_STYLES) * (len(KOKORO_STYLES) - 1) // 2
    kokoro = (len(KOKORO_STYLES) + pairs * len(KOKORO_BLEND_WEIGHTS)) * len(KOKORO_ACCENTS)
    return {"espeak-ng": len(synth.ACCENTS) * max(1, len(espeak_variants)), "flite": len(synth.FLITE_TRAIN),
            "festival": len(synth.FESTIVAL_TRAIN), "kokoro": kokoro, "pico": len(PICO_VOICES)}


def make_babble(utterances, seed, tracks=40):
    """`tracks` babble tracks of 8 s from the run's own utterances (float arrays at 16 kHz)."""
    import random
    rng = random.Random(f"{seed}/babble")
    return np.array([noise.babble(utterances, rng) for _ in range(tracks)])
