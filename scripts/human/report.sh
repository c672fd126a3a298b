#!/usr/bin/env bash
# Hark and PocketSphinx 5 on the human dev and test halves (scripts/human/devtest.py build), in one run:
#   scripts/human/report.sh [MODEL] [HUMAN_DIR]       (defaults: share/model.safetensors, /work/data/human)
# Numbers with their word list (share/vocab/human-numbers.txt: any sequence of those words), commands with
# their phrase list (human-commands.txt), every clip greedy/open, and the keyword 'bamboo' spotted in
# every clip; Hark once more with each clip heard warm (--warm). Each system's keyword threshold is
# chosen on dev (the lowest with at most 1 false alarm per hour there) and applied to test unchanged.
# PocketSphinx's language-model mode costs about a second of CPU per second of audio;
# HARK_PS_LM_EVERY=N runs it on every Nth clip only (default 1).
# HARK_PS=0 leaves PocketSphinx out, to compare checkpoints of one run; figures that are reported
# beside PocketSphinx come from a whole run of this script.
set -euo pipefail
cd "$(dirname "$0")/../.."
model=${1:-share/model.safetensors}; dir=${2:-/work/data/human}/devtest
hark=${HARK:-$(swift build -c release --show-bin-path)/hark}
keyword=bamboo
vocab=(--words numbers=share/vocab/human-numbers.txt --phrases commands=share/vocab/human-commands.txt)
for half in dev test; do
    echo "### Hark, human $half ($dir/$half.jsonl)"
    echo '```'
    "$hark" eval "$dir/$half.jsonl" --model "$model" "${vocab[@]}"
    echo '```'
done
echo "### Hark, keyword '$keyword' (threshold chosen on dev at ≤ 1 false alarm per hour)"
echo '```'
# (Not `tee /dev/stderr`: with stderr sent to a file, tee reopens and truncates it.)
dev=$("$hark" eval "$dir/dev.jsonl" --model "$model" --keyword "$keyword" --false-alarm-target 1)
echo "$dev"
threshold=$(sed -n "s/.*at ≤ 1.00 false alarms per hour: recall .* (threshold \([0-9.]*\).*/\1/p" <<<"$dev")
echo "dev-chosen threshold: ${threshold:-none}"
if [[ -n "$threshold" ]]; then
    for half in dev test; do
        echo "$half: $("$hark" eval "$dir/$half.jsonl" --model "$model" --keyword "$keyword" --threshold "$threshold" | grep "^keyword")"
    done
fi
echo '```'
# Warm: each clip heard as live use hears the next utterance after a pause (the front end has heard
# the same speaker's previous clip and 1 s of silence; the network starts clean). A clip alone is a
# cold stream start, which costs the quiet Kajongg clips their first word (MODEL.md, "Next").
echo "### Hark, warm (each clip after its speaker's previous one: hark eval --warm 1)"
echo '```'
for half in dev test; do
    echo "$half:"
    "$hark" eval "$dir/$half.jsonl" --model "$model" "${vocab[@]}" --warm 1 --keyword "$keyword" ${threshold:+--threshold "$threshold"} \
        | grep -E "^(warm|commands|numbers|keyword)"
done
echo '```'
[[ "${HARK_PS:-1}" == 0 ]] && exit 0
echo "### PocketSphinx 5, the same clips"
echo '```'
for half in dev test; do
    echo "$half:"
    python3 scripts/pocketsphinx_eval.py "$dir/$half.jsonl" --numbers share/vocab/human-numbers.txt \
        --commands share/vocab/human-commands.txt --lm-every "${HARK_PS_LM_EVERY:-1}" \
        --keyword "$keyword" --kws-threshold 1e-40,1e-30,1e-20,1e-10
    echo
done
echo '```'
