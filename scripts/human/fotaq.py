#!/usr/bin/env python3
"""Flight of the Amazon Queen (Debian `flight-of-the-amazon-queen`): recorded speech -> manifest.

    scripts/human/fotaq.py extract [OUT_DIR]      (default /work/data/human)
    scripts/human/fotaq.py stats   [OUT_DIR]

Writes OUT_DIR/fotaq/wav/<clip>.wav (16-bit mono) and OUT_DIR/fotaq/all.jsonl.
Re-running skips WAVs already written and rewrites the manifest.

What the game file holds (queen.1c, the "rebuilt" CD version with MP3 speech):
  * header "QTBL", a 6-byte version string, 2 bytes, 1 compression byte, then a
    BE16 entry count and entries of 12-byte name, 1-byte bundle, BE32 offset, BE32 size;
  * `<clip>.SB` entries are bare MPEG-2.5 layer III streams (no header before them);
  * `.DOG` dialogue files, `.CUT` cutaway scripts and QUEEN.JAS/QUEEN2.JAS (object
    descriptions and Joe's stock responses) hold the text, after a 20-byte "AmBk" header.
A text is spoken as segments split at `*` commands (`*FL`, `*24`, `*XY00(237,112)`...);
segment k (1-based, one hex digit) is the clip `<prefix><k>`:
  * dialogue: prefix "%2d%4X" % (talkKey, id) + "P" (the other person) or "J" (Joe),
    with "SSSS" for Joe's opening line and "XXXX" for the lines used on a second visit;
  * cutaways: the cutaway's base name padded with "_" to 5 chars + "%02d" object index;
    pure text objects play only `<prefix>1` with the whole sentence;
  * Joe's descriptions: "JOE%04d" % n, n = response number (1..40) or 40 + description.
Space characters in a name become "0" (the game's sprintf pads with spaces).

The PC talkie speech was recorded at 11840 Hz; this MP3 release labels it 11025 Hz
(ScummVM plays such files at 11840 Hz for that reason). The samples are kept as
decoded and the WAV is labelled 11840 Hz so that the voices have their real pitch
and tempo; `--mp3-rate` keeps the MP3's label instead.
"""

import argparse
import collections
import os
import re
import struct
import subprocess
import sys
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clips  # noqa: E402
from clips import write_wav  # noqa: E402
from textnorm_games import normalize  # noqa: E402

DEFAULT_DATA = "/usr/share/scummvm/flight-of-the-amazon-queen/queen.1c"
DEFAULT_OUT = "/work/data/human"
SOURCE = "fotaq"
FILE_HEADER = 20          # "AmBk" bank header before .DOG/.CUT/.JAS data
JOE_RESPONSE_MAX = 40
MP3_LABELLED_RATE = 11025
REAL_RATE = 11840
# words per second outside this range: the subtitle cannot be what the clip says
WPS_ABSURD_LOW, WPS_ABSURD_HIGH = 0.3, 9.0


# ----------------------------------------------------------------------------- table

class QueenResources:
    """The QTBL resource table of a rebuilt queen.1c."""

    def __init__(self, path=DEFAULT_DATA):
        self.path = path
        with open(path, "rb") as f:
            head = f.read(15)
            if head[:4] != b"QTBL":
                raise ValueError("%s: no QTBL table (not a rebuilt FOTAQ data file)" % path)
            self.version = head[4:10].split(b"\0")[0].decode("ascii")
            self.compression = head[12]
            count = struct.unpack(">H", head[13:15])[0]
            raw = f.read(count * 21)
        self.entries = collections.OrderedDict()
        for i in range(count):
            rec = raw[i * 21:(i + 1) * 21]
            name = rec[:12].split(b"\0")[0].decode("latin-1")
            bundle = rec[12]
            offset, size = struct.unpack(">II", rec[13:21])
            self.entries[name] = (bundle, offset, size)
        self._fh = open(path, "rb")

    def __contains__(self, name):
        return name.upper() in self.entries

    def read(self, name):
        bundle, offset, size = self.entries[name.upper()]
        if bundle != 1:
            raise ValueError("%s is in bundle %d, only queen.1c is supported" % (name, bundle))
        self._fh.seek(offset)
        return self._fh.read(size)

    def names(self, ext):
        return [n for n in self.entries if n.endswith(ext)]


