#!/usr/bin/env python3
"""Extract the recorded human speech of Beneath a Steel Sky (CD, freeware).

Reads the Debian package `beneath-a-steel-sky` (sky.dsk + sky.dnr) and writes
a training manifest of real British voices with their exact subtitles:

    scripts/human/bass.py extract [OUT_DIR]      (default /work/data/human)

writes OUT_DIR/bass/wav/<id>.wav (16-bit PCM, native 11 025 Hz mono) and
OUT_DIR/bass/all.jsonl (one object per clip that has usable text).  It is
re-runnable: clips whose WAV already exists with the expected size are not
decoded again.

Formats, as this module reads them (learnt from reading ScummVM's
engines/sky sources; no code of theirs is used here):

* sky.dnr: u32 count, then count entries of 8 bytes: u16 file number,
  u24 offset (bit 23: offset is in 16-byte units), u24 size+flags
  (low 22 bits size, bit 22: unpacked output omits the 22-byte header,
  bit 23: stored uncompressed).
* A file starts with a 22-byte header of eleven little-endian u16s; word 0 is
  a flag word (bit 7: RNC packed; its high byte is bits 16..23 of the
  unpacked size, whose low 16 bits are word 6).  The packed payload follows
  the header.
* RNC ProPack method 1: 18-byte big-endian header "RNC\\x01", unpacked size,
  packed size, CRC of unpacked, CRC of packed, leeway, block count; then a
  little-endian 16-bit-word bit stream (LSB first) carrying, per block, three
  canonical Huffman tables (literal-run lengths, match offsets, match
  lengths) and LZ77 tokens, with literal bytes interleaved in the byte
  stream.  Both CRCs are CRC-16/ARC and are checked.
* Speech: files 50000 + n, 8-bit unsigned PCM after the 22-byte header.
* Text: file 60600 + language*8 + section holds Huffman-coded strings,
  addressed by text number (section << 12 | index).  The speech file of a
  text is 50000 + SPEECH_BASE[section] + index.
"""

import argparse
import collections
import json
import math
import os
import re
import struct
import sys
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clips import edit_distance, write_jsonl, write_wav  # noqa: E402

DATA_DIR = os.environ.get("BASS_DATA_DIR", "/usr/share/scummvm/beneath-a-steel-sky")
DEFAULT_OUT = "/work/data/human"
SAMPLE_RATE = 11025
HEADER_LEN = 22
SPEECH_FIRST = 50000
TEXT_FIRST = 60600          # English texts: 60600 + section
TEXTS_PER_LANGUAGE = 8

# First speech file (minus 50000) of each text section.  The numbers are
# the game's own convention (ScummVM's engines/sky/sound.cpp documents it as
# _speechConvertTable: 0, 600, 600+500, ...).  They are facts about the data,
# written here as cumulative sums of the per-section allowances.
_SECTION_ALLOWANCE = [600, 500, 1330, 950, 1150, 550, 150]
SPEECH_BASE = [0]
for _n in _SECTION_ALLOWANCE:
    SPEECH_BASE.append(SPEECH_BASE[-1] + _n)


# --------------------------------------------------------------------------
# sky.dnr / sky.dsk

