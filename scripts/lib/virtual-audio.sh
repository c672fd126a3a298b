# Virtual capture devices for tests, benchmarks and latency runs (shared/TESTING-AUDIO.md).
# Source this file, then call start_pulse / start_jack; stop_virtual_audio cleans up.
#   pulse: ALSA device "pulse", fed by writing raw S16_LE 16 kHz mono into $HARK_PULSE_PIPE
#   jack:  ALSA device "jackmic", the JACK dummy backend at 16 kHz (real time, real overruns)

HARK_AUDIO_DIR=${HARK_AUDIO_DIR:-$(mktemp -d /tmp/hark-audio.XXXXXX)}
export HARK_PULSE_PIPE=$HARK_AUDIO_DIR/fifomic.pipe

write_alsa_conf() {
    cat > "$HARK_AUDIO_DIR/vmic.conf" <<CONF
pcm.vmicfile { @args [ IN ] @args.IN { type string } type file slave.pcm "null" file "/dev/null" infile \$IN }
pcm.jackmic { type jack capture_ports { 0 system:capture_1 } }
CONF
    export ALSA_CONFIG_PATH=/usr/share/alsa/alsa.conf:$HARK_AUDIO_DIR/vmic.conf
}

start_pulse() {
    local d=$HARK_AUDIO_DIR
    mkdir -p "$d/run" "$d/state" "$d/config"
    export PULSE_RUNTIME_PATH=$d/run PULSE_STATE_PATH=$d/state PULSE_CONFIG_PATH=$d/config
    cat > "$d/vmic.pa" <<PA
load-module module-native-protocol-unix auth-anonymous=1
load-module module-pipe-source source_name=fifomic file=$HARK_PULSE_PIPE format=s16le rate=16000 channels=1
set-default-source fifomic
PA
    pulseaudio --daemonize=yes --use-pid-file=yes --exit-idle-time=-1 --disallow-exit -n -F "$d/vmic.pa" \
        --log-target=file:"$d/pulse.log" 2>/dev/null
    export PULSE_SERVER=unix:$d/run/native
    for _ in $(seq 100); do pactl info >/dev/null 2>&1 && return 0; sleep 0.05; done
    echo "virtual-audio: PulseAudio did not start (see $d/pulse.log)" >&2
    return 1
}

start_jack() {
    JACK_NO_AUDIO_RESERVATION=1 jackd --no-realtime -d dummy -r 16000 -p 320 -C 1 -P 1 \
        >"$HARK_AUDIO_DIR/jack.log" 2>&1 &
    HARK_JACK_PID=$!
    for _ in $(seq 100); do jack_lsp 2>/dev/null | grep -q system:capture_1 && return 0; sleep 0.05; done
    echo "virtual-audio: jackd did not start (see $HARK_AUDIO_DIR/jack.log)" >&2
    return 1
}

stop_virtual_audio() {
    [[ -n "${HARK_JACK_PID:-}" ]] && kill "$HARK_JACK_PID" 2>/dev/null && wait "$HARK_JACK_PID" 2>/dev/null
    [[ -f "$HARK_AUDIO_DIR/run/pid" ]] && kill "$(cat "$HARK_AUDIO_DIR/run/pid")" 2>/dev/null
    rm -rf "$HARK_AUDIO_DIR"
    return 0
}
