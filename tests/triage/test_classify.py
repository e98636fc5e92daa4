"""Behaviour of the triage classifier on single messages: API, negation, idioms,
normalisation, hostile input and the rules files themselves."""

from __future__ import annotations

import dataclasses
import json
import random
import tomllib

import pytest

from bot import triage
from bot.triage import SEVERITIES, Verdict, classify, normalise, severity_rank
from bot.triage import rules as triage_rules
from bot.triage.match import find
from bot.triage.normalise import _normalise, _squeeze


def words_of(verdict: Verdict) -> str:
    return " ".join(verdict.matches)


# --- API -----------------------------------------------------------------------------------


def test_end_it_dutch_is_critical_self_harm_with_original_words() -> None:
    text = "ik wil er een eind aan maken"
    verdict = classify(text, "nl")
    assert verdict.flagged
    assert verdict.severity == "critical"
    assert verdict.categories[0] == "self_harm"
    assert "eind aan maken" in words_of(verdict)
    assert all(match in text for match in verdict.matches)


def test_end_it_all_english_is_critical() -> None:
    verdict = classify("I want to end it all", "en")
    assert verdict.severity == "critical"
    assert "self_harm" in verdict.categories


def test_severities_and_rank() -> None:
    assert SEVERITIES == ("none", "low", "medium", "high", "critical")
    assert [severity_rank(s) for s in SEVERITIES] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError):
        severity_rank("urgent")


def test_verdict_is_frozen_and_json_ready() -> None:
    verdict = classify("ik ben uit huis gezet en heb weer gebruikt", "nl")
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.flagged = False  # type: ignore[misc]
    data = verdict.to_dict()
    assert set(data) == {"flagged", "severity", "categories", "matches"}
    assert json.loads(json.dumps(data)) == data
    assert isinstance(data["categories"], list)
    assert isinstance(data["matches"], list)


def test_not_flagged_verdict() -> None:
    verdict = classify("goedemorgen, ik ben er om 10 uur", "nl")
    assert verdict == Verdict(flagged=False, severity="none", categories=(), matches=())


def test_categories_sorted_by_severity_then_name() -> None:
    verdict = classify("ik wil dood en de deurwaarder staat op de stoep", "nl")
    assert verdict.categories == ("self_harm", "debt")
    assert verdict.severity == "critical"
    same = classify("ik ben uit huis gezet en heb weer gebruikt", "nl")
    assert same.categories == tuple(sorted(same.categories))


def test_overall_severity_is_the_highest() -> None:
    verdict = classify("bel me, ik trek het niet meer", "nl")
    assert set(verdict.categories) >= {"self_harm", "help"}
    assert verdict.severity == max(
        ("high", "low"), key=severity_rank
    )  # "trek het niet meer" is high, "bel me" low


# --- coverage of the brief's examples ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "category"),
    [
        ("kzweet nie meer", "nl", "self_harm"),
        ("ik trek het niet meer", "nl", "self_harm"),
        ("ik wil dood", "nl", "self_harm"),
        ("ik ga hem pakken", "nl", "violence"),
        ("ik steek hem neer", "nl", "violence"),
        ("ik heb weer gebruikt", "nl", "relapse"),
        ("weer gesnoven", "nl", "relapse"),
        ("ik slaap op straat", "nl", "housing"),
        ("ik ben dakloos", "nl", "housing"),
        ("ik ben uit huis gezet", "nl", "housing"),
        ("de deurwaarder komt morgen", "nl", "debt"),
        ("mijn stroom is afgesloten", "nl", "debt"),
        ("ik ben opgepakt", "nl", "police"),
        ("ze hebben me vastgezet", "nl", "police"),
        ("ik heb mijn meldplicht gemist", "nl", "police"),
        ("mijn enkelband piept de hele tijd", "nl", "police"),
        ("ze zoeken me", "nl", "danger"),
        ("ik word bedreigd", "nl", "danger"),
        ("ik heb een mes bij me", "nl", "violence"),
        ("ik kan aan een wapen komen", "nl", "violence"),
        ("bel me", "nl", "help"),
        ("kms", "en", "self_harm"),
        ("i want to die", "en", "self_harm"),
        ("gonna stab him", "en", "violence"),
        ("i relapsed", "en", "relapse"),
        ("using again", "en", "relapse"),
        ("i got evicted", "en", "housing"),
        ("sleeping rough since monday", "en", "housing"),
        ("got arrested last night", "en", "police"),
        ("the bailiff came round", "en", "debt"),
        ("أريد أن أموت", "ar", "self_harm"),
        ("هقتلك", "ar", "violence"),
        ("ölmek istiyorum", "tr", "self_harm"),
        ("olmek istiyorum", "tr", "self_harm"),
        ("seni öldüreceğim", "tr", "violence"),
        ("seni oldurecegim", "tr", "violence"),
        ("chcę umrzeć", "pl", "self_harm"),
        ("chce umrzec", "pl", "self_harm"),
        ("zabiję go", "pl", "violence"),
        ("zabije go", "pl", "violence"),
    ],
)
def test_examples_are_flagged(text: str, lang: str, category: str) -> None:
    assert category in classify(text, lang).categories


def test_crisis_rules_apply_whatever_the_language_setting() -> None:
    assert "self_harm" in classify("بدي موت", "nl").categories
    assert "self_harm" in classify("ik wil dood", "ar").categories
    assert "violence" in classify("I'm gonna stab him", "pl").categories


