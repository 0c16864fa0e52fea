"""Synthetic MOT-shaped records at scale, for the loading benchmarks.

The license mix follows the bundled MOT records: the release-level licenses (distribution / code / data /
document) are drawn from the bundled records' own combinations, and for each of the 17 components its
presence and its own ``license`` key from that component's empirical frequencies. Deterministic: the same
seed gives the same records.

    python -m bench.synthetic --count 10000 --out /tmp/synthetic-10k     # YAML files in a folder
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from loaders.bundled_data import data_file

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass(frozen=True)
class Distribution:
    release_licenses: tuple[dict, ...]  # the bundled records' release.license mappings (with repetition)
    components: tuple[str, ...]  # component names in MOT order
    presence: dict[str, float]  # P(component listed)
    own_license: dict[str, float]  # P(component has its own license key | listed)
    own_values: dict[str, tuple[str, ...]]  # observed own license values (with repetition)
    producers: tuple[str, ...]
    types: tuple[str, ...]
    architectures: tuple[str, ...]


@cache
def bundled_distribution() -> Distribution:
    records = [yaml.load(p.read_text(encoding="utf-8"), Loader=_Loader)
               for p in sorted(data_file("mot", "models").glob("*.yml"))]
    listed: Counter[str] = Counter()
    owned: Counter[str] = Counter()
    own_values: dict[str, list[str]] = {}
    order: list[str] = []
    release_licenses = []
    for rec in records:
        release = rec["release"]
        release_licenses.append(release.get("license") or {})
        for comp in release.get("components") or []:
            name = comp["name"]
            if name not in order:
                order.append(name)
            listed[name] += 1
            if "license" in comp:
                owned[name] += 1
                own_values.setdefault(name, []).append(str(comp["license"]) if comp["license"] is not None else "")
    n = len(records)
    return Distribution(
        release_licenses=tuple(release_licenses),
        components=tuple(order),
        presence={c: listed[c] / n for c in order},
        own_license={c: owned[c] / listed[c] for c in order},
        own_values={c: tuple(v) for c, v in own_values.items()},
        producers=tuple(str(r["release"].get("producer") or "Unknown") for r in records),
        types=tuple(str(r["release"].get("type") or "language") for r in records),
        architectures=tuple(str(r["release"].get("architecture") or "transformer") for r in records),
    )


def synthetic_record(i: int, rng: random.Random, dist: Distribution) -> dict:
    size = rng.choice(["1B", "3B", "7B", "8B", "13B", "34B", "70B"])
    name = f"Synth-{i:06d}-{size}"
    components = []
    for comp in dist.components:
        if rng.random() >= dist.presence[comp]:
            continue
        entry = {"name": comp, "description": f"{comp} of {name}"}
        if comp in dist.own_values and rng.random() < dist.own_license[comp]:
            entry["license"] = rng.choice(dist.own_values[comp])
        components.append(entry)
    if not components:
        components.append({"name": dist.components[0], "description": "architecture"})
    producer = rng.choice(dist.producers)
    return {
        "framework": {"name": "Model Openness Framework", "version": "1.0", "date": "2024-12-15"},
        "release": {
            "name": name,
            "version": size,
            "date": f"20{rng.randint(19, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "type": rng.choice(dist.types),
            "architecture": rng.choice(dist.architectures),
            "origin": f"Synth-{i % 997}",
            "producer": producer,
            "contact": "",
            "repository": f"https://github.com/synthetic-org-{i % 1000}/{name}",
            "huggingface": f"https://huggingface.co/synthetic-org-{i % 1000}/{name}",
            "license": rng.choice(dist.release_licenses),
            "components": components,
        },
    }


def synthetic_texts(count: int, seed: int = 20240601, start: int = 0) -> Iterator[tuple[str, str]]:
    """(record name, YAML text) for records ``start`` .. ``start + count - 1`` of the seeded sequence."""
    dist = bundled_distribution()
    for i in range(start, start + count):
        rng = random.Random(seed * 1_000_003 + i)  # per-record seed: any slice is reproducible on its own
        rec = synthetic_record(i, rng, dist)
        yield rec["release"]["name"], yaml.dump(rec, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


def write_folder(count: int, out: Path, seed: int = 20240601) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for name, text in synthetic_texts(count, seed):
        (out / f"{name}.yml").write_text(text, encoding="utf-8")
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    write_folder(args.count, args.out, args.seed)
    print(f"wrote {args.count} records to {args.out}")


if __name__ == "__main__":
    main()