class Disk:
    """Random access to the files inside sky.dsk, as listed in sky.dnr."""

    def __init__(self, data_dir=DATA_DIR):
        self.data_dir = data_dir
        with open(os.path.join(data_dir, "sky.dnr"), "rb") as f:
            dnr = f.read()
        (count,) = struct.unpack_from("<I", dnr, 0)
        if len(dnr) < 4 + 8 * count:
            raise ValueError("sky.dnr is truncated")
        self.entries = {}
        for k in range(count):
            base = 4 + 8 * k
            num = struct.unpack_from("<H", dnr, base)[0]
            off = int.from_bytes(dnr[base + 2:base + 5], "little")
            flags = int.from_bytes(dnr[base + 5:base + 8], "little")
            if off & 0x800000:
                off = (off & 0x7FFFFF) << 4
            self.entries[num] = (off, flags & 0x3FFFFF,
                                 bool(flags & 0x400000), bool(flags & 0x800000))
        self.version_entries = count
        self._dsk = open(os.path.join(data_dir, "sky.dsk"), "rb")

    def close(self):
        self._dsk.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def exists(self, num):
        return num in self.entries

    def raw(self, num):
        off, size, _, _ = self.entries[num]
        self._dsk.seek(off)
        data = self._dsk.read(size)
        if len(data) != size:
            raise ValueError("file %d: short read" % num)
        return data

    def load(self, num):
        """The file's contents, unpacked, always including its 22-byte header
        (for files stored with the header omitted from the packed data, the
        stored header is put back in front)."""
        _, _, no_header, stored = self.entries[num]
        data = self.raw(num)
        if stored or len(data) < HEADER_LEN:
            return data
        flag = struct.unpack_from("<H", data, 0)[0]
        if not (flag >> 7) & 1 or data[HEADER_LEN:HEADER_LEN + 4] != b"RNC\x01":
            return data
        expect = ((flag & 0xFF00) << 8) | struct.unpack_from("<H", data, 12)[0]
        body = rnc_unpack(data[HEADER_LEN:])
        out = data[:HEADER_LEN] + body
        size = len(body) if no_header else len(out)
        if size != expect:
            raise ValueError("file %d: unpacked %d bytes, header says %d"
                             % (num, size, expect))
        return out


# --------------------------------------------------------------------------
# RNC ProPack method 1

def _crc16_table():
    table = []
    for byte in range(256):
        c = byte
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc16_table()


def crc16(data):
    """CRC-16/ARC (reflected polynomial 0xA001, initial value 0)."""
    crc = 0
    table = _CRC_TABLE
    for b in data:
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return crc


class RNCError(ValueError):
    pass


def rnc_unpack(packed, check_crc=True):
    """Unpack an RNC method-1 stream (starting at its "RNC\\x01" signature)."""
    if packed[:4] != b"RNC\x01":
        raise RNCError("not an RNC method 1 stream")
    unpacked_len, packed_len, crc_out, crc_in = struct.unpack_from(">IIHH", packed, 4)
    blocks = packed[17]
    src = packed[18:18 + packed_len]
    if len(src) != packed_len:
        raise RNCError("packed data truncated")
    if check_crc and crc16(src) != crc_in:
        raise RNCError("packed CRC mismatch")

    pos = 0            # byte position of the next unread 16-bit word / literal
    bits = 0           # bit buffer, LSB = next bit
    nbits = 0          # valid bits in the buffer

    def need(n):
        nonlocal pos, bits, nbits
        while nbits < n:
            word = src[pos] | (src[pos + 1] << 8) if pos + 1 < len(src) else \
                (src[pos] if pos < len(src) else 0)
            bits |= word << nbits
            nbits += 16
            pos += 2

    def take(n):
        nonlocal bits, nbits
        if nbits < n:
            need(n)
        v = bits & ((1 << n) - 1)
        bits >>= n
        nbits -= n
        return v

    def read_table():
        count = take(5)
        if count == 0:
            return None
        lengths = [take(4) for _ in range(count)]
        codes = {}
        code = 0
        for length in range(1, 17):
            for sym, l in enumerate(lengths):
                if l == length:
                    codes[(length, code >> (16 - length))] = sym
                    code += 1 << (16 - length)
        return codes

    def read_value(codes):
        nonlocal bits, nbits
        code = 0
        length = 0
        while True:
            if nbits == 0:
                need(1)
            code = (code << 1) | (bits & 1)
            bits >>= 1
            nbits -= 1
            length += 1
            sym = codes.get((length, code))
            if sym is not None:
                break
            if length > 16:
                raise RNCError("bad Huffman code")
        if sym < 2:
            return sym
        return (1 << (sym - 1)) | take(sym - 1)

    out = bytearray()
    take(2)                      # lock and key flags; this data uses neither
    raw_t = pos_t = len_t = None
    for _ in range(blocks):
        raw_t = read_table() or raw_t
        pos_t = read_table() or pos_t
        len_t = read_table() or len_t
        counts = take(16)
        for k in range(counts):
            run = read_value(raw_t)
            if run:
                out += src[pos:pos + run]
                pos += run
            if k + 1 < counts:
                dist = read_value(pos_t) + 1
                length = read_value(len_t) + 2
                start = len(out) - dist
                if start < 0:
                    raise RNCError("match before start of output")
                if dist >= length:
                    out += out[start:start + length]
                else:
                    for i in range(length):
                        out.append(out[start + i])
    if len(out) != unpacked_len:
        raise RNCError("unpacked %d bytes, expected %d" % (len(out), unpacked_len))
    if check_crc and crc16(out) != crc_out:
        raise RNCError("unpacked CRC mismatch")
    return bytes(out)


