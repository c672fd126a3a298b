#!/usr/bin/env bash
# The token-set comparison behind MODEL.md ("Why characters"): a phoneme model trained exactly as
# the character model (same corpus, architecture, seed and epochs; only the tokens differ), both
# scored the same way on dev (flite awb, where the choice is made) and on test (piper joe, report
# only). Keyword thresholds are chosen on dev (the lowest with at most 0.5 false alarms per hour)
# and applied to test unchanged.
#   scripts/phoneme_vs_char.sh [CORPUS_DIR] [CHAR_MODEL]    (defaults: data/corpus14, share/model.safetensors)
# Pronunciations come from espeak-ng (scripts/phonemize.py); word lists and the keyword are
# pronounced the same way, so word error rates and keyword figures compare directly.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-data/corpus14}; char=${2:-share/model.safetensors}
out=$corpus/phonemes
hark=${HARK:-$(swift build -c release --show-bin-path)/hark}
keyword="okay robot"

lists=(--list share/vocab/digits.txt --list share/vocab/commands.txt --keyword "$keyword")
mapping=(); [[ -f $out/phonemes.tsv ]] && mapping=(--mapping "$out/phonemes.tsv")   # keep a trained model's tokens
for set in dev test; do
    kw=kw-$set; dir=$out; [[ $set == test ]] && dir=$out/test
    python3 scripts/phonemize.py "$dir" "${mapping[@]}" --manifest "$corpus/train.jsonl" \
        --manifest "$corpus/$set.jsonl" --manifest "$corpus/$kw.jsonl" "${lists[@]}"
    mapping=(--mapping "$out/phonemes.tsv")
done
if [[ ! -f $out/model.safetensors ]]; then
    # The character model's settings (hark model info share/model.safetensors), phoneme tokens.
    time "$hark" train --train "$out/train.jsonl" --dev "$out/dev.jsonl" --config "$out/train-config.json" \
        --out "$out/model.safetensors" --layers 2 --hidden 256 --epochs 13 --patience 4 --seed 4
fi

for kind in characters phonemes; do
    threshold=""
    for set in dev test; do
        if [[ $kind == characters ]]; then
            model=$char; dir=$corpus; vocab=share/vocab; kw=$keyword
        else
            model=$out/model.safetensors; dir=$out; [[ $set == test ]] && dir=$out/test; vocab=$dir; kw=$(head -1 "$dir/keywords.txt")
        fi
        echo "### $kind ($model), $set"
        "$hark" eval "$dir/$set.jsonl" --model "$model" --weights float --words "digits=$vocab/digits.txt" --phrases "commands=$vocab/commands.txt"
        spot=$("$hark" eval "$dir/kw-$set.jsonl" --model "$model" --weights float --keyword "$kw" --false-alarm-target 0.5 \
               ${threshold:+--threshold "$threshold"} | grep "^keyword")
        echo "$spot"
        [[ -z $threshold ]] && threshold=$(echo "$spot" | sed -n 's/.*false alarms per hour: recall .* (threshold \([0-9.]*\),.*/\1/p')
        echo
    done
done