# --- negation and context ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("ik heb gisteren NIET gebruikt", "nl"),
        ("nooit meer gebruikt", "nl"),
        ("ben al 3 maanden clean", "nl"),
        ("de film ging over zelfmoord", "nl"),
        ("ik heb het huis gekocht", "nl"),
        ("ik ga dood van het lachen", "nl"),
        ("ik ga dood van de honger", "nl"),
        ("die game is killing me", "nl"),
        ("ik ben kapot", "nl"),
        ("ik heb geen wapen", "nl"),
        ("niemand heeft me bedreigd", "nl"),
        ("i haven't used in 3 months", "en"),
        ("the movie was about suicide", "en"),
        ("this heat is killing me", "en"),
        ("i'm not going to hurt anyone", "en"),
        ("ما بدي موت", "ar"),
        ("kimseyi öldürmeyeceğim", "tr"),
        ("nie chcę umrzeć", "pl"),
    ],
)
def test_negations_and_idioms_are_not_flagged(text: str, lang: str) -> None:
    verdict = classify(text, lang)
    assert not verdict.flagged, verdict


def test_someone_elses_trouble_is_not_theirs() -> None:
    assert classify("ik ben opgepakt", "nl").severity == "high"
    # the labelling guide: another person's arrest is not the participant's (since round 6)
    assert not classify("mijn broer is opgepakt", "nl").flagged
    assert not classify("mn buurman is opgepakt gister, hele straat stond te kijken", "nl").flagged
    assert not find("my cousin got arrested last night, mum is stressed", "en").categories
    assert not find("my mate relapsed, how can i help him", "en").categories
    assert not classify("my brother is using again", "en").flagged
    assert not classify("they arrested the guy who stole my bike", "en").flagged


def test_joke_with_explicit_intent_is_still_critical() -> None:
    verdict = classify("haha ik wil gewoon dood lol", "nl")
    assert verdict.severity == "critical"
    assert "self_harm" in verdict.categories


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("ik heb geen geld. ik wil dood", "nl"),
        ("geen idee maar ik wil dood", "nl"),
        ("niks gaat goed ik wil dood", "nl"),
        ("ik weet niet of ik dood wil", "nl"),
        ("nobody knows i want to die", "en"),
        ("no i want to die", "en"),
        ("nie wiem ale chcę umrzeć", "pl"),
    ],
)
def test_negation_does_not_cross_a_clause(text: str, lang: str) -> None:
    assert "self_harm" in classify(text, lang).categories


@pytest.mark.parametrize(
    ("text", "lang"),
    [("ik wil niet dood", "nl"), ("i dont want to die", "en"), ("i don't want to die", "en")],
)
def test_negated_death_wish_is_not_flagged(text: str, lang: str) -> None:
    assert not classify(text, lang).flagged


# --- normalisation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "ik wil d00d",
        "ik wil dooooood",
        "IK WIL DOOD!!!",
        "ík wíl dóód",
        "ik   wil\tdood",
        "ik wil d\u200bood",
    ],
)
def test_normalisation_variants(text: str) -> None:
    verdict = classify(text, "nl")
    assert verdict.severity == "critical", text
    assert all(match in text for match in verdict.matches)


def test_normalise_shows_what_rules_see() -> None:
    assert normalise("Ik wil DOOOOD!!! 😭") == "ik wil dod|"
    assert normalise("z'n kop, m'n huis") == "zn kop|mn huis"
    assert normalise("d00d 1k st3ek") == "dod ik stek"


def test_digits_stay_digits_outside_words() -> None:
    assert normalise("om 14:00 bel ik 113 of 06-12345678") == "om 14|00 bel ik 113 of 06 12345678"
    assert "self_harm" not in classify("ik heb 113 euro op mn rekening", "nl").categories
    assert "self_harm" in classify("ik heb vannacht 113 gebeld", "nl").categories


def test_weapon_emoji_count_as_words() -> None:
    verdict = classify("ik ga je 🔫", "nl")
    assert "violence" in verdict.categories
    assert any("🔫" in match for match in verdict.matches)
    assert "violence" in classify("ik heb een 🔪 bij me", "nl").categories
    assert not classify("😂😂👍🔥", "nl").flagged


def test_matches_map_back_to_the_original_text() -> None:
    text = "Goedemorgen!! Eerlijk gezegd... KZWEEEET NIE MEER 😭 en ik wil er een EIND aan maken"
    verdict = classify(text, "nl")
    assert verdict.matches
    for match in verdict.matches:
        assert match in text
    assert "KZWEEEET NIE MEER" in verdict.matches
    assert any("EIND aan maken" in match for match in verdict.matches)


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("I want to end it all", "en", "end it all"),
        ("ik wil echt dooooood", "nl", "ik wil echt dooooood"),
        ("kzweeeeet nieee meeeer", "nl", "kzweeeeet nieee meeeer"),
        ("gonna kill him", "en", "gonna kill him"),
        ("ik ga hem k1ll3n", "nl", "ga hem k1ll3n"),
        ("ik ga je 🔫", "nl", "ga je 🔫"),
        ("🔫🔫", "nl", "🔫🔫"),
        ("I'll kill her", "en", "I'll kill her"),
    ],
)
def test_matches_keep_the_whole_original_words(text: str, lang: str, expected: str) -> None:
    assert expected in classify(text, lang).matches


def test_matches_are_in_order_and_unique() -> None:
    text = "ik wil dood. echt, ik wil dood. deurwaarder"
    verdict = classify(text, "nl")
    assert verdict.matches == ("ik wil dood", "deurwaarder")


