#!/usr/bin/env bash
# Dictation in words (issue 19) beside PocketSphinx 5's language-model mode, on the same audio, in one run:
#   scripts/dictation_report.sh [MODEL] [CORPUS_DIR] [HUMAN_DIR]
#     (defaults: share/model.safetensors, /work/data/corpus14, /work/data/human)
# Sets: joe (CORPUS/test.jsonl: sentences, commands), awb (CORPUS/dev.jsonl: sentences), and the human
# dev half (HUMAN/devtest/dev.jsonl: sentences, commands, numbers). Hark: greedy character decoding
# (what open recognition wrote before the word search) and dictation with the shipped vocabulary and
# language model, defaults as shipped. PocketSphinx: its en-US language model and dictionary.
# Only the categories measured are passed to PocketSphinx (its LM mode costs about 1 s per second of audio).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-share/model.safetensors}; corpus=${2:-/work/data/corpus14}; human=${3:-/work/data/human}
hark=${HARK:-$(swift build -c release --show-bin-path)/hark}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
sets=("joe:$corpus/test.jsonl:sentences,commands" "awb:$corpus/dev.jsonl:sentences"
      "human-dev:$human/devtest/dev.jsonl:sentences,commands,numbers")
for s in "${sets[@]}"; do
    IFS=: read -r name manifest categories <<<"$s"
    # Keep the chosen categories; make audio paths absolute so the filtered manifest can live elsewhere.
    python3 - "$manifest" "$categories" "$work/$name.jsonl" <<'PY'
import json, os, sys
src, cats, out = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
base = os.path.dirname(os.path.abspath(src))
with open(out, "w") as f:
    for line in open(src):
        e = json.loads(line)
        if e["category"] in cats:
            e["audio"] = e["audio"] if os.path.isabs(e["audio"]) else os.path.join(base, e["audio"])
            f.write(json.dumps(e) + "\n")
PY
    echo "### $name ($manifest: $categories)"
    echo '```'
    "$hark" eval "$work/$name.jsonl" --model "$model" --dictation '*'
    echo
    echo "PocketSphinx 5, language-model mode:"
    python3 scripts/pocketsphinx_eval.py "$work/$name.jsonl" 2>/dev/null | grep -E '^\| (category|---)|^\| .* \| language model \|' || true
    echo '```'
done
