#!/usr/bin/env python3
"""Drascula: The Vampire Strikes Back (Debian `drascula`): English speech -> manifest.

    scripts/human/drascula.py extract [OUT_DIR]      (default /work/data/human)
    scripts/human/drascula.py stats   [OUT_DIR]

Writes OUT_DIR/drascula/wav/<clip>.wav (16-bit mono, 11025 Hz) and
OUT_DIR/drascula/all.jsonl (every clip that has a text). Then
    scripts/human/checker.py OUT_DIR/drascula/all.jsonl --out OUT_DIR/drascula/all.scored.jsonl
    scripts/human/drascula.py filter [OUT_DIR]
make train.jsonl: clips with checker WER <= 1.0, CER <= 0.7 and at most 6 words/s.
Why those: tiny.en gets a third of the words of these accented 8-bit recordings wrong
(corpus WER 0.33, median clip 0.23), so WER up to 1.0 is mostly the checker's own
error ("you pianist" -> "you pin is"); above 1.0, and above 0.7 CER, the transcripts
are other sentences ("the window is boarded up" -> "there's a window stopping the
game ..."), hallucinated loops or one-word clips it cannot tell. The only two clips
over 6 words/s are recordings cut short of their subtitle.
Re-running skips WAVs already written and rewrites the manifest.

What the game files hold:
  * en/<name>.ALS: raw 8-bit unsigned PCM at 11025 Hz after a 32-byte header, with 64
    bytes at the end that are not sound. S<n>.ALS are sound effects, F<n>.ALS have no text.
  * en/drascula.dat: "DRASCULA", a version byte, tables of game data (each a BE16 count
    of fixed-size records), a BE16 language count, then text arrays. Each array is a BE16
    string count, then per language a BE16 byte length, 2 bytes of padding and, per
    string, a BE16 record size followed by the NUL-terminated string and its padding.
    English is language 0; the arrays, in order: text (John Hacker), textd (Drascula),
    textb (the drunk), textbj (B.J.), texte, texti (Igor), textl (the werewolf), textp
    (the pianist), textt (the bartender), textvb (Von Braun), then menu/system texts.
  * <n>.ALS says text[n]; a letter prefix picks the array: D textd, B textb, BJ textbj,
    E texte, I texti, L textl, P textp, T textt, VB textvb. The scene with the blind man
    uses textd too: D56-D67 are Hacker's lines, D68-D78 the blind man's; D82 is the
    bartender's.
"""

import argparse
import collections
import json
import os
import re
import struct
import sys
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clips  # noqa: E402
from clips import write_wav  # noqa: E402
from textnorm_games import normalize  # noqa: E402

DEFAULT_GAME = "/usr/share/scummvm/drascula/en"
DEFAULT_OUT = "/work/data/human"
SOURCE = "drascula"
RATE = 11025
ALS_HEADER, ALS_TRAILER = 32, 64
ENGLISH = 0
WPS_ABSURD_LOW, WPS_ABSURD_HIGH = 0.3, 9.0

# record sizes of the tables before the texts (count BE16, then count records)
TABLE_RECORD_SIZES = [4, 4, 4, 2, 4, 2, 4, 2, 2, 20, 20, 10, 8]
ARRAYS = ["text", "textd", "textb", "textbj", "texte", "texti", "textl", "textp", "textt",
          "textvb", "textsys", "texthis", "textverbs", "textmisc", "textd1"]
PREFIX_ARRAY = {"": "text", "D": "textd", "B": "textb", "BJ": "textbj", "E": "texte",
                "I": "texti", "L": "textl", "P": "textp", "T": "textt", "VB": "textvb"}
ARRAY_SPEAKER = {"text": "hacker", "textd": "drascula", "textb": "drunk", "textbj": "bj",
                 "texte": "mus", "texti": "igor", "textl": "werewolf", "textp": "pianist",
                 "textt": "bartender", "textvb": "von_braun"}