def test_fast_and_lazy_squeeze_agree() -> None:
    alphabet = "aabcdeeoo  ||.,!?'0123😀é\u200bZ"
    rng = random.Random(7)
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30)))
        normal = _normalise(text)
        assert _squeeze(normal.folded)[0] == normal.text, repr(text)
        for start in range(len(normal.text)):
            for end in range(start + 1, len(normal.text) + 1):
                first, last = normal.span(start, end)
                assert 0 <= first < last <= len(text), repr(text)


# --- hostile input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\x00",
        "a\x00b\x00c",
        "\ud800",
        "ok \udfff \ud800 ok",
        "\u202e\u202dhallo\u202c",
        "😀😀😀🎉",
        "<script>alert('x')</script>",
        "'; DROP TABLE participants; --",
        "SELECT * FROM messages WHERE 1=1",
        "\\" * 1000,
        "(((((((((",
        "[a-z]*+?{2,}",
        "\u0301\u0301\u0301",
        "ﷺ\ufdfd\U0010ffff",
        " " * 10000,
        "|" * 10000,
    ],
)
@pytest.mark.parametrize("lang", ["nl", "en", "ar", "xx", "", "NL-be", "../../etc/passwd"])
def test_hostile_input_never_raises(text: str, lang: str) -> None:
    verdict = classify(text, lang)
    assert isinstance(verdict, Verdict)
    assert not verdict.flagged
    json.dumps(verdict.to_dict()).encode("utf-8")


def test_hidden_characters_do_not_hide_a_crisis() -> None:
    hidden = ["d\u202eood", "d\u200bood", "d\x00ood", "do\u00adod", "d\u2066ood"]
    for text in [f"ik wil {word}" for word in hidden] + ["ik wil\ud800dood", "ik wil\ue000dood"]:
        verdict = classify(text, "nl")
        assert "self_harm" in verdict.categories, repr(text)
        json.dumps(verdict.to_dict()).encode("utf-8")


def test_huge_text_is_scanned_to_the_end() -> None:
    filler = "vandaag was een gewone dag en alles gaat goed met me. "
    text = filler * (5_000_000 // len(filler)) + "maar ik wil er een eind aan maken"
    assert len(text) > 5_000_000
    verdict = classify(text, "nl")
    assert verdict.severity == "critical"
    assert "self_harm" in verdict.categories
    assert not classify(filler * 100_000, "nl").flagged


def test_unknown_language_falls_back_to_dutch_and_english() -> None:
    assert "relapse" in classify("ik heb weer gebruikt", "xx").categories
    assert "housing" in classify("i got evicted", "").categories


# --- the rules files -----------------------------------------------------------------------


@pytest.mark.parametrize("lang", triage.LANGUAGES)
def test_rules_files_load_and_cover_the_crisis_categories(lang: str) -> None:
    path = triage.RULES_DIR / f"{lang}.toml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# "), "a rules file starts with a comment explaining the format"
    data = tomllib.loads(text)
    assert {"self_harm", "violence"} <= set(data)
    rules = triage_rules._load(lang).rules
    assert {rule.category for rule in rules} >= {"self_harm", "violence"}


def test_every_applied_rule_has_a_valid_severity() -> None:
    for lang in triage.LANGUAGES:
        rules = triage_rules._load(lang).rules
        for rule in rules:
            assert rule.severity in SEVERITIES[1:], rule.name
            assert rule.weight > 0, rule.name


def test_prepare_compiles_the_rules_of_every_language_up_front() -> None:
    triage_rules._ruleset.cache_clear()
    triage.prepare()
    assert triage_rules._ruleset.cache_info().currsize == len(triage.LANGUAGES) + 1
    assert triage.classify("ik wil dood", "nl").severity == "critical"
    assert triage_rules._ruleset.cache_info().currsize == len(triage.LANGUAGES) + 1


# --- round 5 rule families (2026-12-06) ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("luister goed, ik weet je heus te vinden", "nl"),
        ("doe nog 1 keer zo en dan weet ik waar je woont", "nl"),
        ("keep talking, i know where you work", "en"),
        ("i know exactly where to find that snitch", "en"),
        ("uważaj, wiem gdzie mieszkasz", "pl"),
        ("od tygodnia chodzę z kosą w kurtce", "pl"),
        ("bak, evini biliyorum", "tr"),
        ("ne yaptığını gördüm, seni bulurum", "tr"),
        ("3arf fin khddam, ghadi tchouf", "ar"),
        ("عارف فين كتسكن", "ar"),
        ("kankhrj dima b jenwi f jibi", "ar"),
    ],
)
def test_threats_by_whereabouts_and_carrying_a_weapon_are_violence(text: str, lang: str) -> None:
    """Threats that name no weapon but where the other person can be found, and walking
    around with a weapon: rules since round 5, in the participant's words."""
    found = find(text, lang).severities
    assert severity_rank(found.get("violence", "none")) >= severity_rank("high"), (text, found)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("ik weet waar je woont, ik breng de sleutels zaterdag", "nl"),
        ("ik weet niet waar hij woont", "nl"),
        ("i know where you live, dropping your parcel round later", "en"),
        ("chodzę z nożem na grzyby z dziadkiem", "pl"),
        ("kargo için adresini biliyorum zaten", "tr"),
        ("zelf appeltaart gebakken voor mn moeder", "nl"),
        ("ik heb een nieuw abonnement afgesloten bij de sportschool, 25 euro per maand", "nl"),
        ("heb mn internet opgezegd, ga naar een goedkopere", "nl"),
        ("my phone got nicked on the bus, gutted", "en"),
    ],
)
def test_round_5_hard_negatives_are_not_ruled(text: str, lang: str) -> None:
    """Everyday lines that share those words: the rules stay quiet (the model may still
    weigh them)."""
    found = find(text, lang).severities
    assert not found, (text, found)


