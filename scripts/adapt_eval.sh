#!/usr/bin/env bash
# Issue 8's measurement: flite `awb` plays "the user". 20 keyword takes and 20 digit-string takes
# are synthesized as one recording each (2.5 s per take), enrolled with `hark enroll --file`,
# and `hark adapt` fine-tunes the model on them. Then a disjoint set of awb utterances (the
# kw-dev and dev sets of the corpus) and the other test voice (piper joe) are evaluated before
# and after.
#   scripts/adapt_eval.sh MODEL CORPUS_DIR [KEYWORD]     e.g. share/model.safetensors data/corpus14
set -euo pipefail
model=$1; corpus=$2; keyword=${3:-okay robot}
hark=${HARK:-$(swift build -c release --show-bin-path)/hark}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
python3 - "$work" "$keyword" <<'PY'
import random, subprocess, sys
work, keyword = sys.argv[1], sys.argv[2]
digits = "zero one two three four five six seven eight nine".split()
rng = random.Random(8)
phrases = [" ".join(rng.choice(digits) for _ in range(rng.randint(3, 5))) for _ in range(20)]
open(f"{work}/digits.txt", "w").write("\n".join(phrases) + "\n")
for name, texts in [("keyword", [keyword] * 20), ("digits", phrases)]:
    parts = []
    for i, t in enumerate(texts):
        stretch = round(rng.uniform(0.85, 1.2), 2)
        subprocess.run(["flite", "-voice", "awb", "-t", t, "-o", f"{work}/raw.wav", "--setf", f"duration_stretch={stretch}"], check=True)
        out = f"{work}/{name}{i:02d}.wav"
        subprocess.run(["sox", f"{work}/raw.wav", "-r", "16000", "-c", "1", "-b", "16", out, "pad", "0.4", "3", "trim", "0", "2.5"], check=True)
        parts.append(out)
    subprocess.run(["sox"] + parts + [f"{work}/{name}.wav"], check=True)
PY
"$hark" enroll --keyword "$keyword" --file "$work/keyword.wav" --out "$work/takes" --takes 20 2>/dev/null
"$hark" enroll --phrases "$work/digits.txt" --file "$work/digits.wav" --out "$work/takes" --takes 20 2>/dev/null
start=$(date +%s)
"$hark" adapt --samples "$work/takes" --model "$model" --out "$work/adapted.safetensors" --mix "$corpus/train.jsonl"
echo "adapt took $(( $(date +%s) - start )) s"
for m in "$model" "$work/adapted.safetensors"; do
    echo "== $m"
    # at the model's own threshold (the default, or the one adapt tuned), and at ≤ 0.5 false alarms per hour
    "$hark" eval "$corpus/kw-dev.jsonl" --model "$m" --keyword "$keyword" --false-alarm-target 0.5 | grep "^keyword '"
    "$hark" eval "$corpus/dev.jsonl" --model "$m" --words digits=share/vocab/digits.txt | grep -E "^digits"
    "$hark" eval "$corpus/test.jsonl" --model "$m" --words digits=share/vocab/digits.txt --phrases commands=share/vocab/commands.txt | grep -E "^(digits|commands|all)"
done
