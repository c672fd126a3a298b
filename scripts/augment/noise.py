"""Real background noise: music from Debian packages, the desktop sound themes, babble made of other
utterances, and sox's coloured noise; mixed in at a drawn signal-to-noise ratio.

The bank is decoded once (ffmpeg, 16 kHz mono 16-bit) and cached as one memory-mapped .npy with a
JSON index, so every worker process shares it without copying:
  music    fillets-ng-data (/usr/share/games/fillets-ng/music) and wesnoth-1.16-music, up to 60 s
           from each track (from 20 s in, past the intros)
  themes   sound-theme-freedesktop, yaru-theme-sound, deepin-sound-theme, gnome-audio
  colored  sox white, pink and brown noise, 10 s each
Babble (`babble`) is built per run from utterances of the run's own training voices.
"""
import glob
import json
import os
import subprocess

import numpy as np

RATE = 16000
MUSIC = ["/usr/share/games/fillets-ng/music/*.ogg", "/usr/share/games/wesnoth/*/data/core/music/*.ogg"]
THEMES = ["/usr/share/sounds/freedesktop/stereo/*.oga", "/usr/share/sounds/Yaru/stereo/*.oga",
          "/usr/share/sounds/deepin/stereo/*.wav", "/usr/share/sounds/gnome/default/alerts/*.ogg",
          "/usr/share/sounds/*.wav"]
MUSIC_SECONDS, MUSIC_SKIP = 60, 20


def decode(path, start=0.0, seconds=None):
    """Any audio file ffmpeg reads, as 16-bit samples at 16 kHz mono."""
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-ss", str(start), "-i", path]
    if seconds:
        cmd += ["-t", str(seconds)]
    out = subprocess.run(cmd + ["-f", "s16le", "-ac", "1", "-ar", str(RATE), "pipe:1"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(out, dtype="<i2")


def colored(kind, seconds=10):
    out = subprocess.run(["sox", "-R", "-n", "-t", "s16", "-r", str(RATE), "-c", "1", "-", "synth", str(seconds),
                          kind, "gain", "-6"], check=True, capture_output=True).stdout
    return np.frombuffer(out, dtype="<i2")


def build_bank(cache_dir, log=None):
    """Decodes every source into <cache_dir>/noise-bank.npy + noise-bank.json; returns the index."""
    clips, index = [], []
    for kind, patterns in [("music", MUSIC), ("themes", THEMES)]:
        for pattern in patterns:
            for path in sorted(glob.glob(pattern)):
                try:
                    if kind == "music":
                        x = decode(path, MUSIC_SKIP, MUSIC_SECONDS)
                        if len(x) < RATE * 5:           # a short track: from its start
                            x = decode(path, 0, MUSIC_SECONDS)
                    else:
                        x = decode(path)
                except subprocess.CalledProcessError:
                    if log:
                        log(f"noise bank: cannot decode {path}, skipped")
                    continue
                if len(x) >= RATE // 4 and np.abs(x).max() > 100:      # not empty, not silent
                    clips.append(x)
                    index.append({"kind": kind, "source": path, "samples": len(x)})
    for k in ["whitenoise", "pinknoise", "brownnoise"]:
        clips.append(colored(k))
        index.append({"kind": "colored", "source": f"sox {k}", "samples": len(clips[-1])})
    if not any(i["kind"] == "music" for i in index):
        raise SystemExit("synth: no music for the noise bank: apt-get install fillets-ng-data wesnoth-1.16-music "
                         "(scripts/setup --augment)")
    os.makedirs(cache_dir, exist_ok=True)
    flat = np.concatenate(clips)
    np.save(os.path.join(cache_dir, "noise-bank.partial.npy"), flat)
    os.replace(os.path.join(cache_dir, "noise-bank.partial.npy"), os.path.join(cache_dir, "noise-bank.npy"))
    with open(os.path.join(cache_dir, "noise-bank.json.partial"), "w") as f:
        json.dump(index, f, indent=0)
    os.replace(os.path.join(cache_dir, "noise-bank.json.partial"), os.path.join(cache_dir, "noise-bank.json"))
    return index


class Bank:
    """The cached noise bank, memory-mapped; clips by kind."""

    def __init__(self, cache_dir, log=None):
        if not os.path.exists(os.path.join(cache_dir, "noise-bank.json")):
            build_bank(cache_dir, log)
        self.index = json.load(open(os.path.join(cache_dir, "noise-bank.json")))
        self.flat = np.load(os.path.join(cache_dir, "noise-bank.npy"), mmap_mode="r")
        offsets = np.concatenate([[0], np.cumsum([i["samples"] for i in self.index])])
        self.by_kind = {}
        for i, entry in enumerate(self.index):
            self.by_kind.setdefault(entry["kind"], []).append((int(offsets[i]), int(offsets[i + 1])))

    def seconds(self, kind):
        return sum(b - a for a, b in self.by_kind.get(kind, [])) / RATE

    def draw(self, rng, kind, n):
        """`n` samples of a random clip of `kind` from a random offset (looped if the clip is short)."""
        a, b = self.by_kind[kind][rng.randrange(len(self.by_kind[kind]))]
        clip = np.asarray(self.flat[a:b], dtype=np.float64) / 32768
        start = rng.randrange(max(1, len(clip) - n))
        return np.resize(clip[start:start + n], n)


def babble(utterances, rng, seconds=8.0, talkers=(3, 8)):
    """A babble track: `talkers` utterances (float arrays at 16 kHz), each at a random level within
    ±6 dB, placed at random times and looped to fill `seconds`."""
    n = int(seconds * RATE)
    out = np.zeros(n)
    for _ in range(rng.randint(*talkers)):
        u = utterances[rng.randrange(len(utterances))]
        u = u / (np.sqrt(np.mean(np.square(u))) + 1e-12) * 10 ** (rng.uniform(-6, 6) / 20)
        start = rng.randrange(n)
        track = np.resize(u, n)          # looped: a talker keeps talking
        out += np.roll(track, start)
    return out / (np.sqrt(np.mean(np.square(out))) + 1e-12) * 0.05


def mix(speech, noise, snr_db):
    """`speech` + `noise` scaled to `snr_db` (speech power over noise power; same length)."""
    ps = np.mean(np.square(speech)) + 1e-20
    pn = np.mean(np.square(noise)) + 1e-20
    return speech + noise * np.sqrt(ps / (pn * 10 ** (snr_db / 10)))