def test_a_cut_off_is_still_debt_while_a_subscription_taken_out_is_not() -> None:
    assert find("ze hebben mijn gas afgesloten", "nl").severities == {"debt": "medium"}
    assert "debt" in find("mn telefoon is afgesloten want ik kon niet betalen", "nl").severities
    assert "relapse" in find("ik was zo gebakken gisteren na die joint", "nl").severities
    assert "police" in find("i got nicked last night", "en").severities


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("toen ik vast zat dacht ik vaak aan zelfmoord maar nu gaat het echt goed met me", "nl"),
        ("vroeger had ik altijd een mes bij me, nu niet meer, heb het weggegooid", "nl"),
        ("in jail i wanted to end it. now i got a job and my daughter, different life", "en"),
        ("used to cut myself when i was 15. not done it in years", "en"),
        ("eskiden kendime zarar veriyordum, artık yok", "tr"),
        ("cezaevindeyken ölmek istiyordum, şimdi işim var, başka hayat", "tr"),
        ("w pace chciałem się zabić, teraz mam robotę i córkę, inne życie", "pl"),
        ("فالحبس كنت باغي نموت، دابا الحمد لله عندي خدمة", "ar"),
    ],
)
def test_the_past_told_as_over_is_not_flagged_by_the_rules(text: str, lang: str) -> None:
    assert not find(text, lang).categories


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        # no sign that it is over
        ("toen ik vast zat dacht ik aan zelfmoord en dat doe ik nog steeds", "nl"),
        ("used to cut myself and i want to cut myself tonight", "en"),
        # over, but back again
        ("vroeger wilde ik zelfmoord plegen, nu niet meer. maar het komt terug", "nl"),
        ("in jail i wanted to end it. now i got a job but i want to end it again", "en"),
        ("eskiden ölmek istiyordum, artık yok dedim ama yine ölmek istiyorum", "tr"),
        ("w pace chciałem się zabić, teraz mam robotę, ale znowu chcę się zabić", "pl"),
        # what comes after the recovered words is judged on its own
        ("vroeger wilde ik dood, nu niet meer, maar vannacht wil ik zelfmoord plegen", "nl"),
    ],
)
def test_the_past_that_is_not_over_is_still_flagged(text: str, lang: str) -> None:
    assert "self_harm" in find(text, lang).categories


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("touw gekocht bij de bouwmarkt voor de verhuizing zaterdag, kan je helpen tillen?", "nl"),
        ("ik heb me gesneden aan een blikje, valt mee", "nl"),
        ("deze week was zwaar ik ben op, ga vroeg slapen", "nl"),
        ("ik heb geen zin meer in die cursus, maar ik maak hem wel af", "nl"),
        ("mn neefje zegt pang pang je bent dood met zn waterpistool", "nl"),
        ("we battered them 6-0 in 5 a side haha", "en"),
        ("de budgetcoach heeft een regeling getroffen met de deurwaarder", "nl"),
        ("enkelband is er vandaag af, eindelijk vrij", "nl"),
        ("killed it at the interview, they said they'll call me tmrw", "en"),
        ("ik droomde dat ik werd achtervolgd, werd zweterig wakker", "nl"),
        ("guy on my street got stabbed last year, they put flowers there", "en"),
    ],
)
def test_everyday_words_near_crisis_words_are_not_flagged_by_the_rules(
    text: str, lang: str
) -> None:
    assert not find(text, lang).categories


@pytest.mark.parametrize(
    ("text", "lang", "category"),
    [
        ("ik heb een touw gekocht voor vanavond", "nl", "self_harm"),
        ("ik heb me gesneden, het bloed stopt niet", "nl", "self_harm"),
        ("ik ben op, ik kan niet meer", "nl", "self_harm"),
        ("als ik hem zie maak ik hem af", "nl", "violence"),
        ("we battered them outside the club last night", "en", "violence"),
        ("de deurwaarder staat voor de deur", "nl", "debt"),
        ("can you call me please", "en", "help"),
        ("ik word achtervolgd door twee gasten", "nl", "danger"),
    ],
)
def test_the_same_words_still_flag_the_real_thing(text: str, lang: str, category: str) -> None:
    assert category in find(text, lang).categories


def test_arabizi_digits_in_a_pattern_read_like_digits_in_a_message() -> None:
    """ "3la" and "l7bs" in a rules file match "3la" and "l7bs" typed by a participant (both
    become "ela" and "ltbs"): a pattern with such a word never matched before round 7."""
    assert triage_rules._fold_pattern(r"\b3la kolchi\b") == r"\bela kolchi\b"
    assert triage_rules._fold_pattern(r"(?:\w+ ){0,3}113") == r"(?:\w+ ){0,3}113"
    assert "self_harm" in find("sallam 3la kolchi w sam7ouni", "ar").categories


@pytest.mark.parametrize(
    ("source", "folded"),
    [
        (r"\bZelfmoord\b", r"\bzelfmord\b"),
        (r"\bdon't (?:kill|kil)\b", r"\bdont (?:kil|kil)\b"),
        (r"\bżycie\w{0,3}\b", r"\bzycie\w{0,3}\b"),
        (r"\bołówek\b|\bık\b", r"\bolowek\b|\bik\b"),
        (r"\\ss\bss", r"\\s\bs"),
        (r"\w\wwword", r"\w\wword"),
        (r"", r""),
    ],
)
def test_a_pattern_is_folded_like_a_message_with_its_escapes_kept(source: str, folded: str) -> None:
    """Rule sources are folded per run of letters (since round 9, for start-up): case,
    accents, special letters, apostrophes and repeated letters as in a message, escapes
    such as \\b and \\w left exactly as written."""
    assert triage_rules._fold_pattern(source) == folded