# ----------------------------------------------------------------------------- text

def be16(data, off):
    return struct.unpack(">h", data[off:off + 2])[0]


def ube16(data, off):
    return struct.unpack(">H", data[off:off + 2])[0]


def get_string(data, off, align=2):
    """Pascal string (1 length byte); returns (text, offset of the next field)."""
    length = data[off]
    off += 1
    if length == 0:
        return "", off
    text = data[off:off + length].decode("latin-1")
    off = (off + length + align - 1) & ~(align - 1)
    return text, off


COMMAND = re.compile(r"\*(XY\d\d\(\s*\d+\s*,\s*\d+\s*\)|..)", re.S)


def split_segments(sentence):
    """[(k, text)] for the segments a sentence is spoken in, k = 1-based clip suffix.

    The text before each `*` command is spoken (with that command) as one segment;
    what follows the last command is the final segment. Empty segments are kept so
    that numbering stays right; callers skip them.
    """
    segments = []
    start = 0
    index = 0
    for m in COMMAND.finditer(sentence):
        command = m.group(1)
        # the game skips speaking (but still counts) segments whose command is GD/GM
        if command not in ("GD", "GM"):
            segments.append((index + 1, sentence[start:m.start()]))
        index += 1
        start = m.end()
    if start < len(sentence):
        segments.append((index + 1, sentence[start:]))
    return segments


def clip_name(prefix, k):
    return (prefix + "%X" % k).replace(" ", "0").upper()


# One name per character: dialogue-file stems and cutaway object names that differ.
SPEAKER_ALIASES = {"prin": "azura", "princess_azura": "azura", "azura_obj": "azura",
                   "and": "anderson", "sec": "secretary", "showeram": "showering_amazon",
                   "jim": "jimmy", "tallpyg": "tall_pygmy", "trader_bob": "bob",
                   "witch": "witch_doctor", "joe_king": "joe"}


def speaker_name(name):
    name = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return SPEAKER_ALIASES.get(name, name) or "unknown"


# Person slots in QUEEN.JAS whose initial name is a thing: the cutaway copies a
# person into them, so the name says nothing about who speaks.
NOT_A_SPEAKER = {"note", "path", "smoke", "telephone", "torch", "door", "rock", "buttons",
                 "lily_pad"}


def character_of_dog(dog_name):
    """BOB3.DOG -> 'bob': the person Joe talks to in that dialogue file."""
    stem = dog_name.rsplit(".", 1)[0]
    return speaker_name(re.sub(r"\d+$", "", stem))


def dog_sentences(dog_name, raw):
    """Yield (prefix, sentence, speaker) for every line of a .DOG file."""
    d = raw[FILE_HEADER:]
    level_max = abs(be16(d, 0))
    talk_key = be16(d, 4)
    j_max, p_max = be16(d, 6), be16(d, 8)
    person1_off, person2_off = ube16(d, 22), ube16(d, 26)
    joe_off = 32 + level_max * 96
    other = character_of_dog(dog_name)

    # id-tagged lists: (2 bytes, BE16 id, string aligned to 4) repeated
    def tagged(off, count):
        for _ in range(count):
            off += 2
            ident = be16(d, off)
            off += 2
            text, off = get_string(d, off, 4)
            yield ident, text

    for ident, text in tagged(joe_off, j_max):
        if ident > 0:
            yield "%2d%4XJ" % (talk_key, ident), text, "joe"
    for ident, text in tagged(person1_off, p_max):
        if ident > 0:
            yield "%2d%4XP" % (talk_key, ident), text, other
    # Joe's opening line (when he has not talked to this person yet)
    if ube16(d, joe_off + 2) == 0:
        text, _ = get_string(d, joe_off + 4)
        if text and text[0] != "0":
            yield "%2dSSSSJ" % talk_key, text, "joe"
    # the person's and Joe's lines on a later visit
    off = person2_off
    person2, off = get_string(d, off)
    joe2, off = get_string(d, off)
    if person2 and person2[0] != "0":
        yield "%2dXXXXP" % talk_key, person2, other
    if joe2 and joe2[0] != "0":
        yield "%2dXXXXJ" % talk_key, joe2, "joe"


