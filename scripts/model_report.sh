#!/usr/bin/env bash
# The measurements behind MODEL.md, Hark and PocketSphinx 5 on the same audio, in one run.
#   scripts/model_report.sh MODEL CORPUS_DIR [KEYWORD]
# Dev = flite awb (CORPUS/dev.jsonl, kw-dev.jsonl), test = piper joe (test.jsonl, kw-test.jsonl).
# The keyword threshold of both systems is chosen on dev (the lowest that keeps false alarms at or
# below 0.5 per hour there) and then applied to test unchanged.
set -euo pipefail
model=$1; corpus=$2; keyword=${3:-okay robot}
hark=${HARK:-$(swift build -c release --show-bin-path)/hark}
vocab=(--words digits=share/vocab/digits.txt --phrases commands=share/vocab/commands.txt)
for set in dev test; do
    echo "### Hark, $set ($corpus/$set.jsonl)"
    echo '```'
    "$hark" eval "$corpus/$set.jsonl" --model "$model" --weights float "${vocab[@]}"
    echo '```'
done
echo "### Hark, keyword '$keyword'"
echo '```'
dev=$("$hark" eval "$corpus/kw-dev.jsonl" --model "$model" --weights float --keyword "$keyword" --false-alarm-target 0.5 | tee /dev/stderr | \
      sed -n "s/.*at ≤ 0.50 false alarms per hour: recall .* (threshold \([0-9.]*\),.*/\1/p")
echo "dev-chosen threshold: $dev"
"$hark" eval "$corpus/kw-dev.jsonl" --model "$model" --weights float --keyword "$keyword" --threshold "$dev" | grep "^keyword"
"$hark" eval "$corpus/kw-test.jsonl" --model "$model" --weights float --keyword "$keyword" --threshold "$dev" --false-alarm-target 0.5 | grep "^keyword"
echo '```'
if [[ -f share/okay-robot.safetensors && "$keyword" == "okay robot" ]]; then
    echo "### Hark's keyword model (scripts/train-keyword), its stored threshold"
    echo '```'
    for set in kw-dev kw-test; do
        "$hark" eval "$corpus/$set.jsonl" --model share/okay-robot.safetensors --keyword "$keyword" | grep "^keyword '"
    done
    echo '```'
fi
echo "### PocketSphinx 5"
echo '```'
for set in dev test; do python3 scripts/pocketsphinx_eval.py "$corpus/$set.jsonl"; echo; done
best=""
for t in 1e-10 1e-20 1e-30 1e-40; do
    line=$(python3 scripts/pocketsphinx_eval.py "$corpus/kw-dev.jsonl" --keyword "$keyword" --kws-threshold "$t" --no-transcribe | tail -1)
    echo "dev: $line"
done
echo '```'