def read_texts(path):
    """{array name: [[strings of language 0], [language 1], ...]} from drascula.dat."""
    with open(path, "rb") as f:
        d = f.read()
    if d[:8] != b"DRASCULA":
        raise ValueError("%s: not a drascula.dat" % path)
    p = 9

    def u16():
        nonlocal p
        v = struct.unpack(">H", d[p:p + 2])[0]
        p += 2
        return v

    for size in TABLE_RECORD_SIZES:
        count = u16()
        p += count * size
    languages = u16()
    arrays = {}
    for name in ARRAYS:
        count = u16()
        per_language = []
        for _ in range(languages):
            length = u16()
            end = p + length
            p += 2
            strings = []
            for _ in range(count):
                size = u16()
                strings.append(d[p:p + size - 2].split(b"\0")[0].decode("cp437"))
                p += size - 2
            if p != end:
                raise ValueError("%s: array %s does not end where its length says" % (path, name))
            per_language.append(strings)
        arrays[name] = per_language
    return arrays


def clip_text(clip, arrays, lang=ENGLISH):
    """(raw_text, speaker) for a clip name like '12', 'D68', 'VB3'; (None, reason) if none."""
    m = re.fullmatch(r"([A-Z]*)(\d+)", clip)
    if not m:
        return None, "unusual file name"
    prefix, index = m.group(1), int(m.group(2))
    if prefix == "S":
        return None, "sound effect"
    if prefix not in PREFIX_ARRAY:
        return None, "no text array for prefix %s" % prefix
    array = PREFIX_ARRAY[prefix]
    strings = arrays[array][lang]
    if index >= len(strings) or not strings[index].strip():
        return None, "no text for this index"
    speaker = ARRAY_SPEAKER[array]
    if prefix == "D":
        if 56 <= index <= 67:
            speaker = "hacker"
        elif 68 <= index <= 78:
            speaker = "blind_man"
        elif index == 82:
            speaker = "bartender"
        elif index > 78:
            speaker = "unknown"
    return strings[index], speaker


def als_to_pcm16(data):
    """8-bit unsigned ALS payload -> 16-bit signed little-endian PCM bytes."""
    body = data[ALS_HEADER:len(data) - ALS_TRAILER] if len(data) > ALS_HEADER + ALS_TRAILER else b""
    out = bytearray(2 * len(body))
    for i, b in enumerate(body):
        v = (b - 128) << 8
        out[2 * i] = v & 0xFF
        out[2 * i + 1] = (v >> 8) & 0xFF
    return bytes(out)


def speech_files(game_dir):
    return sorted((f[:-4] for f in os.listdir(game_dir) if f.upper().endswith(".ALS")),
                  key=lambda c: (re.match(r"[A-Z]*", c).group(), int(re.sub(r"\D", "", c) or 0)))