# The families the rules were widened or narrowed for, round by round since round 6 (README,
# "Triage"). The flagged lines guard against an exception going too far; the everyday lines
# are what the change was for (rounds 6-9 kept only self_harm and violence away from them,
# since round 10 no category fires).
RULED_FAMILIES = [
    # round 6
    ("nie mam pracy, nikogo. nie ma po co żyć", "pl", "self_harm"),
    ("wszyscy by odpoczęli gdyby mnie nie było", "pl", "self_harm"),
    ("zegarek zostawiłem bratu, niech ma pamiątkę", "pl", "self_harm"),
    ("on już nie wyjdzie z tego żywy", "pl", "violence"),
    ("herkese yük oldum", "tr", "self_harm"),
    ("ilaçları içmiyorum, biriktiriyorum", "tr", "self_harm"),
    ("onu bulunca sağ çıkmayacak", "tr", "violence"),
    ("بغيت ننعس وما نفيقش", "ar", "self_harm"),
    ("سلم لي على ماما، سامحوني", "ar", "self_harm"),
    ("الحبوب ديال الطبيب كنجمعهم", "ar", "self_harm"),
    ("ghadi nderbo 7ta ymout", "ar", "violence"),
    ("if anything happens to me my cousin gets my ps5", "en", "self_harm"),
    ("wrote my goodbye letters last night", "en", "self_harm"),
    ("ik kost iedereen alleen maar geld", "nl", "self_harm"),
    ("mi no wani libi moro", "nl", "self_harm"),
    ("god neem me maar", "nl", "self_harm"),
    ("ik neem morgen mn mes mee naar school", "nl", "violence"),
    ("die komt er niet levend uit", "nl", "violence"),
    # round 7
    ("mi ke muri", "nl", "self_harm"),
    ("mi no wani libi moro broer", "nl", "self_harm"),
    ("mi o kiri en tide", "nl", "violence"),
    ("mijn zoon heeft meer aan een dode vader", "nl", "self_harm"),
    ("heb een touw gekocht en nee het is niet voor de verhuizing", "nl", "self_harm"),
    ("knuppel in de auto gelegd, niet voor sport", "nl", "violence"),
    ("als hij niet betaalt breek ik zn benen", "nl", "violence"),
    ("als ik morgen niet antwoord, zeg tegen mn moeder dat ik van haar hou", "nl", "self_harm"),
    ("if he dont pay by friday i break his fingers", "en", "violence"),
    ("bat in the boot, not for baseball", "en", "violence"),
    ("if i dont answer tomorrow tell my mum i love her", "en", "self_harm"),
    ("param gelmezse kemiklerini kırarım", "tr", "violence"),
    ("sopayı arabaya koydum, spor için değil", "tr", "violence"),
    ("yarın açmazsam anneme onu sevdiğimi söyleyin", "tr", "self_harm"),
    ("o gün her şeyi bitiricem", "tr", "self_harm"),
    ("połamię mu wszystkie kości", "pl", "violence"),
    ("jak mnie zaczepi to ktoś nie wróci do domu", "pl", "violence"),
    ("list leży pod poduszką", "pl", "self_harm"),
    ("siedzę na dachu, nogi za barierką", "pl", "self_harm"),
    ("ما بقاش عندي علاش نعيش", "ar", "self_harm"),
    ("غادي نكسر ليه صبعانو", "ar", "violence"),
    ("ghadi nkssr lih sb3ano wa7d b wa7d", "ar", "violence"),
    ("lmoss 7dito mzyan, machi l lkhodra", "ar", "violence"),
    # round 8
    ("heb gister de riem al om mn nek gehad, vanavond echt", "nl", "self_harm"),
    ("hoe hoog moet een parkeergarage zijn om zeker dood te gaan", "nl", "self_harm"),
    ("er wordt toch niks van mij, dan ben ik net zo goed dood", "nl", "self_harm"),
    ("ik maak alles goed door te verdwijnen", "nl", "self_harm"),
    ("had gehoopt dat die bus me zou raken vanochtend", "nl", "self_harm"),
    ("ff over school: heb een mes geregeld en ik wacht hem op bij de poort", "nl", "violence"),
    ("heb de neiging om random mensen pijn te doen", "nl", "violence"),
    ("de jongens staan al klaar om die gasten van blok c te pakken", "nl", "violence"),
    ("im gonna off myself tonight", "en", "self_harm"),
    ("wrote notes for my brothers, they will find them tomorrow", "en", "self_harm"),
    ("logging off for good, thanks for trying", "en", "self_harm"),
    ("phone battery at 2% like me and i dont want a charger", "en", "self_harm"),
    ("say that again and im not responsible for what happens", "en", "violence"),
    ("bilegimi kestim", "tr", "self_harm"),
    ("annem beni affetsin, bu gece bitiriyorum", "tr", "self_harm"),
    ("bicaklarla gidiyoruz aksam", "tr", "violence"),
    ("wzialem noz, czekam na niego pod blokiem", "pl", "violence"),
    ("ten typ powaznie oberwie", "pl", "violence"),
    ("والله سأنتقم منهم", "ar", "violence"),
    # round 9
    ("als ze me huis afpakken maak ik er zondag een einde aan", "nl", "self_harm"),
    ("gegoogled hoe je pijnloos doodgaat", "nl", "self_harm"),
    ("ik ga zo slapen en ik word niet meer wakker, echt niet", "nl", "self_harm"),
    ("straks ga ik naar het spoor en dan is het klaar", "nl", "self_harm"),
    ("al mn slaappillen van de dokter opgespaard", "nl", "self_harm"),
    ("ik wil ermee ophouden, met het leven bedoel ik", "nl", "self_harm"),
    ("de stemmen zeggen dat ik mezelf moet ophangen", "nl", "self_harm"),
    ("wou dat die kogel mij had geraakt", "nl", "self_harm"),
    ("die gast ziet morgen niet meer", "nl", "violence"),
    ("been stockpiling my meds for a month", "en", "self_harm"),
    ("that snitch is gonna get what's coming to him", "en", "violence"),
    ("jre7t yddi daba", "ar", "self_harm"),
    ("ghadi yjib lia pistola lyouma", "ar", "violence"),
    ("trene atlicam birazdan", "tr", "self_harm"),
    ("bugun birini bicaklicam", "tr", "violence"),
    ("ciagle slysze w glowie zabij sie", "pl", "self_harm"),
    ("planuje to od miesiecy", "pl", "violence"),
    # round 10
    ("ik ga me vanavond echt vermoorden", "nl", "self_harm"),
    ("soms wil ik me gewoon afmaken", "nl", "self_harm"),
    ("na de training steek ik hem neer", "nl", "violence"),
    ("gaan we ze afslachten vanavond met messen", "nl", "violence"),
    ("heb een bijl gekocht voor die gast", "nl", "violence"),
    ("vroeger wou ik zelfmoord plegen, 2 jaar niet meer, nu weer", "nl", "self_harm"),
    ("ik heb mn enkelband eraf gehaald", "nl", "police"),
    ("er was vanochtend een inval bij ons thuis", "nl", "police"),
    ("i overdosed on purpose last night", "en", "self_harm"),
    ("used to cut myself, havent in 3 years, but its back again", "en", "self_harm"),
    ("yarin intihar edecegim", "tr", "self_harm"),
    ("wczoraj probowalem sie zabic", "pl", "self_harm"),
    ("حاولت الانتحار البارحة", "ar", "self_harm"),
    # round 11
    ("ik lig in het ziekenhuis", "nl", "health"),
    ("k lig sinds gister in t ziekenhuis", "nl", "health"),
    ("ik ben met de ambulance weggebracht", "nl", "health"),
    ("ik heb geen plek meer vannacht", "nl", "housing"),
    ("k heb geen plek", "nl", "housing"),
    ("ik heb schulden bij iedereen", "nl", "debt"),
    ("mn broer heeft schulden bij mij en ik heb zelf ook een deurwaarder", "nl", "debt"),
    ("ended up in a and e last night", "en", "health"),
    ("i got taken to hospital by the police", "en", "health"),
    ("i have huge debts", "en", "debt"),
    # round 12
    ("2 years ago i tried to end it. today again i want to", "en", "self_harm"),
    ("i tried to end it last night", "en", "self_harm"),
    ("i want to shoot myself", "en", "self_harm"),
    ("im gonna commit suicide", "en", "self_harm"),
    ("een jaar geleden wou ik dood en nu weer", "nl", "self_harm"),
    ("mn vader slaat me dood als ik thuiskom", "nl", "danger"),
    ("mn moeder slaat me elke dag", "nl", "danger"),
]
EVERYDAY_WITHOUT_CRISIS = [
    # round 6
    ("kupiłem pamiątkę z wakacji dla siostry", "pl"),
    ("ilaçları buzdolabında saklıyorum", "tr"),
    ("سلم لي على ماما", "ar"),
    ("الله يسامحني نسيت الموعد", "ar"),
    ("wrote the letters for my job applications", "en"),
    ("ik neem een mes mee naar het werk voor de appels", "nl"),
    ("ik hoor hier niet thuis in deze klas", "nl"),
    ("we gaan ze opzoeken voor een feestje", "nl"),
    ("one year ago i was writing goodbye letters in my cell, now i got a job", "en"),
    # round 7
    ("touw gekocht, is niet voor mij maar voor de verhuizing", "nl"),
    ("ik heb nee gezegd tegen iemand die vroeg of ik voor hem wilde rijden", "nl"),
    ("hij brak zn been bij het voetbal", "nl"),
    ("someone is not coming home tonight because the train is on strike", "en"),
    ("kapıma geldiler, bacaklarını kırarız dediler", "tr"),
    ("ödevi bitiricem bu akşam", "tr"),
    ("koncze z tym projektem jutro", "pl"),
    ("sallam 3la kolchi", "ar"),
    ("in de cel dacht ik elke dag aan zelfmoord maar nu heb ik werk, gaat echt goed", "nl"),
    ("used to cut myself when i was like 16 but i aint done that in years", "en"),
    ("mli kont f l7bs kont kanfker n9tel rasi, daba l7amdulillah ghir lkhir", "ar"),
    # round 8
    ("made pasta tonight, proud of myself", "en"),
    ("i need to take better care of myself", "en"),
    ("in my cell i thought about ending it. glad i didnt, things are looking up now", "en"),
    ("payback time at the match, they got us last season", "en"),
    ("the roof is leaking again", "en"),
    ("log off for good from instagram, too much drama", "en"),
    ("een sjaal om mn nek want het is koud", "nl"),
    ("we staan klaar om ze te pakken in de finale", "nl"),
    ("ik heb een mes gekocht voor de keuken", "nl"),
    ("beyzbol sopalariyla oynamaya gidiyoruz", "tr"),
    ("bugun isi bitiriyorum, yarin tatil", "tr"),
    ("on mocno oberwie na sparingu", "pl"),
    # round 9
    ("ik maak er een einde aan met die relatie", "nl"),
    ("de tandarts zei dat het pijnloos gaat", "nl"),
    ("mn baas gaat me vermoorden als ik weer te laat ben", "nl"),
    ("ik zou een moord doen voor een broodje shoarma", "nl"),
    ("touw gekocht om de matras op het dak vast te binden", "nl"),
    ("de broer van mn vriend heeft zelfmoord gepleegd, morgen de begrafenis", "nl"),
    ("op de cursus ging het over zelfmoord en hoe je iemand helpt", "nl"),
    ("we are planning it for weeks, her surprise party", "en"),
    ("kont kanjr7 rasi mli kont sghir, daba la", "ar"),
    ("9tlto f fortnite 3 mrat", "ar"),
    ("15 yasindayken kendimi keserdim, simdi yok", "tr"),
    ("grupta intihar onleme konustuk", "tr"),
    ("na szkoleniu o zapobieganiu samobojstwom", "pl"),
]
EVERYDAY_WITHOUT_FLAGS = [
    # round 10
    ("mn moeder gaat me echt afmaken als ik weer te laat thuis ben", "nl"),
    ("zondag de klassieker, we gaan ze echt afmaken", "nl"),
    ("die keeper moet je echt neerschieten, alles gaat erin", "nl"),
    ("bijl gekocht voor het haardhout van mn opa", "nl"),
    ("heb vroeger mezelf gesneden, al 3 jaar niet meer", "nl"),
    ("in de bak had ik een tijd dat ik dood wilde, die tijd is voorbij", "nl"),
    ("kan je iemand laten invallen op mn werk dinsdag", "nl"),
    ("mn enkelband is vandaag eraf gehaald door de reclassering", "nl"),
    ("ik ben skeer tot vrijdag maar heb eten genoeg", "nl"),
    ("mijn neef wordt bedreigd door zn ex", "nl"),
    ("my cousin overdosed two years ago, his birthday today", "en"),
    ("used to hurt myself as a teen, havent in 5 years", "en"),
    ("broke till friday lol", "en"),
    ("komsumuzun oglu intihar etmis, cok uzuldum", "tr"),
    ("eskiden kendimi keserdim, 3 yildir yapmadim", "tr"),
    ("brat kolegi probowal sie zabic, jest w szpitalu", "pl"),
    ("w wiezieniu mialem mysli samobojcze, terapia pomogla", "pl"),
    ("صاحبي حاول الانتحار العام الماضي", "ar"),
    ("f l7bs kont baghi nmout, daba l7amdolilah khdam", "ar"),
    # round 11
    ("weet jij of die schoonmaakvacature bij het ziekenhuis nog open staat", "nl"),
    ("buurman is van de trap gevallen, ambulance kwam. hij is oke gelukkig", "nl"),
    ("ziekenhuis parkeren is zo duur", "nl"),
    ("kapper had geen plek meer, morgen dan", "nl"),
    ("ik heb geen plek meer in de klas", "nl"),
    ("vriend van me heeft schulden bij iedereen, ik leen hem niks meer", "nl"),
    ("mn beste vriend heeft schulden bij iedereen", "nl"),
    ("new job at the hospital kitchen", "en"),
    ("my neighbour fell, ambulance came, hes ok", "en"),
    ("my neighbours son has huge debts, bailiffs at their door", "en"),
    ("my best mate has debts everywhere", "en"),
    # round 12
    ("3 years ago i tried to end it. today i got my first payslip. crazy how life goes", "en"),
    ("that time in isolation when i wanted to hang myself feels like another life now", "en"),
    ("that test was brutal, i shot myself in the foot not studying", "en"),
    ("my friends uncle died by suicide last week, the funeral is saturday", "en"),
    ("een jaar geleden wou ik dood. nu ben ik blij dat het niet gelukt is", "nl"),
    ("mn zus slaat me dood als ze hoort dat ik haar oplader heb meegenomen 😂", "nl"),
    ("mn oma slaat me dood met haar slipper als ik niet kom op zondag haha", "nl"),
]


