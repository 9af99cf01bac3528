"""``openai-sentinel scan``: scan text for injection, PII and secrets, or measure the
detectors on labelled data (``--evaluate DIR``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from .analyzers.security._model import ScanResult
from .analyzers.security.rules import RulesFileError
from .analyzers.security.scanner import Scanner, build_scanner

__all__ = ["DESCRIPTION", "add_arguments", "run"]

DESCRIPTION: Final = """\
Scan a text (a file, or - / nothing for standard input) as a prompt (--direction input,
the default) or an answer (--direction output): prints the findings and exits with 1
when something is flagged, 0 otherwise. With --evaluate DIR, reads the labelled JSON
Lines files of DIR instead and reports injection recall and false-positive rate per
source (records with "text", "label": injection|benign, "source"), PII precision and
recall per entity (records with "spans": [{entity_type, start, end}]), and golden
vectors (records with "entity_type" and "expected_count"); texts are never printed.
"""
_PII_ENTITIES: Final = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "US_SSN",
    "IBAN_CODE",
    "IP_ADDRESS",
)
_SWEEP: Final = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``scan``."""
    parser.add_argument("file", nargs="?", default="-", help="text to scan (default: stdin)")
    parser.add_argument(
        "--direction", choices=("input", "output"), default="input", help="prompt or answer"
    )
    parser.add_argument(
        "--domain", choices=("medical", "legal", "financial"), help="the request's domain (output)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--rules", metavar="FILE", help="a user rules file to add")
    parser.add_argument(
        "--evaluate", metavar="DIR", help="measure the detectors on the labelled JSONL files of DIR"
    )


def run(args: argparse.Namespace) -> int:
    """Run ``scan``; returns the exit status."""
    try:
        scanner = build_scanner(args.rules)
    except RulesFileError as error:
        print(f"openai-sentinel scan: {error}", file=sys.stderr)
        return 2
    if args.evaluate:
        return _evaluate(scanner, Path(args.evaluate), as_json=args.json)
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"openai-sentinel scan: cannot read {args.file}: {error}", file=sys.stderr)
        return 2
    result = scanner.scan(text, args.direction, domain=args.domain)
    print(_as_json(result) if args.json else _as_table(result))
    return 1 if result.flagged else 0


def _as_json(result: ScanResult) -> str:
    return json.dumps(
        {
            "direction": result.direction,
            "flagged": result.flagged,
            "injection": result.injection,
            "injection_score": round(result.injection_score, 4),
            "hallucination_risk": result.hallucination_risk,
            "domain": result.domain,
            "categories": list(result.categories),
            "rules_version": result.rules_version,
            "findings": [
                {
                    "category": f.category,
                    "rule_id": f.rule_id,
                    "severity": f.severity,
                    "start": f.start,
                    "end": f.end,
                    "entity": f.entity,
                }
                for f in result.findings
            ],
        },
        indent=2,
    )


def _as_table(result: ScanResult) -> str:
    lines = [
        f"direction: {result.direction}   rules: {result.rules_version}",
        f"injection: {'YES' if result.injection else 'no'} "
        f"(score {result.injection_score:.3f})   hallucination risk: {result.hallucination_risk}"
        + (f"   domain: {result.domain}" if result.domain else ""),
    ]
    if not result.findings:
        lines.append("no findings")
        return "\n".join(lines)
    header = f"{'category':<18} {'severity':<9} {'offsets':<14} {'entity':<16} rule"
    lines += [header, "-" * len(header)]
    for f in result.findings:
        offsets = f"{f.start}-{f.end}"
        lines.append(
            f"{f.category:<18} {f.severity:<9} {offsets:<14} {f.entity or '':<16} {f.rule_id}"
        )
    return "\n".join(lines)


class _BadRecord(ValueError):
    """A labelled file has a line that is not a JSON object."""