def extract(out_dir, game_dir=DEFAULT_GAME, log=print):
    arrays = read_texts(os.path.join(game_dir, "drascula.dat"))
    root = os.path.join(out_dir, SOURCE)
    wav_dir = os.path.join(root, "wav")
    os.makedirs(wav_dir, exist_ok=True)
    dropped = collections.Counter()
    rows = []
    written = skipped = speech = 0
    for clip in speech_files(game_dir):
        raw, speaker = clip_text(clip, arrays)
        if raw is None:
            dropped[speaker] += 1
            if speaker != "sound effect":
                speech += 1
            continue
        speech += 1
        norm, why = normalize(raw)
        if why:
            dropped["text: " + why] += 1
            continue
        wav_path = os.path.join(wav_dir, clip + ".wav")
        if os.path.exists(wav_path):
            skipped += 1
        else:
            with open(os.path.join(game_dir, clip + ".ALS"), "rb") as f:
                write_wav(wav_path, als_to_pcm16(f.read()), RATE)
            written += 1
        with wave.open(wav_path, "rb") as w:
            duration = w.getnframes() / w.getframerate()
        wps = len(norm.split()) / duration if duration > 0 else float("inf")
        if duration <= 0.05:
            dropped["audio: empty"] += 1
            continue
        if wps > WPS_ABSURD_HIGH:
            dropped["audio: words/s > %g" % WPS_ABSURD_HIGH] += 1
            continue
        if wps < WPS_ABSURD_LOW:
            dropped["audio: words/s < %g" % WPS_ABSURD_LOW] += 1
            continue
        rows.append({"audio": "wav/%s.wav" % clip, "text": norm, "raw_text": raw,
                     "category": "sentences", "source": SOURCE, "speaker": speaker,
                     "duration": round(duration, 3)})
    manifest = os.path.join(root, "all.jsonl")
    clips.write_jsonl(manifest, rows)
    log("drascula: %d speech clips (not S*.ALS) in %s" % (speech, game_dir))
    log("drascula: wrote %d WAVs, %d already there" % (written, skipped))
    log("drascula: %d clips in %s" % (len(rows), manifest))
    for why, k in sorted(dropped.items(), key=lambda x: -x[1]):
        log("  dropped %5d  %s" % (k, why))
    return rows, dropped


def filter_manifest(scored, out, threshold, cer_threshold=None, max_wps=None, log=print):
    """train.jsonl: the clips whose recording says the subtitle, as far as the checker tells.

    Kept: checker WER <= threshold, and (when given) checker CER <= cer_threshold and
    words per second <= max_wps. Counts what each test drops (first failing test).
    """
    rows = [json.loads(l) for l in open(scored)]
    keep, dropped = [], collections.Counter()
    for r in rows:
        wps = len(r["text"].split()) / r["duration"]
        if r.get("checker_wer") is None:
            dropped["not scored"] += 1
        elif r["checker_wer"] > threshold:
            dropped["checker WER > %g" % threshold] += 1
        elif cer_threshold is not None and r["checker_cer"] > cer_threshold:
            dropped["checker CER > %g" % cer_threshold] += 1
        elif max_wps is not None and wps > max_wps:
            dropped["words/s > %g" % max_wps] += 1
        else:
            keep.append(r)
    clips.write_jsonl(out, keep)
    log("%s: kept %d of %d clips, %.1f of %.1f min" % (
        out, len(keep), len(rows), sum(r["duration"] for r in keep) / 60,
        sum(r["duration"] for r in rows) / 60))
    for why, n in dropped.most_common():
        log("  dropped %4d  %s" % (n, why))
    return keep


def stats(manifest, log=print):
    return clips.stats(manifest, log, speaker_width=12, outliers=None)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=["extract", "stats", "filter"])
    ap.add_argument("out_dir", nargs="?", default=DEFAULT_OUT)
    ap.add_argument("--game", default=DEFAULT_GAME, help="English data folder (default: %(default)s)")
    ap.add_argument("--threshold", type=float, default=1.0,
                    help="filter: highest checker WER kept in train.jsonl (default %(default)s)")
    ap.add_argument("--cer-threshold", type=float, default=0.7,
                    help="filter: highest checker CER kept (default %(default)s)")
    ap.add_argument("--max-wps", type=float, default=6.0,
                    help="filter: most words per second kept (default %(default)s)")
    args = ap.parse_args(argv)
    root = os.path.join(args.out_dir, SOURCE)
    if args.command == "extract":
        if not os.path.exists(os.path.join(args.game, "drascula.dat")):
            sys.exit("%s/drascula.dat not found: apt-get install drascula" % args.game)
        extract(args.out_dir, args.game)
        stats(os.path.join(root, "all.jsonl"))
    elif args.command == "stats":
        stats(os.path.join(root, "all.jsonl"))
    else:
        filter_manifest(os.path.join(root, "all.scored.jsonl"), os.path.join(root, "train.jsonl"),
                        args.threshold, args.cer_threshold, args.max_wps)


if __name__ == "__main__":
    main()