# --------------------------------------------------------------------------
# Huffman-coded text (files 60600 + section for English)
#
# The game executable, not the data files, holds the Huffman tree used for
# the subtitles, so the tree has to come from outside the data.  The only
# public description of it we found is ScummVM's engines/sky/hufftext.cpp
# (table _huffTree_00372, for this v0.0372 CD release).  It is not copied
# here: it was transcribed once and reduced to the minimal data that
# determines a prefix code -- the leaves from left to right (bit 0 = left)
# with their depths.  Because every code is the left-to-right successor of
# the previous one, depths plus symbols rebuild the same code.
# (Note: the rightmost leaf of that table also decodes to '!'; it occurs in
# no English line we decoded.)
_TEXT_DEPTHS = ("3445555554665556666665776667777776887778877799888998889999aa9aa9"
                "bbaaabbabbaccbccbccbbbccccddcccddddddddeedeeeeffeeeffefffgg")
_TEXT_SYMBOLS = (
    [32, 101, 97, 111, 115, 116, 110, 46, 105, 114, 0, 69, 117, 109, 65, 108,
     73, 100, 82, 78, 83, 84, 79, 104, 99, 68, 103, 76, 67, 112, 85, 33, 121,
     77, 80, 118, 72, 63, 98, 39, 102, 44, 71, 66, 86, 107, 70, 113, 119, 75,
     45, 87, 74, 42, 122, 89, 106, 43, 81, 133, 41, 90, 139, 60, 149, 126, 138,
     135, 58, 127, 93, 35, 120, 88, 145, 136, 96, 50, 48, 131, 49, 47, 40, 61,
     134, 94, 51, 57, 152, 52, 125, 56, 92, 34, 144, 38, 141, 53, 54, 146, 143,
     142, 147, 140, 55, 128, 129, 153, 36, 64, 91, 154, 95, 62, 150, 130, 37, 9,
     156, 151, 123, 148, 33])


def _text_code():
    """{(length, code): symbol} for the subtitle prefix code."""
    depths = [int(c, 17) for c in _TEXT_DEPTHS]
    assert len(depths) == len(_TEXT_SYMBOLS)
    assert sum(2.0 ** -d for d in depths) == 1.0
    table = {}
    code = -1
    prev = depths[0]
    for d, sym in zip(depths, _TEXT_SYMBOLS):
        code += 1
        code = code << (d - prev) if d >= prev else code >> (prev - d)
        prev = d
        table[(d, code)] = sym
    return table


_TEXT_CODE = _text_code()
_TEXT_MAX_DEPTH = max(l for l, _ in _TEXT_CODE)


class TextSection:
    """One section's subtitle file.

    Layout: u16 offset of the per-line length bytes, u16 offset of the bit
    stream, then one u16 per block of 32 lines (every block but the last):
    that block's length.  Lengths count 2-bit units; a length byte with
    bit 7 set is (byte & 0x7f) * 8 units.  The line lengths of block b are
    at [offset0 + 32*b ...] and run up to the bit stream, so the section has
    (offset1 - offset0) lines.  Bits are read MSB first."""

    def __init__(self, data):
        self.data = data
        self.len_table, self.bits_start = struct.unpack_from("<HH", data, 0)
        self.count = self.bits_start - self.len_table

    def __len__(self):
        return self.count

    def start_bit(self, index):
        if not 0 <= index < self.count:
            raise IndexError(index)
        block, line = divmod(index, 32)
        units = sum(struct.unpack_from("<%dH" % block, self.data, 4)) if block else 0
        base = self.len_table + 32 * block
        for k in range(line):
            n = self.data[base + k]
            units += (n & 0x7F) << 3 if n & 0x80 else n
        return self.bits_start * 8 + 2 * units

    def text(self, index):
        bit = self.start_bit(index)
        data = self.data
        end = len(data) * 8
        out = bytearray()
        while True:
            code = 0
            length = 0
            while True:
                if bit >= end:
                    raise IndexError("text %d runs past the end of the file" % index)
                code = (code << 1) | ((data[bit >> 3] >> (7 - (bit & 7))) & 1)
                bit += 1
                length += 1
                sym = _TEXT_CODE.get((length, code))
                if sym is not None:
                    break
                if length > _TEXT_MAX_DEPTH:
                    raise ValueError("bad text code")
            if sym == 0:
                break
            out.append(sym)
        # Characters >= 128 are the game's accented letters (other languages)
        return out.decode("latin-1")