class Jas:
    """QUEEN.JAS object table and the QUEEN2.JAS string list."""

    def __init__(self, res):
        jas = res.read("QUEEN.JAS")[FILE_HEADER:]
        self.num_rooms, self.num_names, self.num_objects, self.num_descriptions = \
            struct.unpack(">4H", jas[:8])
        self.objects = [struct.unpack(">8h", jas[8 + 16 * i:8 + 16 * (i + 1)])
                        for i in range(self.num_objects)]
        text = res.read("QUEEN2.JAS").decode("latin-1")
        self.strings = text.replace("\r\n", "\n").split("\n")
        self.descriptions = self.strings[:self.num_descriptions]
        self.object_names = self.strings[self.num_descriptions:self.num_descriptions + self.num_names]
        resp = self.num_descriptions + self.num_names + self.num_rooms + 12
        self.joe_responses = self.strings[resp:resp + JOE_RESPONSE_MAX]

    def object(self, number):
        """(name, image) of object `number` (1-based)."""
        name, _x, _y, _desc, _entry, _room, _state, image = self.objects[number - 1]
        return name, image

    def object_name(self, number):
        name, _ = self.object(number)
        if 1 <= abs(name) <= len(self.object_names):
            return self.object_names[abs(name) - 1]
        return ""

    def sentences(self):
        for k, text in enumerate(self.joe_responses, 1):
            yield "JOE%04d" % k, text, "joe"
        for k, text in enumerate(self.descriptions, 1):
            if re.fullmatch(r"\s*\w+\.CUT\s*", text, re.I):
                continue  # this "description" starts a cutaway instead of speaking
            yield "JOE%04d" % (JOE_RESPONSE_MAX + k), text, "joe"


def cut_sentences(cut_name, raw, jas):
    """[(prefix, sentence, speaker, whole)] for the lines of a .CUT file.

    `whole` marks text objects, which play one clip `<prefix>1` for the sentence.
    """
    d = raw[FILE_HEADER:]
    count = abs(be16(d, 2))
    next_sentence = ube16(d, 8)
    base = cut_name.rsplit(".", 1)[0].upper()
    prefix_base = base.ljust(5, "_")
    game_state = ube16(d, 6)
    _entry, next_sentence = get_string(d, next_sentence)
    ptr = 12
    lines = []
    for index in range(1, count + 1):
        fields = struct.unpack(">17h", d[ptr:ptr + 34])
        ptr += 34
        (obj, _mx, _my, _bank, anim_list, execute, _x1, _y1, _x2, _y2, _special,
         _anim_type, from_object, _bx, _by, _room, _scale) = fields
        persons = be16(d, ptr)
        ptr += 2 + 2 * persons
        sentence, next_sentence = get_string(d, next_sentence)
        if obj == -1:  # "room fade" object: Joe
            obj = 0
        kind = "animation"
        if obj > 0:
            if not anim_list and jas.object(obj)[1] in (-3, -4):
                kind = "person"
        elif obj == 0 and not anim_list:
            kind = "person"
        if from_object > 0:
            kind = "none"
        if obj in (-2, -3):
            kind = "text"
        elif obj == -4:
            kind = "display"
        if kind == "animation" and not execute:
            kind = "none"
        if kind == "animation":
            while True:
                header = be16(d, ptr)
                ptr += 2
                if header == -2:
                    break
                ptr += 18  # unpackFrame speed bank mx my cx cy scale song
        prefix = "%s%02d" % (prefix_base, index)
        if sentence in ("", "*") or sentence.startswith("#"):
            continue  # no line, or a credits roll
        # Speakers: Joe, or a person object (its name in QUEEN2.JAS). Cutaways copy
        # objects around, so a line tied to a non-person object (a "note", a "door")
        # is said by someone the data does not name, as are text objects.
        if obj == 0:
            speaker = "joe"
        elif obj > 0 and jas.object(obj)[1] in (-3, -4):
            speaker = speaker_name(jas.object_name(obj))
            if speaker in NOT_A_SPEAKER:
                speaker = "unknown"
        else:
            speaker = "unknown"
        lines.append((prefix, sentence, speaker, obj in (-2, -3, -4)))
    # The object records end 2 bytes before the game-state block. If they do not, an
    # object was misread (its animation list depends on game state) and the speakers
    # that follow are not to be trusted; the clip names do not depend on this.
    if ptr + 2 != game_state:
        lines = [(p, s, "unknown", w) for p, s, _, w in lines]
    return lines


