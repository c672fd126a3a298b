#!/bin/bash
# Regenerates the speech fixtures of the recognition tests from flite's `awb` voice (a voice Hark
# never trains on), trimmed and placed at known times so the tests know where each phrase is.
#   digits.wav:  0.5 s silence, "four two seven one", 1.5 s silence, "nine zero three", 1.0 s silence
#   keyword.wav: 0.5 s silence, "okay robot", 1.5 s silence, "play music", 1.0 s silence
# Each phrase's start and end (seconds) go to <name>.times. Needs flite and sox.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
phrase() {   # text → $tmp/<n>.wav, trimmed of leading/trailing silence, 16 kHz mono s16
    flite -voice awb -t "$1" -o "$tmp/raw.wav"
    sox "$tmp/raw.wav" -r 16000 -c 1 -b 16 "$tmp/$2.wav" silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse
}
make() {     # name, phrase 1, phrase 2
    phrase "$2" a; phrase "$3" b
    sox -n -r 16000 -c 1 -b 16 "$tmp/s05.wav" trim 0 0.5
    sox -n -r 16000 -c 1 -b 16 "$tmp/s15.wav" trim 0 1.5
    sox -n -r 16000 -c 1 -b 16 "$tmp/s10.wav" trim 0 1.0
    sox "$tmp/s05.wav" "$tmp/a.wav" "$tmp/s15.wav" "$tmp/b.wav" "$tmp/s10.wav" "$1.wav"
    a=$(soxi -D "$tmp/a.wav"); b=$(soxi -D "$tmp/b.wav")
    python3 -c "a,b=$a,$b; print(f'$2\t0.500\t{0.5+a:.3f}\n$3\t{2.0+a:.3f}\t{2.0+a+b:.3f}')" > "$1.times"
}
make digits "four two seven one" "nine zero three"
make keyword "okay robot" "play music"
