"""One scanner over every detector: injection, PII and secrets, hallucination risk."""

from __future__ import annotations

from functools import cache
from typing import Final

from ... import semconv
from ._engine import utf8
from ._model import Finding, ScanResult
from .hallucination import HallucinationAnalyzer
from .injection import InjectionDetector
from .pii import PiiDetector
from .rules import RuleSet, RulesFileError, load_rules

__all__ = ["ASSESS_LIMIT", "DIRECTIONS", "Scanner", "build_scanner"]

DIRECTIONS: Final = (semconv.SECURITY_DIRECTION_INPUT, semconv.SECURITY_DIRECTION_OUTPUT)
ASSESS_LIMIT: Final = 65_536
"""Characters of an answer whose claims are judged for hallucination risk."""


class Scanner:
    """Scans texts with one :class:`RuleSet`; safe to share between threads."""

    __slots__ = ("hallucination", "injection", "pii", "rules")

    def __init__(self, rules: RuleSet, *, engine: str | None = None) -> None:
        self.rules = rules
        self.injection = InjectionDetector(
            rules.injection_rules,
            bias=rules.bias,
            threshold=rules.threshold,
            signals=rules.signals,
            disabled=rules.disabled,
            engine=engine,
        )
        self.pii = PiiDetector(list(rules.pii_rules), engine=engine)
        self.hallucination = HallucinationAnalyzer(rules.hallucination_rules, engine=engine)

    @property
    def version(self) -> str:
        """The version of the rules in force."""
        return self.rules.version

    def scan(
        self,
        text: str,
        direction: str = semconv.SECURITY_DIRECTION_INPUT,
        *,
        domain: str | None = None,
        confidence: float | None = None,
        infer_domain: bool = True,
    ) -> ScanResult:
        """Scan ``text`` sent to a model (``input``) or received from one (``output``).

        An input is scored for injection and searched for PII and secrets, and its domain
        classified. An output is searched for PII and secrets, and its hallucination risk
        judged in ``domain`` (the request's; the answer's own when not given, unless
        ``infer_domain`` is False: an everyday request keeps any answer low-risk), with
        its ``confidence`` when known.
        """
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be 'input' or 'output', not {direction!r}")
        data = utf8(text)  # what every engine pass reads
        pii = self.pii.find(text, data=data)
        if direction == semconv.SECURITY_DIRECTION_INPUT:
            verdict = self.injection.scan(text, data=data)
            findings = _sorted([*verdict.findings, *pii])
            return ScanResult(
                direction=direction,
                findings=findings,
                injection=verdict.injection,
                injection_score=verdict.score,
                domain=(
                    self.hallucination.domain_of(text, data=data) if domain is None else domain
                ),
                rules_version=self.rules.version,
            )
        if domain is None and infer_domain:
            domain = self.hallucination.domain_of(text, data=data)
        # the claims of an answer are judged on its first 64 KB (PII is searched in all)
        risk, signals = self.hallucination.assess(text[:ASSESS_LIMIT], domain, confidence)
        if risk == semconv.SEVERITY_LOW:
            signals = []  # specifics in a low-risk answer are not findings
        return ScanResult(
            direction=direction,
            findings=_sorted([*pii, *signals]),
            hallucination_risk=risk,
            domain=domain,
            rules_version=self.rules.version,
        )

    def redact(self, text: str) -> str:
        """``text`` with its PII and secrets replaced by typed placeholders."""
        return self.pii.redact(text)


def _sorted(findings: list[Finding]) -> tuple[Finding, ...]:
    if len(findings) < 2:
        return tuple(findings)
    return tuple(sorted(findings, key=_position))


def _position(finding: Finding) -> tuple[int, int]:
    return finding.start, finding.end


def build_scanner(path: str | None, *, engine: str | None = None) -> Scanner:
    """A scanner of the packaged rules and the user rules file at ``path``, whose own
    rules' examples have been checked. Raises :class:`RulesFileError`. Without a file,
    the one packaged scanner is shared (it is immutable and thread-safe)."""
    if path is None:
        return _packaged_scanner(engine)
    rules = load_rules(path)
    try:
        scanner = Scanner(rules, engine=engine)
    except ValueError as error:
        raise RulesFileError(f"rules file {path}: {error}" if path else str(error)) from None
    if path is not None:
        _check_examples(scanner, path)
    return scanner


@cache
def _packaged_scanner(engine: str | None) -> Scanner:
    return Scanner(load_rules(None), engine=engine)


def _check_examples(scanner: Scanner, path: str) -> None:
    """Refuse a rules file whose rules fail their own examples (checked for every rule
    in force: the file's vocabulary, threshold and rules are in force for all)."""
    for rule in scanner.injection.rules:
        for example in rule.examples_match:
            if rule.id not in scanner.injection.scan(example).evidence:
                raise RulesFileError(
                    f"rules file {path}: rule {rule.id}: example {example!r} does not match"
                )
        for example in rule.examples_no_match:
            if rule.id in scanner.injection.scan(example).evidence:
                raise RulesFileError(
                    f"rules file {path}: rule {rule.id}: no_match example {example!r} matches"
                )
    for pii_rule in scanner.rules.pii_rules:
        examples = pii_rule.examples
        for example in examples.get("match", ()):
            if not any(f.rule_id == pii_rule.id for f in scanner.pii.find(example)):
                raise RulesFileError(
                    f"rules file {path}: rule {pii_rule.id}: example {example!r} does not match"
                )
        for example in examples.get("no_match", ()):
            if any(f.rule_id == pii_rule.id for f in scanner.pii.find(example)):
                raise RulesFileError(
                    f"rules file {path}: rule {pii_rule.id}: no_match example {example!r} matches"
                )
