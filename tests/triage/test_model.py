"""The learned detector: the shipped model file, its corpus, its cross-validation figures,
explanations, `ask`, and that running it needs neither scikit-learn nor numpy.

The figures are those of grouped cross-validation (a phrasing family never in both the
training and the held-out part), computed by `python -m bot.triage.train` and stored in the
model file; retraining is the way to change them, and these floors keep a retrained model
from silently getting worse.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot import triage
from bot.triage import CATEGORIES, features, train
from bot.triage import model as triage_model
from bot.triage.match import find
from bot.triage.normalise import normalise
from tests.triage.figures import retired_set_problems

CORPUS = Path(__file__).with_name("corpus")
DEV = Path(__file__).with_name("dev")
MAX_MODEL_BYTES = 20_000_000
# floors on the held-out (grouped) figures; the brief's targets are in model.json cv.targets.
# self_harm was 0.65 until the corpus round of 2026-12-06 added 4,302 messages of new
# families, each held out whole in turn: the same figure on a harder corpus (see test_dev.py)
MIN_HELD_OUT_RECALL = {"self_harm": 0.62, "violence": 0.78}
MIN_HELD_OUT_PRECISION = 0.85
# the crisis thresholds are chosen on the dev split since round 4 (2026-12-06), with the CV's
# everyday messages kept under train.MAX_CV_EVERYDAY (the 3 % target since round 15)
MAX_HELD_OUT_EVERYDAY = train.MAX_CV_EVERYDAY
MAX_HELD_OUT_ASK = 0.005
# on the corpus itself (the model learnt it: a check that the shipped file is the trained one)
MIN_IN_SAMPLE_RECALL = 0.95


@pytest.fixture(scope="module")
def model() -> triage_model.Model:
    return triage_model.load()


@pytest.fixture(scope="module")
def corpus() -> list[dict[str, object]]:
    rows = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return rows


# --- the file ------------------------------------------------------------------------------


def test_model_file_is_small_and_versioned(model: triage_model.Model) -> None:
    size = triage_model.MODEL_PATH.stat().st_size
    assert size <= MAX_MODEL_BYTES, size
    data = triage_model.read(triage_model.MODEL_PATH)
    assert data["format"] == triage_model.FORMAT
    assert isinstance(data["version"], int) and data["version"] >= 1
    assert model.categories == triage.CATEGORIES
    assert set(model.flag) == set(triage.CATEGORIES)
    assert set(model.critical) == {"self_harm", "violence"}
    assert 0 < model.ask <= model.flag["self_harm"] <= 1


def test_model_file_matches_the_corpus_it_claims(model: triage_model.Model) -> None:
    """Retrain (`python -m bot.triage.train`) after changing tests/triage/corpus/."""
    claimed = model.info["corpus"]
    actual = triage_model.corpus_digest(CORPUS)
    assert actual["files"] == claimed["files"], "the corpus changed since the model was trained"
    assert actual["sha256"] == claimed["sha256"]


def test_model_file_matches_the_dev_split_its_thresholds_come_from(
    model: triage_model.Model,
) -> None:
    """The flag thresholds are chosen on the CV and the dev split: retrain after changing
    tests/triage/dev/ too."""
    claimed = model.info["dev"]
    actual = triage_model.corpus_digest(DEV)
    assert actual["files"] == claimed["files"], "the dev split changed since the model was trained"
    assert actual["sha256"] == claimed["sha256"]


def test_crisis_thresholds_are_the_selected_ones_with_the_dev_choice_beside(
    model: triage_model.Model,
) -> None:
    """The shipped self_harm and violence thresholds are train.SELECTED_CRISIS_THRESHOLDS
    (chosen on the selection sets) or, without a selection, the dev split's choice, which the
    model file keeps either way: retrain after changing the selection."""
    from_dev = model.info["dev"]["crisis_thresholds_from_dev"]
    expected = train.SELECTED_CRISIS_THRESHOLDS or (from_dev["self_harm"], from_dev["violence"])
    assert (model.flag["self_harm"], model.flag["violence"]) == expected


def test_corpus_is_well_formed(corpus: list[dict[str, object]]) -> None:
    texts = [row["text"] for row in corpus]
    assert len(texts) == len(set(texts)), "duplicate texts"
    fields = {"text", "lang", "flagged", "categories", "severity", "family", "source"}
    for row in corpus:
        assert fields <= set(row), row
        assert row["lang"] in triage.LANGUAGES
        assert bool(row["flagged"]) == bool(row["categories"]), row
        assert set(row["categories"]) <= set(triage.CATEGORIES), row
        assert (row["severity"] == "none") != bool(row["flagged"]), row
    # `<lang>.jsonl`: lines written for training; `retired-*.jsonl`: blind sets whose errors
    # were studied, in every language, each line keeping the source of its set
    for path in CORPUS.glob("*.jsonl"):
        if path.stem.startswith("retired-"):
            assert not retired_set_problems(path)
        else:
            langs = {
                json.loads(line)["lang"] for line in path.read_text(encoding="utf-8").splitlines()
            }
            assert langs == {path.stem}, path


def test_pure_python_scorer_agrees_with_training(model: triage_model.Model) -> None:
    assert model.info["training"]["largest_probability_difference"] <= 0.02


# --- held-out figures ----------------------------------------------------------------------


def test_held_out_figures_meet_the_floors(model: triage_model.Model) -> None:
    cv = model.info["cv"]
    assert "GroupKFold by family" in cv["method"]
    figures = cv["rules_and_model"]
    for category, floor in MIN_HELD_OUT_RECALL.items():
        assert figures["recall_by_category"][category] >= floor, figures["recall_by_category"]
    assert figures["precision"] >= MIN_HELD_OUT_PRECISION, figures["precision"]
    assert figures["everyday_flagged"] <= MAX_HELD_OUT_EVERYDAY, figures["everyday_flagged"]
    assert figures["everyday_asked"] <= MAX_HELD_OUT_ASK, figures["everyday_asked"]


def test_the_model_adds_to_the_rules_on_held_out_families(model: triage_model.Model) -> None:
    cv = model.info["cv"]
    both, rules = cv["rules_and_model"], cv["rules_only"]
    for category in ("self_harm", "violence"):
        gained = both["recall_by_category"][category] - rules["recall_by_category"][category]
        assert gained >= 0.2, (category, gained)
    assert both["recall"] > rules["recall"]


def test_in_sample_the_shipped_model_finds_every_crisis(corpus: list[dict[str, object]]) -> None:
    found = {"self_harm": [0, 0], "violence": [0, 0]}
    everyday = [0, 0]
    for row in corpus:
        verdict = triage.classify(str(row["text"]), str(row["lang"]))
        for category, counts in found.items():
            if category in row["categories"]:
                counts[0] += 1
                counts[1] += category in verdict.categories and verdict.severity in (
                    "high",
                    "critical",
                )
        if str(row["family"]).startswith("everyday") and not row["flagged"]:
            everyday[0] += 1
            everyday[1] += verdict.flagged
    for category, (total, hits) in found.items():
        assert hits / total >= MIN_IN_SAMPLE_RECALL, (category, hits, total)
    assert everyday[1] / everyday[0] <= MAX_HELD_OUT_EVERYDAY, everyday


# --- combination, explanation, ask ---------------------------------------------------------


def test_model_flags_are_explained_with_words_of_the_message(
    corpus: list[dict[str, object]],
) -> None:
    checked = 0
    for row in corpus:
        text, lang = str(row["text"]), str(row["lang"])
        if find(text, lang).categories:
            continue
        verdict = triage.classify(text, lang)
        if not verdict.flagged:
            continue
        checked += 1
        assert verdict.matches, text
        for match in verdict.matches:
            assert match in text, (match, text)
            assert match.strip() == match and match
    assert checked >= 100


def test_explanation_keeps_the_original_spelling() -> None:
    text = "Heb al mn SPULLEN weggegeven aan mn neef... heb ze niet meer nodig"
    verdict = triage.classify(text, "nl")
    assert "self_harm" in verdict.categories
    assert verdict.matches
    assert all(match in text for match in verdict.matches)


def test_rules_severity_stands_where_the_rules_fire(model: triage_model.Model) -> None:
    decision = model.decide({"police": "low"}, [1.0] * len(model.categories))
    assert decision.severities["police"] == "low"
    assert "police" not in decision.by_model
    assert decision.severities["self_harm"] == "critical"
    assert decision.severities["danger"] == model.severity["danger"]


def test_model_severity_bands(model: triage_model.Model) -> None:
    harm = model.categories.index("self_harm")
    chances = [0.0] * len(model.categories)
    chances[harm] = model.flag["self_harm"]
    high_or_critical = model.decide({}, chances).severities["self_harm"]
    assert high_or_critical == (
        "critical" if model.flag["self_harm"] >= model.critical["self_harm"] else "high"
    )
    chances[harm] = 1.0
    assert model.decide({}, chances).severities["self_harm"] == "critical"


def test_ask_is_the_band_below_the_self_harm_threshold(model: triage_model.Model) -> None:
    harm = model.categories.index("self_harm")
    chances = [0.0] * len(model.categories)
    assert not model.decide({}, chances).ask
    chances[harm] = model.ask
    decision = model.decide({}, chances)
    assert decision.ask == (model.ask < model.flag["self_harm"])
    assert not decision.severities.get("self_harm")
    chances[harm] = 1.0
    assert not model.decide({}, chances).ask  # flagged: the officer acts, no question
    assert not model.decide({"self_harm": "high"}, [0.0] * len(model.categories)).ask


@pytest.mark.parametrize(
    "text",
    [
        "heeft het nog zin",
        "alles is zwaar de laatste tijd",
        "i feel empty",
        "what is even the point",
        "ik voel me leeg",
        "waarom doe ik nog moeite",
        "goedemorgen, ik ben er om 10 uur",
    ],
)
def test_classify_asks_exactly_in_the_band(model: triage_model.Model, text: str) -> None:
    verdict = triage.classify(text, "nl")
    chance = model.probabilities(normalise(text))[model.categories.index("self_harm")]
    expected = "self_harm" not in verdict.categories and chance >= model.ask
    assert verdict.ask == expected
    if verdict.ask:
        assert "ask" not in verdict.to_dict()


def test_everyday_messages_are_neither_flagged_nor_asked() -> None:
    for text in ["ok", "ben er zo", "hoi, tot morgen", "top bedankt", "ik ben er om 10 uur"]:
        verdict = triage.classify(text, "nl")
        assert not verdict.flagged and not verdict.ask, (text, verdict)


def test_long_text_is_scored_in_windows() -> None:
    filler = "vandaag was een gewone dag en alles gaat goed met me. "
    spans = triage_model.windows(normalise(filler * 5_000))
    assert len(spans) == triage_model.MAX_WINDOWS
    assert all(end - start <= triage_model.WINDOW for start, end in spans)
    short = normalise("ik ben er zo")
    assert triage_model.windows(short) == [(0, len(short))]


def test_a_broken_model_file_raises(tmp_path: Path) -> None:
    broken = tmp_path / "model.json"
    broken.write_text(json.dumps({"format": triage_model.FORMAT}), encoding="utf-8")
    with pytest.raises(ValueError):
        triage_model.load(broken)
    other = triage_model.read(triage_model.MODEL_PATH)
    other["features"] = {**other["features"], "max_n": 9}
    with pytest.raises(ValueError):
        triage_model.Model.from_dict(other)
    for value in ("zz", 7, "1" + "0" * 200):
        garbled = triage_model.read(triage_model.MODEL_PATH)
        garbled["packed"] = {**garbled["packed"], "ik": value}
        with pytest.raises(ValueError):
            triage_model.Model.from_dict(garbled)


@pytest.mark.parametrize(
    ("idf2", "weights"), [(4, [0] * 10), (1, [1023, -1023, 0, 5, -5, 1, 2, 3, 4, 1000])]
)
def test_a_packed_feature_unpacks_to_its_values(idf2: int, weights: list[int]) -> None:
    number = triage_model.pack(idf2, weights)
    mask = triage_model.FIELD_MASK
    assert number & mask == 1
    assert (number >> triage_model.FIELD_BITS) & mask == idf2
    assert (number >> (2 * triage_model.FIELD_BITS)) & mask == 0
    assert [
        ((number >> (triage_model.FIELD_BITS * index)) & mask) - triage_model.OFFSET
        for index in range(triage_model.FIRST_WEIGHT, triage_model.FIRST_WEIGHT + 10)
    ] == weights
    with pytest.raises(ValueError):
        triage_model.pack(idf2, [*weights[:-1], triage_model.OFFSET])


def test_running_needs_neither_scikit_learn_nor_numpy() -> None:
    code = (
        "import sys\n"
        "from bot import triage\n"
        "triage.prepare()\n"
        "assert triage.classify('ik wil er een eind aan maken', 'nl').severity == 'critical'\n"
        "heavy = ('sklearn', 'numpy', 'scipy')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in heavy)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_ask_threshold_keeps_every_part_under_the_ask_limit() -> None:
    """The ask band is chosen on the CV and the dev split together, but each must stay at
    most MAX_ASK: a dev split with few everyday messages must not hide a CV that asks too
    often (round 7's first threshold asked 0.61 % of the CV's everyday messages)."""
    np = pytest.importorskip("numpy")
    everyday = train.Row("hoi", "nl", False, frozenset(), "none", "everyday-chat", "test")
    crisis = train.Row("x", "nl", True, frozenset({"self_harm"}), "high", "wish", "test")
    rows = [everyday] * 100 + [everyday] * 1000 + [crisis]
    chances = np.zeros((len(rows), len(CATEGORIES)))
    chances[:, CATEGORIES.index("self_harm")] = 0.1
    # in the first part (100 messages) two everyday messages sit just under the flag
    chances[:2, CATEGORIES.index("self_harm")] = 0.5
    chances[-1, CATEGORIES.index("self_harm")] = 0.9
    flag = dict.fromkeys(CATEGORIES, 0.6)
    rules: list[dict[str, str]] = [{} for _ in rows]
    together = train.severity_and_ask(rows, rules, chances, flag)
    apart = train.severity_and_ask(
        rows, rules, chances, flag, parts=(range(100), range(100, len(rows)))
    )
    assert together["ask"] <= 0.5 < apart["ask"]


def test_explanations_remember_few_words_and_stay_the_same(
    model: triage_model.Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The remembered word weights are bounded (the vocabulary's and WORD_TOTALS more) and
    change no explanation."""
    normal = normalise(
        "ik heb al mn pillen gespaard voor vanavond, sorry voor alles zzqx qqzv vvqz"
    )
    model.word_totals.clear()
    model.word_totals.update(model.vocabulary)
    first = model.explain(normal, "self_harm")
    assert first
    monkeypatch.setattr(triage_model, "WORD_TOTALS", 3)
    model.word_totals.clear()
    model.word_totals.update(model.vocabulary)
    for _ in range(2):
        assert model.explain(normal, "self_harm") == first
        assert len(model.word_totals) <= len(model.vocabulary) + 3
    assert model.vocabulary.items() <= model.word_totals.items()


