"""Property tests: random and mutated records (starting from real bundled files and the fixtures) fed to
every loader through ``load_text`` with each kind. A loader never raises anything but RecordError, and a
record it accepts always converts to store quads (pyoxigraph validates every IRI and literal)."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders.bundled_data import data_file
from loaders.detect import load_text
from loaders.errors import RecordError
from loaders.record import LoadedRecord
from loaders.vocab import Minter
from server.store import graph_quads

MINTER = Minter()
FIXTURES = Path(__file__).parent / "data" / "loaders"
MOT_FILES = ["Amber.yml", "Galactica.yml", "OLMo-7B.yml", "Llama-2-7B.yml", "Pythia-6.9B.yml"]
INDEX_FILES = ["AMD OLMo.yaml", "BELLE.yaml", "Zephyr.yaml", "SynLogic.yaml"]
KINDS = ["yaml", "json", "json-ld", "turtle", "nt", "markdown"]
FUZZ = settings(max_examples=100, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


SEEDS: dict[str, tuple[str, str]] = {}  # file name -> (text, kind)
for _name in MOT_FILES:
    SEEDS[_name] = (_read(data_file("mot", "models", _name)), "yaml")
for _name in INDEX_FILES:
    SEEDS[_name] = (_read(data_file("osai-index", "models", _name)), "yaml")
SEEDS["README.md"] = (_read(FIXTURES / "tiny-llama-adapter" / "README.md"), "markdown")
SEEDS["hub_api.json"] = (_read(FIXTURES / "hub_api.json"), "json")
SEEDS["native_record.ttl"] = (_read(FIXTURES / "native_record.ttl"), "turtle")
SEEDS["native_record.jsonld"] = (_read(FIXTURES / "native_record.jsonld"), "json-ld")


def check(text: str, file_name: str, kind: str | None) -> LoadedRecord | None:
    """The property: RecordError, or a record whose graph converts to quads."""
    try:
        record = load_text(text, file_name, MINTER, kind=kind)
    except RecordError as exc:
        assert exc.file == file_name
        assert exc.line is None or exc.line >= 1
        return None
    assert isinstance(record, LoadedRecord)
    quads = list(graph_quads(record.graph, record.graph_iri))
    assert len(quads) == len(record.graph)
    return record


# --- mutation of parsed data -------------------------------------------------------------------------------

weird_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                    weird_text, st.dates())
license_strings = st.one_of(
    st.sampled_from(["MIT", "Apache 2.0", "apache-2.0", "GPL-3.0", "Llama 2 Community License", "unlicensed",
                     "Component not included", "CC BY-SA 4.0", "MIT OR Apache-2.0", "(MIT AND", "other",
                     "https://example.org/license", "LicenseRef-foo", "Apache-2.0 WITH LLVM-exception", "",
                     "  ", "NOASSERTION", "MIT AND (BSD-3-Clause OR", "Llama 3.1 License Agreement"]),
    weird_text)


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from paths(value, (*prefix, i))


def get(node, path):
    for key in path:
        node = node[key]
    return node


@st.composite
def mutated(draw, data):
    """Apply 1-4 random mutations to a copy of ``data``."""
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 4))):
        all_paths = [p for p in paths(data) if p]
        if not all_paths:
            break
        path = draw(st.sampled_from(all_paths))
        parent, key = get(data, path[:-1]), path[-1]
        op = draw(st.sampled_from(["delete", "retype", "unicode", "license", "duplicate", "container"]))
        if op == "delete":
            del parent[key]
        elif op == "retype":
            parent[key] = draw(scalars)
        elif op == "unicode":
            value = parent[key]
            parent[key] = (str(value) if not isinstance(value, dict | list) else "") + draw(weird_text)
        elif op == "license":
            target = parent[key] if isinstance(parent[key], dict) else parent
            if isinstance(target, dict):
                target[draw(st.sampled_from(["license", "name", "endmodellicense", "license_name"]))] = \
                    draw(license_strings)
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        elif op == "container":
            parent[key] = draw(st.sampled_from([[], {}, [None], {"name": None}, [[[]]]]))
    # duplicate components sometimes, as a whole
    release = data.get("release") if isinstance(data, dict) else None
    if isinstance(release, dict) and isinstance(release.get("components"), list) and release["components"]:
        if draw(st.booleans()):
            release["components"].append(copy.deepcopy(draw(st.sampled_from(release["components"]))))
    return data


YAML_SEEDS = [n for n, (_, kind) in SEEDS.items() if kind == "yaml"]


@FUZZ
@given(st.data())
def test_mutated_yaml_records(data):
    name = data.draw(st.sampled_from(YAML_SEEDS))
    parsed = yaml.safe_load(SEEDS[name][0])
    changed = data.draw(mutated(parsed))
    text = yaml.safe_dump(changed, allow_unicode=True, sort_keys=False)
    check(text, name, "yaml")


@FUZZ
@given(st.data())
def test_mutated_hf_cards(data):
    readme = SEEDS["README.md"][0]
    front = yaml.safe_load(readme.split("---")[1])
    changed = data.draw(mutated(front))
    text = "---\n" + yaml.safe_dump(changed, allow_unicode=True) + "---\n# card\n"
    check(text, "fuzz-card/README.md", "markdown")
    hub = json.loads(SEEDS["hub_api.json"][0])
    changed_hub = data.draw(mutated(hub))
    check(json.dumps(changed_hub, default=str), "hub_api.json", "json")


@FUZZ
@given(st.data())
def test_mutated_jsonld(data):
    doc = json.loads(SEEDS["native_record.jsonld"][0])
    changed = data.draw(mutated(doc))
    check(json.dumps(changed, default=str), "native.jsonld", "json-ld")


@FUZZ
@given(name=st.sampled_from(sorted(SEEDS)), fraction=st.floats(0, 1), kind=st.sampled_from([None, *KINDS]))
def test_truncated_files(name, fraction, kind):
    text, _ = SEEDS[name]
    cut = text[: int(len(text) * fraction)]
    file_name = name if kind is None else f"cut-{name}"
    check(cut, file_name, kind)


@FUZZ
@given(name=st.sampled_from(sorted(SEEDS)), position=st.floats(0, 1), insert=weird_text,
       kind=st.sampled_from([None, *KINDS]))
def test_random_unicode_inserted(name, position, insert, kind):
    text, _ = SEEDS[name]
    at = int(len(text) * position)
    check(text[:at] + insert + text[at:], name, kind)


@FUZZ
@given(text=st.text(max_size=300), kind=st.sampled_from(KINDS))
def test_random_text_every_kind(text, kind):
    check(text, "random.bin", kind)


@FUZZ
@given(license=license_strings, component=st.sampled_from(["Model card", "Datasets", "Training code"]))
def test_random_license_strings_in_mot(license, component):
    text = SEEDS["Amber.yml"][0]
    data = yaml.safe_load(text)
    data["release"]["license"]["distribution"]["name"] = license
    for c in data["release"]["components"]:
        if c["name"] == component:
            c["license"] = license
    record = check(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "Amber.yml", "yaml")
    assert record is not None  # any license string is kept (as og:licenseStatement), never refused


def test_yaml_alias_bombs_refused_quickly():
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 12):
        levels.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    bomb = "\n".join(levels) + "\n"
    mot_bomb = ("framework: {name: Model Openness Framework, version: '1.0', date: '2024-12-15'}\n"
                "release:\n  name: x\n  components: []\n  bomb:\n    " + "\n    ".join(levels) + "\n")
    card_bomb = "---\n" + bomb + "license: mit\n---\n"
    for text, name in ((bomb, "bomb.yml"), (mot_bomb, "mot-bomb.yml"), (card_bomb, "bomb/README.md")):
        started = time.perf_counter()
        try:
            load_text(text, name, MINTER)
        except RecordError as exc:
            assert "alias bomb" in exc.message
        else:
            raise AssertionError(f"{name}: an alias bomb was accepted")
        assert time.perf_counter() - started < 2.0