def catalog(res):
    """{clip: [(raw_text, speaker, origin)]} for every clip the text files name."""
    out = collections.defaultdict(list)
    for dog in sorted(res.names(".DOG")):
        for prefix, sentence, speaker in dog_sentences(dog, res.read(dog)):
            for k, seg in split_segments(sentence):
                out[clip_name(prefix, k)].append((seg, speaker, dog))
    jas = Jas(res)
    for cut in sorted(res.names(".CUT")):
        for prefix, sentence, speaker, whole in cut_sentences(cut, res.read(cut), jas):
            if whole:
                out[clip_name(prefix, 1)].append((COMMAND.sub(" ", sentence), speaker, cut))
            else:
                for k, seg in split_segments(sentence):
                    out[clip_name(prefix, k)].append((seg, speaker, cut))
    for prefix, sentence, speaker in jas.sentences():
        for k, seg in split_segments(sentence):
            out[clip_name(prefix, k)].append((seg, speaker, "QUEEN2.JAS"))
    return out


# ----------------------------------------------------------------------------- audio

def decode_mp3(data):
    """MP3 bytes -> (16-bit mono PCM bytes, rate the MP3 claims). Needs mpg123."""
    # MPEG header of the first frame: sample-rate index and version bits
    if data[0] != 0xFF or (data[1] & 0xE0) != 0xE0:
        raise ValueError("not an MPEG audio frame")
    version = (data[1] >> 3) & 3
    rate_index = (data[2] >> 2) & 3
    rates = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
    rate = rates[version][rate_index]
    proc = subprocess.run(["mpg123", "-q", "-m", "-e", "s16", "-s", "-"], input=data,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    return proc.stdout, rate


def wav_rate(path):
    with wave.open(path, "rb") as w:
        return w.getframerate()


def wav_duration(path):
    with wave.open(path, "rb") as w:
        return w.getnframes() / w.getframerate()


# ----------------------------------------------------------------------------- extract

def choose_text(entries):
    """One text for a clip, or (None, reason) if the text files disagree."""
    texts = collections.OrderedDict()
    for seg, speaker, origin in entries:
        seg = seg.strip()
        if not seg:
            continue
        texts.setdefault(seg, (speaker, origin))
    if not texts:
        return None, None, "empty segment"
    norms = {normalize(t)[0] for t in texts}
    if len(texts) > 1 and len(norms) > 1:
        return None, None, "clip named by two different texts"
    raw = next(iter(texts))
    speaker = texts[raw][0]
    speakers = {s for s, _ in texts.values()}
    if len(speakers) > 1:
        speaker = sorted(speakers)[0]
    return raw, speaker, None


def extract(out_dir, data_path=DEFAULT_DATA, keep_mp3_rate=False, limit=None, log=print):
    res = QueenResources(data_path)
    sb_files = res.names(".SB")
    names = catalog(res)
    root = os.path.join(out_dir, SOURCE)
    wav_dir = os.path.join(root, "wav")
    os.makedirs(wav_dir, exist_ok=True)
    dropped = collections.Counter()
    rows = []
    written = skipped = 0
    wanted_rate = MP3_LABELLED_RATE if keep_mp3_rate else REAL_RATE
    for n, clip_file in enumerate(sorted(sb_files)):
        if limit is not None and n >= limit:
            break
        clip = clip_file[:-3]
        entries = names.get(clip)
        if not entries:
            dropped["no text names this clip"] += 1
            continue
        raw, speaker, why = choose_text(entries)
        if why:
            dropped[why] += 1
            continue
        norm, why = normalize(raw)
        if why:
            dropped["text: " + why] += 1
            continue
        wav_path = os.path.join(wav_dir, clip + ".wav")
        if os.path.exists(wav_path) and wav_rate(wav_path) == wanted_rate:
            skipped += 1
        else:
            pcm, mp3_rate = decode_mp3(res.read(clip_file))
            if mp3_rate != MP3_LABELLED_RATE:
                raise ValueError("%s: MP3 at %d Hz; this data file's clips are all %d Hz" % (
                    clip_file, mp3_rate, MP3_LABELLED_RATE))
            write_wav(wav_path, pcm, wanted_rate)
            written += 1
        duration = wav_duration(wav_path)
        words = len(norm.split())
        wps = words / duration if duration > 0 else float("inf")
        if duration <= 0.05:
            dropped["audio: empty"] += 1
            continue
        if not (WPS_ABSURD_LOW <= wps <= WPS_ABSURD_HIGH):
            dropped["audio: words/s > %g" % WPS_ABSURD_HIGH if wps > WPS_ABSURD_HIGH
                    else "audio: words/s < %g" % WPS_ABSURD_LOW] += 1
            continue
        rows.append({"audio": "wav/%s.wav" % clip, "text": norm, "raw_text": raw,
                     "category": "sentences", "source": SOURCE, "speaker": speaker,
                     "duration": round(duration, 3)})
    manifest = os.path.join(root, "all.jsonl")
    clips.write_jsonl(manifest, rows)
    log("fotaq: %d .SB clips in %s (%s), %d named by text files" % (
        len(sb_files), data_path, res.version, sum(1 for c in sb_files if c[:-3] in names)))
    log("fotaq: wrote %d WAVs, %d already there; sample rate %d Hz" % (written, skipped, wanted_rate))
    log("fotaq: %d clips in %s" % (len(rows), manifest))
    for why, k in sorted(dropped.items(), key=lambda x: -x[1]):
        log("  dropped %5d  %s" % (k, why))
    return rows, dropped


def stats(manifest, log=print):
    return clips.stats(manifest, log, speaker_width=22, outliers=40)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=["extract", "stats"])
    ap.add_argument("out_dir", nargs="?", default=DEFAULT_OUT)
    ap.add_argument("--data", default=DEFAULT_DATA, help="queen.1c (default: %(default)s)")
    ap.add_argument("--mp3-rate", action="store_true",
                    help="label WAVs with the MP3's 11025 Hz instead of the recorded 11840 Hz")
    ap.add_argument("--limit", type=int, help="only the first N clips (for a quick look)")
    args = ap.parse_args(argv)
    if args.command == "extract":
        if not os.path.exists(args.data):
            sys.exit("%s not found: apt-get install flight-of-the-amazon-queen" % args.data)
        extract(args.out_dir, args.data, keep_mp3_rate=args.mp3_rate, limit=args.limit)
    stats(os.path.join(args.out_dir, SOURCE, "all.jsonl"))


if __name__ == "__main__":
    main()