def test_a_message_scores_as_the_sum_of_its_words_features(model: triage_model.Model) -> None:
    """The scorer adds one remembered total per word: that must be exactly every feature of
    the message counted as often as it occurs (what the model was trained on), repeated and
    negated words included, whether the words' totals are remembered or not."""
    normal = normalise("ik ik wil niet meer leven, de brug de brug | morgen zzqx ben ik weg")
    counts = features.features(normal, model.negation)
    assert counts.most_common(1)[0][1] > 1
    expected = sum(
        count * model.packed.get(name, triage_model.UNKNOWN) for name, count in counts.items()
    )
    model.word_totals.clear()
    assert model.total(normal) == expected
    assert model.total(normal) == expected


def _weighed_words(model: triage_model.Model, normal: str, category: str) -> set[str]:
    """The words `explain` should pick, computed the slow way its docstring describes: each
    word's own features looked up one by one, plus half of each word pair it is in."""
    shift = triage_model.FIELD_BITS * (model.categories.index(category) + triage_model.FIRST_WEIGHT)

    def weight(name: str) -> int:
        value = model.packed.get(name)
        return (
            0
            if value is None
            else ((value >> shift) & triage_model.FIELD_MASK) - triage_model.OFFSET
        )

    words = [word for word, _, _ in features.tokens(normal)]
    keys, _ = features.keys(normal, model.negation)
    share = [float(sum(map(weight, features.key_features(key)))) for key in keys]
    for place in range(1, len(words)):
        if "|" not in (words[place - 1], words[place]):
            half = weight(f"{features.BIGRAM_PREFIX}{words[place - 1]} {words[place]}") / 2
            share[place - 1] += half
            share[place] += half
    ranked = sorted((value, place) for place, value in enumerate(share) if value > 0)
    top = ranked[-1][0] if ranked else 0.0
    return {
        words[place]
        for value, place in ranked[-triage_model.EXPLAIN_WORDS :]
        if value >= top * triage_model.EXPLAIN_SHARE
    }