@pytest.mark.parametrize(("text", "lang", "category"), RULED_FAMILIES)
def test_rule_families_are_flagged_by_the_rules(text: str, lang: str, category: str) -> None:
    assert category in find(text, lang).categories


@pytest.mark.parametrize(("text", "lang"), EVERYDAY_WITHOUT_CRISIS)
def test_rule_families_leave_everyday_lines_without_a_crisis(text: str, lang: str) -> None:
    assert not {"self_harm", "violence"} & set(find(text, lang).categories)


@pytest.mark.parametrize(("text", "lang"), EVERYDAY_WITHOUT_FLAGS)
def test_rule_families_leave_everyday_lines_unflagged(text: str, lang: str) -> None:
    assert not find(text, lang).categories


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("cup final on saturday, we're gonna murder them lads", "en"),
        ("ghedda f lmatch ghadi n9tlohom, ferqa dyalna wa3ra", "ar"),
        ("trein rijdt niet, ik zit vast bij amersfoort. kwartiertje later", "nl"),
        ("ik zit echt vast met dat formulier van de gemeente", "nl"),
        ("zaterdag kan ik niet, mijn baas wil dat ik inval in de bakkerij", "nl"),
        ("klaar met alles op netflix, wat moet ik nu kijken", "nl"),
        ("lid geworden van de basic fit, 25 per maand", "nl"),
        ("i'm at the hospital for my night shift, all good", "en"),
        ("wil soms gewoon verdwijnen naar een eiland met zon en zee", "nl"),
        ("just want to disappear to a beach in spain for a week lol", "en"),
        ("goedemorgen, ik ben op. tot straks", "nl"),
        ("die meme van de kat haha ik kan niet meer", "nl"),
        ("futsal zondag, ik ga ze slopen in de tweede helft", "nl"),
        ("onze poule is zwak, we gaan ze kapot maken", "nl"),
        ("die zangeres zingt 'klaar met dit leven' en ik krijg kippenvel", "nl"),
        ("mijn werkstraf zit erop, alle uren in de plantsoenen gedaan", "nl"),
        ("post van de rechtbank: de zaak is geseponeerd", "nl"),
        ("de politie belde, ik was getuige van een ongeluk op de ring", "nl"),
        ("ik slaap slecht met die hitte", "nl"),
        ("ik kan mn neef wel wurgen, hij heeft mn fifa save gewist", "nl"),
        ("kan ik bellen in plaats van langskomen? bus staakt", "nl"),
        ("mijn schuldenregeling loopt gewoon, maandelijks betaald", "nl"),
        ("vroeger liep ik met een mes op zak. nu begrijp ik niet waarom", "nl"),
        ("ik zoek een nieuwe kast want die oude valt uit elkaar", "nl"),
        ("coach zei we gaan ze vermoorden op het veld zondag", "nl"),
        ("sparring gehad, ik heb hem knock out geslagen, handschoenen aan hoor", "nl"),
        ("ik ga dat tentamen slopen volgende week", "nl"),
        ("dat liedje 'ik wil dood' van die rapper zit in mn hoofd", "nl"),
        ("zware dienst gehad, ik ben op", "nl"),
        ("feyenoord weer gelijk gespeeld, ik trek het niet meer haha", "nl"),
        ("na mijn werk pas kan ik bellen", "nl"),
        ("mag ik mijn zoontje zien met kerst van jeugdzorg?", "nl"),
        ("ben gepakt door de griep, lig op bed", "nl"),
        ("acil bir şey olursa bana mesaj atın, telefon şarjda", "tr"),
        ("my cousin from the gym got arrested, nothing to do with me", "en"),
        ("two years ago i was drinking daily, 14 months sober now", "en"),
    ],
)
def test_everyday_week_families_are_not_ruled(text: str, lang: str) -> None:
    """Ordinary weeks of rounds 14 and 15: football trash talk (also "ik ga ze ..."), stuck
    in a train or on a form, standing in at work, done with Netflix, a gym called Basic-Fit,
    a dream holiday, being up in the morning, a meme, a singer's line, community service
    done, a closed or a civil case, a witness, poor sleep without a count of nights, the "ik
    kan hem wel wurgen" idiom, calling instead of coming, a debt arrangement that runs, a
    weapon of the past the person no longer understands; and of round 16: Dutch "want die"
    (because that one), a coach or sparring, an exam to "slopen", a song's line quoted, worn
    out after a shift, a club that lost, when the writer can call, seeing the children, the
    flu that "caught" someone, how to reach the writer if urgent, a friend's arrest told
    with three words between, months sober: the rules stay quiet (the model
    still weighs every message)."""
    assert not find(text, lang).categories


