"""What every tool in scripts/human does with a clip and a manifest: write the clip as a 16-bit mono
WAV atomically, write a JSONL manifest atomically, summarize a manifest (hours per speaker, speaking
rates and outliers), and count edits between a label and a transcript."""
import collections
import json
import os
import wave

# Words per second outside this range are reported (and absurd ones dropped by the extractors).
WPS_PLAUSIBLE = (0.8, 6.0)


def write_wav(path, pcm16, rate):
    """Little-endian 16-bit mono samples to a WAV at `rate`, written to a temporary file and renamed."""
    tmp = path + ".tmp"
    with wave.open(tmp, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm16)
    os.replace(tmp, path)


def write_jsonl(path, rows, ensure_ascii=False):
    """One JSON object per line, written to a temporary file and renamed."""
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=ensure_ascii) + "\n")
    os.replace(path + ".tmp", path)


def edit_distance(a, b):
    """Levenshtein distance between two sequences (word lists for WER, strings for CER)."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return prev[-1]


def stats(manifest, log=print, speaker_width=12, outliers=None):
    """Prints clips and hours, clips and minutes per speaker, the words-per-second distribution and
    the clips outside WPS_PLAUSIBLE (at most `outliers` of them). Returns the manifest's rows."""
    rows = [json.loads(line) for line in open(manifest)]
    total = sum(r["duration"] for r in rows)
    log("%s: %d clips, %.2f h (%.1f min)" % (manifest, len(rows), total / 3600, total / 60))
    by = collections.defaultdict(lambda: [0, 0.0])
    for r in rows:
        by[r["speaker"]][0] += 1
        by[r["speaker"]][1] += r["duration"]
    for spk, (n, d) in sorted(by.items(), key=lambda x: -x[1][1]):
        log("  %-*s %5d clips %6.1f min" % (speaker_width, spk, n, d / 60))
    if not rows:
        return rows
    rate = lambda r: len(r["text"].split()) / r["duration"]
    wps = sorted(rate(r) for r in rows)
    lo, hi = WPS_PLAUSIBLE
    outside = sorted((r for r in rows if not lo <= rate(r) <= hi), key=rate)
    log("  words/s: min %.2f  p5 %.2f  median %.2f  p95 %.2f  max %.2f; %d clips outside %.1f-%.1f" % (
        wps[0], wps[len(wps) // 20], wps[len(wps) // 2], wps[len(wps) * 19 // 20], wps[-1], len(outside), lo, hi))
    for r in outside[:outliers]:
        log("    %5.2f w/s %5.2f s  %s  %r" % (rate(r), r["duration"], r["audio"], r["text"][:70]))
    return rows
