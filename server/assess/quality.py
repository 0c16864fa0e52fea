"""Views over consolidated release results: the ``openness releases`` listing and the curators' work list
(``openness quality``, ``/quality``): unverified claims, conflicts between sources, open-washing and records
tied to nothing else."""

from __future__ import annotations

from collections import Counter

RELEASE_KEYS = ("id", "name", "family", "records", "released", "verdicts", "conflicts", "flags")


def release_entry(result: dict) -> dict:
    """One release as ``openness releases --format json`` prints it (product.md)."""
    return {key: result[key] for key in RELEASE_KEYS}


def release_line(result: dict) -> str:
    """One release on one line: id, name, records, the binary verdicts and MOF class, flag kinds."""
    v = result["verdicts"]
    parts = [f"{d}={v[d]['verdict']}" for d in ("osaid-1.0", "owd-0.3", "fsf-free-ml", "eu-ai-act-foss") if d in v]
    if "mof-1.0" in v:
        parts.insert(1, f"mof-1.0=class {v['mof-1.0']['class']}")
    flags = Counter(f["kind"] for f in result["flags"])
    flagged = ("  flags: " + ", ".join(f"{k}" + (f" x{n}" if n > 1 else "") for k, n in sorted(flags.items()))
               if flags else "")
    return f"{result['id']} ({', '.join(result['records'])}): " + "  ".join(parts) + flagged


def unmatched_records(results: list[dict]) -> list[str]:
    """Records that are the only record of their release, in a family of one release: nothing ties them to
    another source or release, so curators may want to look for a match."""
    per_family = Counter(r["family"] for r in results)
    return sorted(r["described_by"][0] for r in results
                  if len(r["described_by"]) == 1 and per_family[r["family"]] == 1)


def quality_report(results: list[dict]) -> dict:
    """The curators' work list, from every release's consolidated result."""
    report: dict[str, list] = {"unverified_claims": [], "conflicts": [], "open_washing": [],
                               "license_conflicts_with_base": []}
    section = {"unverified-claim": "unverified_claims", "conflict": "conflicts", "open-washing": "open_washing",
               "license-conflict-with-base": "license_conflicts_with_base"}
    for result in results:
        for flag in result["flags"]:
            report[section[flag["kind"]]].append({"release": result["id"], **flag})
    report["unmatched_records"] = unmatched_records(results)
    report["counts"] = {name: len(items) for name, items in report.items()}
    return report


def quality_text(report: dict) -> str:
    lines = []
    titles = (("unverified_claims", "Unverified claims"), ("conflicts", "Conflicts between sources"),
              ("open_washing", "Open-washing"), ("license_conflicts_with_base", "License conflicts with the base"))
    for key, title in titles:
        lines.append(f"{title} ({len(report[key])})")
        lines += [f"  {item['release']}: {item['message']}" for item in report[key]]
    lines.append(f"Unmatched records ({len(report['unmatched_records'])})")
    lines += [f"  {rid}" for rid in report["unmatched_records"]]
    return "\n".join(lines)