@pytest.mark.parametrize(
    ("text", "lang", "category"),
    [
        ("na de wedstrijd ga ik hem neersteken", "nl", "violence"),
        ("i'm gonna murder him after the match", "en", "violence"),
        ("ik zit vast op het politiebureau", "nl", "police"),
        ("ik ben klaar met alles", "nl", "self_harm"),
        ("ik wil gewoon verdwijnen", "nl", "self_harm"),
        ("had a fit last night and fell", "en", "health"),
        ("ik kan niet meer", "nl", "self_harm"),
        ("na de wedstrijd ga ik hem kapot maken", "nl", "violence"),
        ("ik ben klaar met dit leven", "nl", "self_harm"),
        ("ik heb een dagvaarding gekregen", "nl", "police"),
        ("ik moet volgende week verhoord worden als getuige", "nl", "police"),
        ("ik ben opgepakt gisteren", "nl", "police"),
        ("ik slaap al drie nachten niet", "nl", "health"),
        ("ik ga hem wurgen als ik hem zie", "nl", "violence"),
        ("kun je me bellen vandaag?", "nl", "help"),
        ("de deurwaarder stond weer aan de deur", "nl", "debt"),
        ("ik heb een mes op zak sinds die ruzie", "nl", "violence"),
        ("i want die", "en", "self_harm"),
        ("just want to die tonight", "en", "self_harm"),
        ("ik ga hem slopen na de training", "nl", "violence"),
        ("ik wil dood, ik luister de hele dag hetzelfde nummer", "nl", "self_harm"),
        ("ik ben op, ik kan dit niet meer", "nl", "self_harm"),
        ("ik ben opgepakt door de politie", "nl", "police"),
        ("acil yardım lazım", "tr", "help"),
        ("my brother and i got arrested last night", "en", "police"),
        ("my mum said police came to her place for me, there's a warrant out", "en", "police"),
    ],
)
def test_week_exceptions_leave_the_real_thing_flagged(text: str, lang: str, category: str) -> None:
    assert category in find(text, lang).categories