@pytest.mark.parametrize(
    "text",
    [
        "ik heb al mn pillen gespaard voor vanavond, sorry voor alles",
        "heb niet meer zoveel zin in alles. | morgen ben ik er niet meer",
        "i gave away all my stuff, wont need it where im going",
        "als ik hem tegenkom is hij dood, ik zweer het",
        "ben moe. niet van werk. moe van leven eigenlijk",
    ],
)
def test_an_explanation_picks_the_words_that_weigh_most(
    model: triage_model.Model, text: str
) -> None:
    """Words and word pairs are weighed from the remembered totals and the pairs the score
    built; the words chosen are those of the slow, feature-by-feature reckoning."""
    normal = normalise(text)
    for category in ("self_harm", "violence"):
        spans = model.explain(normal, category)
        chosen = {word for start, end in spans for word in normal[start:end].split()}
        assert chosen == _weighed_words(model, normal, category), (text, category)


@pytest.mark.parametrize("bound", [None, 100])
def test_the_most_frequent_known_words_are_remembered_with_their_features_sums(
    model: triage_model.Model, monkeypatch: pytest.MonkeyPatch, bound: int | None
) -> None:
    """The totals worked out at load are those of the VOCABULARY_WORDS most frequent words
    the model knows by name (the shipped bound, and a small one), each the sum of that
    word's features as training counted them (a wrong total would change every score of a
    message with that word, and only in a fresh process)."""
    if bound is not None:
        monkeypatch.setattr(triage_model, "VOCABULARY_WORDS", bound)
        model = dataclasses.replace(model, word_totals={}, vocabulary={})
    prefix = features.WORD_PREFIX

    def idf2(word: str) -> int:
        return (model.packed[prefix + word] >> triage_model.FIELD_BITS) & triage_model.FIELD_MASK

    known = {name.removeprefix(prefix) for name in model.packed if name.startswith(prefix)}
    assert len(model.vocabulary) == min(triage_model.VOCABULARY_WORDS, len(known))
    assert set(model.vocabulary) <= known
    rarest_kept = max(map(idf2, model.vocabulary))
    assert all(idf2(word) >= rarest_kept for word in known - set(model.vocabulary))
    for word, total in model.vocabulary.items():
        names = features.key_features(word)
        assert total == sum(model.packed.get(name, triage_model.UNKNOWN) for name in names)