def speech_file(section, index):
    """Speech file number of text (section << 12 | index)."""
    return SPEECH_FIRST + SPEECH_BASE[section] + index


def text_of_speech_file(num):
    """(section, index) of the text spoken in speech file `num`, or None."""
    k = num - SPEECH_FIRST
    if k < 0:
        return None
    section = None
    for s, base in enumerate(SPEECH_BASE):
        if k >= base:
            section = s
    if section is None or section >= TEXTS_PER_LANGUAGE:
        return None
    return section, k - SPEECH_BASE[section]


# --------------------------------------------------------------------------
# Speech audio

SPEECH_TAIL = 64   # trailing bytes of every speech file that are not speech


def speech_pcm8(disk, num):
    """The clip's 8-bit unsigned PCM samples (header and tail removed)."""
    data = disk.load(num)
    return data[HEADER_LEN:len(data) - SPEECH_TAIL]


def speech_samples_expected(disk, num):
    """Sample count of a speech clip, from the stored header alone (no
    unpacking): unpacked size - header - tail."""
    off, size, no_header, stored = disk.entries[num]
    head = disk.raw(num)[:HEADER_LEN] if size >= HEADER_LEN else b""
    if stored or len(head) < HEADER_LEN:
        return size - HEADER_LEN - SPEECH_TAIL
    flag, tot = struct.unpack_from("<H", head, 0)[0], struct.unpack_from("<H", head, 12)[0]
    total = ((flag & 0xFF00) << 8) | tot
    if no_header:
        total += HEADER_LEN
    return total - HEADER_LEN - SPEECH_TAIL


_XOR80 = bytes(b ^ 0x80 for b in range(256))


def pcm8_to_pcm16(pcm8):
    """8-bit unsigned -> 16-bit signed little endian: (b - 128) * 256."""
    out = bytearray(2 * len(pcm8))
    out[1::2] = pcm8.translate(_XOR80)
    return bytes(out)


def pcm8_stats(pcm8):
    """(rms in dBFS, peak 0..1, fraction of samples exactly at 128)."""
    n = len(pcm8)
    if n == 0:
        return float("-inf"), 0.0, 1.0
    hist = [0] * 256
    for value, count in _byte_histogram(pcm8):
        hist[value] = count
    sq = sum(c * (v - 128) ** 2 for v, c in enumerate(hist))
    peak = max(abs(v - 128) for v, c in enumerate(hist) if c)
    rms = (sq / n) ** 0.5 / 128.0
    db = 20 * math.log10(rms) if rms > 0 else float("-inf")
    return db, peak / 128.0, hist[128] / n


def _byte_histogram(data):
    return collections.Counter(data).items()


# --------------------------------------------------------------------------
# Text normalization

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven",
         "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen",
         "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy",
         "eighty", "ninety"]


def _under_100(n):
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + ("" if ones == 0 else " " + _ONES[ones])


def _under_1000(n):
    hundreds, rest = divmod(n, 100)
    if not hundreds:
        return _under_100(rest)
    words = _ONES[hundreds] + " hundred"
    return words + (" and " + _under_100(rest) if rest else "")