def _records(directory: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(directory.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError as error:
                    raise _BadRecord(f"{path.name} line {number}: {error}") from None
                if not isinstance(record, dict):
                    raise _BadRecord(f"{path.name} line {number}: not a JSON object")
                yield path.name, record


def _evaluate(scanner: Scanner, directory: Path, *, as_json: bool) -> int:
    if not directory.is_dir():
        print(
            f"openai-sentinel scan: --evaluate needs a directory, not {directory}", file=sys.stderr
        )
        return 2
    injection: dict[tuple[str, str], list[float]] = defaultdict(list)
    pii_counts: dict[str, Counter[str]] = defaultdict(Counter)
    golden: Counter[str] = Counter()
    try:
        _read_labelled(scanner, directory, injection, pii_counts, golden)
    except (_BadRecord, OSError, UnicodeDecodeError) as error:
        print(f"openai-sentinel scan: --evaluate: {error}", file=sys.stderr)
        return 2
    report = _report(scanner, injection, pii_counts, golden)
    print(json.dumps(report, indent=2) if as_json else _report_table(report))
    return 0


def _read_labelled(
    scanner: Scanner,
    directory: Path,
    injection: dict[tuple[str, str], list[float]],
    pii_counts: dict[str, Counter[str]],
    golden: Counter[str],
) -> None:
    for _name, record in _records(directory):
        text = record.get("text")
        if not isinstance(text, str):
            continue
        label = record.get("label")
        if isinstance(record.get("spans"), list):
            _score_pii(scanner, text, record["spans"], pii_counts)
        elif "expected_count" in record:
            right = _golden_right(scanner, text, record)
            if right is not None:
                golden["right" if right else "wrong"] += 1
        elif label in ("injection", "benign"):
            score = scanner.injection.scan(text).score
            injection[(str(record.get("source", "?")), str(label))].append(score)


def _score_pii(
    scanner: Scanner, text: str, spans: list[dict[str, Any]], counts: dict[str, Counter[str]]
) -> None:
    found = [f for f in scanner.pii.find(text) if f.entity in _PII_ENTITIES]
    gold = [
        s
        for s in spans
        if isinstance(s, dict)
        and s.get("entity_type") in _PII_ENTITIES
        and isinstance(s.get("start"), int)
        and isinstance(s.get("end"), int)
    ]
    for span in gold:
        hit = any(
            f.entity == span["entity_type"] and f.start < span["end"] and span["start"] < f.end
            for f in found
        )
        counts[span["entity_type"]]["tp" if hit else "fn"] += 1
    for f in found:
        right = any(
            f.entity == s["entity_type"] and f.start < s["end"] and s["start"] < f.end for s in gold
        )
        if not right:
            counts[str(f.entity)]["fp"] += 1


def _golden_right(scanner: Scanner, text: str, record: dict[str, Any]) -> bool | None:
    entity = record.get("entity_type")
    if entity not in _PII_ENTITIES:
        return None
    found = [(f.start, f.end) for f in scanner.pii.find(text) if f.entity == entity]
    if len(found) != record["expected_count"]:
        return False
    expected = [tuple(span) for span in record.get("expected_spans") or ()]
    return not expected or sorted(expected) == sorted(found)


def _report(
    scanner: Scanner,
    injection: dict[tuple[str, str], list[float]],
    pii_counts: dict[str, Counter[str]],
    golden: Counter[str],
) -> dict[str, Any]:
    threshold = scanner.rules.threshold
    sources = []
    for (source, label), scores in sorted(injection.items()):
        flagged = sum(1 for score in scores if score >= threshold)
        sources.append(
            {
                "source": source,
                "label": label,
                "records": len(scores),
                "flagged": flagged,
                "recall" if label == "injection" else "false_positive_rate": round(
                    flagged / len(scores), 4
                ),
            }
        )
    positives = [
        s for (_, label), scores in injection.items() if label == "injection" for s in scores
    ]
    negatives = [s for (_, label), scores in injection.items() if label == "benign" for s in scores]
    sweep = [
        {
            "threshold": t,
            "recall": round(sum(s >= t for s in positives) / len(positives), 4)
            if positives
            else None,
            "false_positive_rate": round(sum(s >= t for s in negatives) / len(negatives), 4)
            if negatives
            else None,
        }
        for t in _SWEEP
    ]
    entities = {}
    for entity, c in sorted(pii_counts.items()):
        tp, fp, fn = c["tp"], c["fp"], c["fn"]
        entities[entity] = {
            "true_positives": tp,
            "false_positives": fp,
            "false_negatives": fn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        }
    return {
        "rules_version": scanner.version,
        "threshold": threshold,
        "injection": sources,
        "injection_overall": {
            "recall": round(sum(s >= threshold for s in positives) / len(positives), 4)
            if positives
            else None,
            "false_positive_rate": round(sum(s >= threshold for s in negatives) / len(negatives), 4)
            if negatives
            else None,
        },
        "threshold_sweep": sweep if positives or negatives else [],
        "pii": entities,
        "golden_vectors": dict(golden),
    }


def _report_table(report: dict[str, Any]) -> str:
    lines = [f"rules {report['rules_version']}, injection threshold {report['threshold']}"]
    if report["injection"]:
        lines += ["", f"{'source':<45} {'label':<10} {'records':>7} {'flagged':>7} {'rate':>7}"]
        for row in report["injection"]:
            rate = row.get("recall", row.get("false_positive_rate"))
            lines.append(
                f"{row['source'][:45]:<45} {row['label']:<10} {row['records']:>7} "
                f"{row['flagged']:>7} {rate:>7.1%}"
            )
        overall = report["injection_overall"]
        lines.append(
            f"overall: recall {_percent(overall['recall'])}, "
            f"false-positive rate {_percent(overall['false_positive_rate'])}"
        )
        lines += ["", "threshold  recall  false-positive rate"]
        for row in report["threshold_sweep"]:
            lines.append(
                f"{row['threshold']:>9}  {_percent(row['recall']):>6}  "
                f"{_percent(row['false_positive_rate']):>6}"
            )
    if report["pii"]:
        lines += [
            "",
            f"{'entity':<15} {'precision':>9} {'recall':>7} {'tp':>5} {'fp':>4} {'fn':>4}",
        ]
        for entity, row in report["pii"].items():
            lines.append(
                f"{entity:<15} {_percent(row['precision']):>9} {_percent(row['recall']):>7} "
                f"{row['true_positives']:>5} {row['false_positives']:>4} "
                f"{row['false_negatives']:>4}"
            )
    if report["golden_vectors"]:
        golden = report["golden_vectors"]
        lines += [
            "",
            f"golden vectors: {golden.get('right', 0)} right, {golden.get('wrong', 0)} wrong",
        ]
    return "\n".join(lines)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"