def number_words(n):
    """Cardinal in British English words; four-digit numbers that read as
    years (1100..1999, 2010..2099) are read as years ("nineteen ninety
    nine").  Returns None for numbers this does not cover (>= 1 000 000)."""
    if n < 0 or n >= 1000000:
        return None
    if 1100 <= n <= 1999 or 2010 <= n <= 2099:
        hi, lo = divmod(n, 100)
        if lo == 0:
            return _under_100(hi) + " hundred"
        return _under_100(hi) + (" oh " + _ONES[lo] if lo < 10 else " " + _under_100(lo))
    if n < 1000:
        return _under_1000(n)
    thousands, rest = divmod(n, 1000)
    words = _under_1000(thousands) + " thousand"
    if rest:
        words += (" and " if rest < 100 else " ") + _under_1000(rest)
    return words


class Drop(Exception):
    """A line that cannot be normalized with confidence; .reason says why."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


# Spoken forms we are sure of.  "WD40" is the lubricant, said "W D forty".
_SPECIAL = {"wd40": "w d forty"}
_ABBREV = {"mr": "mister", "mrs": "missus", "dr": "doctor", "ms": "miz"}
_AMBIGUOUS = {"st", "no"}   # saint/street; "No." as number -- only with a digit after
_KEEP_LEADING = {"em", "til", "n", "cause", "cos", "ere", "obbins", "ow"}


def normalize(text):
    """Subtitle -> training text: lowercase a-z, apostrophe, single spaces.

    Raises Drop(reason) when the line has no words, or holds a number or
    abbreviation whose spoken form is not certain."""
    t = text
    # stage directions / notes: anything in brackets or asterisks
    t = re.sub(r"\([^)]*\)|\[[^\]]*\]|\{[^}]*\}|\*[^*]*\*", " ", t)
    if re.search(r"[()\[\]{}*]", t):
        raise Drop("unbalanced_brackets")
    t = t.replace("`", " ")
    # abbreviations with a full stop or without: Mr, Mrs, Dr
    def abbrev(m):
        w = m.group(1).lower()
        if w in _AMBIGUOUS and w != "no":
            raise Drop("ambiguous_abbreviation")
        return " " + _ABBREV[w] + " "
    t = re.sub(r"\b(Mr|Mrs|Dr|Ms|St|MR|MRS|DR|ST)\b\.?", abbrev, t)
    if re.search(r"\bNo\.?\s*\d", t):
        raise Drop("ambiguous_abbreviation")
    # numbers
    def special(m):
        return " " + _SPECIAL[m.group(0).lower()] + " "
    t = re.sub(r"\b(?:%s)\b" % "|".join(_SPECIAL), special, t, flags=re.I)
    if re.search(r"\d[.,:/%]\d|\d(st|nd|rd|th)\b|[£$%]|\d%", t, flags=re.I):
        raise Drop("number_unsure")
    if re.search(r"[A-Za-z]\d|\d[A-Za-z]", t):
        raise Drop("number_unsure")       # codes like SOS23: letter/digit reading unknown

    def num(m):
        words = number_words(int(m.group(0)))
        if words is None:
            raise Drop("number_unsure")
        return " " + words + " "
    t = re.sub(r"\d+", num, t)
    t = t.lower()
    # hyphens, dashes, ellipses and other punctuation separate words
    t = re.sub(r"[^a-z' ]", " ", t)
    words = []
    for w in t.split():
        core = w.strip("'")
        if not core:
            continue
        lead = w.startswith("'") and core in _KEEP_LEADING
        trail = w.endswith("'") and core.endswith("in") and not core.endswith("ing")
        words.append(("'" if lead else "") + core + ("'" if trail else ""))
    out = " ".join(words)
    if not re.search(r"[a-z]", out):
        raise Drop("no_words")
    return out


# --------------------------------------------------------------------------
# Extraction

# Words per second outside this range are reported; outside the wider one,
# the subtitle cannot be what the clip says and the clip is dropped.
WPS_REPORT = (0.8, 6.0)
WPS_DROP = (0.25, 9.0)
SILENT_DB = -50.0     # a clip whose RMS is below this holds no speech


def clip_id(num):
    return "bass_%d" % num


def speech_files(disk):
    """Speech files that belong to a text line: 50000 + SPEECH_BASE[s] + i.
    (59494-59499 are background loops and 59500+ the intro's pictures and
    voice-overs; the intro voice-overs have no subtitle in the data.)"""
    out = []
    for num in sorted(disk.entries):
        where = text_of_speech_file(num)
        if where is None or num >= 59000:
            continue
        out.append((num,) + where)
    return out


def extract(out_dir=DEFAULT_OUT, data_dir=DATA_DIR, limit=None, log=sys.stderr):
    root = os.path.join(out_dir, "bass")
    wav_dir = os.path.join(root, "wav")
    os.makedirs(wav_dir, exist_ok=True)
    speakers = load_speakers(data_dir)
    drops = {}
    outliers = []
    kept = []
    stats = {"decoded": 0, "reused": 0}
    with Disk(data_dir) as disk:
        sections = {}
        files = speech_files(disk)
        if limit:
            files = files[:limit]
        for k, (num, section, index) in enumerate(files):
            if section not in sections:
                sections[section] = TextSection(disk.load(TEXT_FIRST + section))
            texts = sections[section]
            if index >= len(texts):
                drops.setdefault("no_text", []).append(num)
                continue
            raw = texts.text(index)
            try:
                norm = normalize(raw)
            except Drop as d:
                drops.setdefault(d.reason, []).append(num)
                continue
            ident = clip_id(num)
            path = os.path.join(wav_dir, ident + ".wav")
            n_expected = speech_samples_expected(disk, num)
            pcm8 = None
            if os.path.exists(path) and os.path.getsize(path) == 44 + 2 * n_expected:
                with wave.open(path, "rb") as w:
                    frames = w.readframes(w.getnframes())
                pcm8 = frames[1::2].translate(_XOR80)
                stats["reused"] += 1
            else:
                pcm8 = speech_pcm8(disk, num)
                if len(pcm8) != n_expected:
                    raise ValueError("file %d: %d samples, header says %d"
                                     % (num, len(pcm8), n_expected))
                stats["decoded"] += 1
            db, peak, at128 = pcm8_stats(pcm8)
            duration = len(pcm8) / SAMPLE_RATE
            if db < SILENT_DB:
                drops.setdefault("silent", []).append(num)
                continue
            words = len(norm.split())
            wps = words / duration if duration > 0 else float("inf")
            if not WPS_REPORT[0] <= wps <= WPS_REPORT[1]:
                outliers.append({"file": num, "wps": round(wps, 2), "words": words,
                                 "duration": round(duration, 3), "raw_text": raw})
            if not WPS_DROP[0] <= wps <= WPS_DROP[1]:
                drops.setdefault("words_per_second", []).append(num)
                continue
            if not (os.path.exists(path) and os.path.getsize(path) == 44 + 2 * len(pcm8)):
                write_wav(path, pcm8_to_pcm16(pcm8), SAMPLE_RATE)
            kept.append({
                "audio": "wav/%s.wav" % ident,
                "text": norm,
                "raw_text": raw,
                "category": "sentences",
                "source": "bass",
                "speaker": speakers.get((section, index), "unknown"),
                "section": section,
                "duration": round(duration, 4),
                "_rms_db": db, "_peak": peak,
            })
            if log and (k + 1) % 250 == 0:
                print("%d/%d clips" % (k + 1, len(files)), file=log, flush=True)

    keep_names = {os.path.basename(c["audio"]) for c in kept}
    for name in os.listdir(wav_dir):
        if re.fullmatch(r"bass_\d+\.wav(\.tmp)?", name) and name not in keep_names:
            os.remove(os.path.join(wav_dir, name))

    manifest = os.path.join(root, "all.jsonl")
    write_jsonl(manifest, ({k: v for k, v in c.items() if not k.startswith("_")} for c in kept), ensure_ascii=True)

    rms = sorted(c["_rms_db"] for c in kept)
    summary = {
        "speech_files": len(files),
        "clips": len(kept),
        "hours": round(sum(c["duration"] for c in kept) / 3600, 4),
        "words": sum(len(c["text"].split()) for c in kept),
        "dropped": {k: len(v) for k, v in sorted(drops.items())},
        "dropped_files": {k: v for k, v in sorted(drops.items())},
        "wps_outliers_reported": outliers,
        "rms_db_min_median_max": [round(rms[0], 1), round(rms[len(rms) // 2], 1),
                                  round(rms[-1], 1)] if rms else None,
        "speakers_known": sum(1 for c in kept if c["speaker"] != "unknown"),
        "decoded": stats["decoded"], "reused": stats["reused"],
    }
    with open(os.path.join(root, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return summary


# --------------------------------------------------------------------------
# Speakers
#
# Lines are spoken by script calls fnSpeakMe / fnSpeakMeDir / fnSpeakWait /
# fnSpeakWaitDir (mcodes 35..38) with arguments (speaker compact, text
# number, animation).  About 10% of the calls name the speaker as a
# constant; the rest pass a script variable (the running compact, or the
# character being talked to), which would need the engine's call graph to
# resolve.  Only the constant ones are used: they are exact.

SCRIPT_FIRST = 60400       # script modules 60400..60406
SCRIPT_MODULES = 7
_OPERANDS = {0: 1, 1: 0, 2: 1, 3: 0, 4: 0, 5: 1, 6: 1, 7: 0, 8: 0, 9: 1, 10: 0,
             11: 2, 12: 0, 13: 0, 15: 1, 16: 1, 17: 0, 18: 1, 19: 0, 20: 0}
_PUSH_NUMBER, _CALL_MCODE, _SWITCH = 2, 11, 14
_SPEAK_MCODES = {35, 36, 37, 38}


def compact_names(data_dir=DATA_DIR):
    """{compact id: name} from ScummVM's sky.cpt (shipped in the package):
    u16 version, u16 lists, u16 length per list, u32 raw words, u32 source
    words, source words (per compact: u16 size, then u16 type and size
    words when size > 0), u32 name bytes, NUL-separated names in compact
    order."""
    path = os.path.join(data_dir, "sky.cpt")
    if not os.path.exists(path):
        return {}
    with open(path, "rb") as f:
        c = f.read()
    _, lists = struct.unpack_from("<HH", c, 0)
    lengths = struct.unpack_from("<%dH" % lists, c, 4)
    pos = 4 + 2 * lists
    _, src_words = struct.unpack_from("<II", c, pos)
    pos += 8
    src = struct.unpack_from("<%dH" % src_words, c, pos)
    pos += 2 * src_words
    (name_bytes,) = struct.unpack_from("<I", c, pos)
    names = c[pos + 4:pos + 4 + name_bytes].split(b"\0")
    out = {}
    si = ni = 0
    for lst, length in enumerate(lengths):
        for e in range(length):
            size = src[si]
            si += 1
            if size:
                si += 1 + size
                out[(lst << 12) | e] = names[ni].decode("latin-1")
                ni += 1
    return out


def speak_calls(disk):
    """[(speaker compact id or None, text number)] for every speak call
    whose text is a constant; None where the speaker is not."""
    calls = []
    for mod in range(SCRIPT_FIRST, SCRIPT_FIRST + SCRIPT_MODULES):
        if not disk.exists(mod):
            continue
        data = disk.load(mod)
        w = struct.unpack_from("<%dH" % (len(data) // 2), data)
        p = w[1]                 # w[0]: number of scripts; w[1..]: their offsets
        recent = []
        while p < len(w):
            op = w[p]
            if op == _SWITCH:    # case count, (value, jump) pairs, default jump
                p += 2 + 2 * w[p + 1] + 1
                recent = []
                continue
            if op not in _OPERANDS:
                raise ValueError("script module %d: unknown opcode %d at word %d" % (mod, op, p))
            args = w[p + 1:p + 1 + _OPERANDS[op]]
            if op == _CALL_MCODE and args[0] == 3 and args[1] // 4 in _SPEAK_MCODES:
                last = recent[-3:]
                if len(last) == 3 and last[1][0] == _PUSH_NUMBER:
                    speaker = last[0][1] if last[0][0] == _PUSH_NUMBER else None
                    calls.append((speaker, last[1][1]))
            recent.append((op, args[0] if args else None))
            recent = recent[-3:]
            p += 1 + len(args)
    return calls


def load_speakers(data_dir=DATA_DIR):
    """{(section, index): "bass_<compact name>"} for lines whose speaker is
    written as a constant in the scripts and never varies."""
    names = compact_names(data_dir)
    if not names:
        return {}
    with Disk(data_dir) as disk:
        calls = speak_calls(disk)
    seen = {}
    for cpt, text in calls:
        seen.setdefault(text, set()).add(None if cpt is None else names.get(cpt))
    known = {n for who in seen.values() for n in who if n}
    out = {}
    for text, who in seen.items():
        if len(who) == 1 and None not in who:
            name = next(iter(who))
            # "sc42_jobsworth" is the scene-42 copy of "jobsworth": one voice
            base = re.sub(r"^sc\d+_", "", name)
            out[(text >> 12, text & 0xFFF)] = "bass_" + (base if base in known else name)
    return out


# --------------------------------------------------------------------------
# Listen-free transcript check with a small recognizer

def _loose_normalize(text):
    try:
        return normalize(text)
    except Drop:
        return " ".join(re.sub(r"[^a-z' ]", " ", text.lower()).split())


def check(out_dir, model_dir, n=50, seed=0, log=sys.stderr):
    """Transcribe n random manifest clips with faster-whisper (CPU, int8, one
    thread) and report the word error rate of the subtitles against it."""
    import random
    from faster_whisper import WhisperModel
    root = os.path.join(out_dir, "bass")
    with open(os.path.join(root, "all.jsonl")) as f:
        rows = [json.loads(line) for line in f]
    pick = random.Random(seed).sample(rows, min(n, len(rows)))
    model = WhisperModel(model_dir, device="cpu", compute_type="int8",
                         cpu_threads=1, num_workers=1)
    edits = words = exact = 0
    results = []
    for row in pick:
        segments, _ = model.transcribe(os.path.join(root, row["audio"]), language="en",
                                       beam_size=5, vad_filter=False,
                                       condition_on_previous_text=False)
        heard = " ".join(s.text for s in segments).strip()
        hyp = _loose_normalize(heard).split()
        ref = row["text"].split()
        e = edit_distance(ref, hyp)
        edits += e
        words += len(ref)
        exact += e == 0
        results.append({"audio": row["audio"], "text": row["text"], "heard": heard,
                        "errors": e, "words": len(ref)})
        if log:
            print("%2d/%d %d/%d  %s  |  %s" % (len(results), len(pick), e, len(ref),
                                               row["text"], heard), file=log, flush=True)
    summary = {"clips": len(pick), "seed": seed, "words": words, "errors": edits,
               "wer": round(edits / words, 4) if words else None, "exact_clips": exact,
               "results": results}
    with open(os.path.join(root, "check.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return summary


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("extract", help="write OUT_DIR/bass/{wav/,all.jsonl}")
    ex.add_argument("out_dir", nargs="?", default=DEFAULT_OUT)
    ex.add_argument("--data-dir", default=DATA_DIR)
    ex.add_argument("--limit", type=int, default=None, help="first N clips only (testing)")
    ck = sub.add_parser("check", help="WER of the subtitles against faster-whisper on random clips")
    ck.add_argument("out_dir", nargs="?", default=DEFAULT_OUT)
    ck.add_argument("--model", required=True, help="CTranslate2 Whisper model folder")
    ck.add_argument("-n", type=int, default=50)
    ck.add_argument("--seed", type=int, default=0)
    tx = sub.add_parser("text", help="print the subtitle of a speech file")
    tx.add_argument("file", type=int, nargs="+")
    tx.add_argument("--data-dir", default=DATA_DIR)
    args = ap.parse_args(argv)
    if args.cmd == "extract":
        s = extract(args.out_dir, args.data_dir, args.limit)
        brief = {k: v for k, v in s.items() if k not in ("dropped_files", "wps_outliers_reported")}
        brief["wps_outliers_reported"] = len(s["wps_outliers_reported"])
        print(json.dumps(brief, indent=1))
    elif args.cmd == "check":
        s = check(args.out_dir, args.model, args.n, args.seed)
        print(json.dumps({k: v for k, v in s.items() if k != "results"}, indent=1))
    elif args.cmd == "text":
        with Disk(args.data_dir) as disk:
            for num in args.file:
                where = text_of_speech_file(num)
                if where is None:
                    print(num, "-")
                    continue
                s, i = where
                t = TextSection(disk.load(TEXT_FIRST + s))
                print(num, s, i, t.text(i) if i < len(t) else "-")
    return 0


if __name__ == "__main__":
    sys.exit(main())
