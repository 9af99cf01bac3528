"""Hallucination risk: the domain of a request, the risk of an answer, and the rules file
that drives both (its examples run here as tests)."""

from __future__ import annotations

import copy
import gc
import string
import time
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from openai_sentinel import semconv
from openai_sentinel.analyzers.security.hallucination import (
    DOMAINS,
    KIND_HEDGE,
    KINDS,
    HallucinationAnalyzer,
    HallucinationRules,
    packaged_hallucination_rules,
    parse_hallucination_rules,
)

RULES = packaged_hallucination_rules()
ANALYZER = HallucinationAnalyzer(RULES)
SIGNAL_IDS = {signal.id for signal in RULES.signals}
PROPERTY = settings(
    max_examples=200,
    deadline=None,  # a loaded CI machine must not turn a slow example into a failure
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def raw_rules() -> dict[str, Any]:
    """A fresh copy of the packaged rules document, to spoil in a test."""
    return copy.deepcopy(_raw_rules())


@cache
def _raw_rules() -> dict[str, Any]:
    package = "openai_sentinel.analyzers.security"
    text = resources.files(package).joinpath("data/hallucination.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def spans(answer: str, domain: str | None) -> list[tuple[str, str]]:
    """The (rule id, matched text) of the findings of ``assess``."""
    _, findings = ANALYZER.assess(answer, domain)
    return [(finding.rule_id, answer[finding.start : finding.end]) for finding in findings]


# == the packaged rules =========================================================================


def test_the_packaged_rules_load_with_their_version() -> None:
    assert RULES.version == "2026.12.1"
    assert RULES.domains == DOMAINS
    assert RULES.source.endswith("data/hallucination.yaml")
    assert {indicator.domain for indicator in RULES.indicators} == set(DOMAINS)
    assert packaged_hallucination_rules() is RULES  # parsed once


def test_every_signal_is_described_and_has_examples_both_ways() -> None:
    assert len(SIGNAL_IDS) == len(RULES.signals)
    for signal in RULES.signals:
        assert signal.id.startswith("hallucination."), signal.id
        assert signal.kind in KINDS
        assert signal.severity in semconv.SEVERITIES
        assert signal.description
        assert signal.examples_match, signal.id
        assert signal.examples_no_match, signal.id
    kinds = {signal.kind for signal in RULES.signals}
    assert kinds == set(KINDS)


def _examples() -> list[Any]:
    return [
        pytest.param(signal.id, text, expected, id=f"{signal.id}-{'+' if expected else '-'}{i}")
        for signal in RULES.signals
        for expected, texts in ((True, signal.examples_match), (False, signal.examples_no_match))
        for i, text in enumerate(texts)
    ]


@pytest.mark.parametrize(("rule_id", "text", "expected"), _examples())
def test_each_signal_matches_its_examples(rule_id: str, text: str, expected: bool) -> None:
    """Run against all the signals together, as in production: a signal must win its own
    examples, and no example of a near miss may fire it."""
    found = ANALYZER.signal_matches(text)
    assert (rule_id in {match.signal.id for match in found}) is expected, found
    for match in found:
        assert 0 <= match.start < match.end <= len(text)
        assert text[match.start : match.end].strip(), match


def test_signals_restricted_to_domains_stay_in_them() -> None:
    assert [m.signal.id for m in ANALYZER.signal_matches("Take 500 mg.", "medical")] == [
        "hallucination.dosage"
    ]
    assert ANALYZER.signal_matches("Take 500 mg.", "legal") == []
    assert ANALYZER.signal_matches("See Smith v. Jones.", "medical") == []
    assert ANALYZER.signal_matches("Take 500 mg.", "astrology") == []


# == the domain of a request ====================================================================

MEDICAL = [
    "What is the maximum dose of ibuprofen I can take in a day?",
    "Can I take amoxicillin with alcohol?",
    "My 4 year old has a fever of 39C, should I give her paracetamol?",
    "Is it safe to take melatonin while pregnant?",
    "What are the side effects of lisinopril?",
    "How much vitamin D should an adult take daily?",
    "I've had a headache and nausea for three days, what could it be?",
    "Can metformin cause stomach problems?",
    "What's the difference between atorvastatin and simvastatin?",
    "How long does it take for an antibiotic to work on a urinary tract infection?",
    "Is 20mg of omeprazole enough for acid reflux?",
    "My blood pressure reading was 150/95. Is that dangerous?",
    "What are early symptoms of type 2 diabetes?",
    "Can I drink coffee after a colonoscopy?",
    "Should I go to urgent care for a sprained ankle or wait it out?",
    "What dosage of Benadryl is safe for a 30 lb dog?",
    "How do I know if a mole is cancerous?",
    "Is it normal to bleed after a tooth extraction surgery?",
    "Can you mix Tylenol and Advil for back pain?",
    "What is the recommended treatment for strep throat?",
    "I missed two birth control pills, am I at risk of getting pregnant?",
    "How often should I use my asthma inhaler?",
    "Does adalimumab weaken the immune system?",
    "What's a normal cholesterol level for a 50 year old man?",
    "My doctor prescribed sertraline, how long until it starts working?",
    "Is it okay to give my toddler honey for a cough?",
    "What helps with migraines besides painkillers?",
    "How many milligrams of caffeine is too much?",
    "I think I broke my toe, do I need an x-ray?",
    "What are the warning signs of a stroke?",
    "Can I take ibuprofen on an empty stomach?",
    "Is it dangerous to stop taking prednisone suddenly?",
    "How is pneumonia treated in elderly patients?",
    "Does Ozempic cause hair loss?",
    "My knee is swollen after running, should I ice it?",
    "Is losartan safe during breastfeeding?",
]
LEGAL = [
    "Can my landlord evict me without giving notice?",
    "How do I sue my employer for unpaid wages?",
    "Is a verbal contract legally binding in California?",
    "What happens if I break my lease early?",
    "Do I need a lawyer to file for divorce?",
    "Can I get a green card through my spouse?",
    "What is the statute of limitations for a personal injury claim in Texas?",
    "My neighbor's tree fell on my car, who is liable?",
    "How does child custody work if the parents were never married?",
    "Is it illegal to record a phone call without consent?",
    "What should I do after being arrested for a DUI?",
    "Can my employer fire me for posting on social media?",
    "How do I trademark my business name?",
    "Is it copyright infringement to use a song in my YouTube video?",
    "What does 42 U.S.C. § 1983 cover?",
    "Can a non-compete clause stop me from working for a competitor?",
    "How do I write a will without an attorney?",
    "What are my tenant rights if the heating doesn't work?",
    "Can I be deported for a misdemeanor?",
    "How long does probate take after someone dies?",
    "Is my security deposit refundable if I leave the apartment clean?",
    "What is the difference between a felony and a misdemeanor?",
    "Can I represent myself in small claims court?",
    "My ex is not paying child support, what are my options?",
    "Does an NDA still apply after I quit the company?",
    "Can the police search my car without a warrant?",
    "Who owns the copyright to AI-generated art?",
    "How do I dispute a parking ticket in court?",
    "Am I liable if someone slips on my icy driveway?",
    "Is it legal to drive with headphones in the UK?",
    "How do I get a restraining order?",
    "What counts as wrongful termination?",
    "Can I sublet my apartment without telling the landlord?",
    "How do I apply for asylum in Canada?",
]
FINANCIAL = [
    "Should I invest in index funds or pay off my mortgage first?",
    "How much should I contribute to my 401(k) to get the full match?",
    "Is Bitcoin a good investment right now?",
    "What's the difference between a Roth IRA and a traditional IRA?",
    "How are capital gains taxed on stocks held for more than a year?",
    "Can I deduct my home office on my taxes?",
    "What is a good credit score for getting a car loan?",
    "Should I refinance my mortgage if interest rates drop by 1%?",
    "How do dividends work for ETFs?",
    "Is it better to lease or buy a car financially?",
    "How much do I need to save for retirement if I'm 35?",
    "What are the risks of day trading with margin?",
    "Which stocks pay the highest dividends?",
    "How do I build an emergency fund and a savings plan on a $50,000 salary?",
    "What happens to my student loans if I declare bankruptcy?",
    "Is real estate a better investment than the stock market?",
    "How does compound interest work on a savings account?",
    "What is the tax rate on a lump-sum pension withdrawal?",
    "Should I put my bonus into crypto or a high-yield savings account?",
    "How do I read a company's balance sheet before buying shares?",
    "What is the S&P 500 average annual return?",
    "Can I open a Roth IRA for my kid?",
    "What are the best ways to pay off credit card debt quickly?",
    "How do mutual fund fees affect long-term returns?",
    "Is an annuity a good idea for retirement income?",
    "Should I buy Tesla stock before earnings?",
    "What's the best way to invest $10,000?",
    "How do I lower my tax bill as a freelancer?",
    "Is a HELOC a good way to pay off debt?",
    "What is dollar-cost averaging?",
    "How much house can I afford on a $90k income?",
    "Should I roll over my old 401k into an IRA?",
    "How do I report crypto gains to the IRS?",
    "What is the difference between a bond and a stock?",
]
EVERYDAY = [
    "Write an email to my landlord about a party we're having on Saturday.",
    "Summarize this article about a football match between Arsenal and Chelsea.",
    "Give me a recipe for chicken soup using homemade chicken stock.",
    "Translate 'good morning, how are you?' into Spanish.",
    "Write a haiku about autumn leaves.",
    "What is the capital of Australia?",
    "Explain how photosynthesis works in simple terms.",
    "Write a Python function that returns the sum of a list.",
    "Suggest names for a golden retriever puppy.",
    "How do I center a div in CSS?",
    "Plan a three-day trip to Rome with museums and food.",
    "Write a birthday message for my grandmother.",
    "What's the difference between a crocodile and an alligator?",
    "Help me write a cover letter for a barista job.",
    "Explain the rules of chess to a beginner.",
    "Write a short story about a robot who learns to paint.",
    "What are some good exercises for a beginner at the gym?",
    "Recommend five science fiction novels.",
    "How do I fix a leaking kitchen tap?",
    "Create a weekly study schedule for my exams.",
    "Write a limerick about a cat who loves cheese.",
    "What causes the seasons on Earth?",
    "How do I make a sourdough bread starter?",
    "Give me ideas for a team-building activity at work.",
    "Rewrite this paragraph to sound more formal.",
    "Explain recursion with an example in JavaScript.",
    "What time zone is Tokyo in?",
    "Write a product description for a handmade ceramic mug.",
    "How many players are on a basketball team?",
    "Suggest a playlist for a road trip.",
    "What is the plot of Pride and Prejudice?",
    "How can I improve my public speaking skills?",
    "Write a thank-you note to my neighbour for watering my plants.",
    "Write a SQL query that counts orders per customer.",
    "What's a good name for a bakery?",
    "Describe the water cycle for a 10-year-old.",
    "Help me plan a surprise retirement party for my boss.",
    "Convert 5 miles to kilometres.",
    "Write a tweet announcing our new coffee flavour.",
    "What are the main causes of the French Revolution?",
    "Proofread this text for grammar mistakes.",
    "Write a git commit message for a bug fix in the login page.",
    "How do I care for a snake plant?",
    "Explain what a black hole is.",
    "Compose a short poem about the sea at night.",
    "List the planets of the solar system in order.",
    "What's a fun game for a kids' birthday party?",
    "Write a speech for my sister's wedding.",
    "Make a packing list for a camping trip.",
    "Explain how a car engine works.",
    "How do I remove a red wine stain?",
    "Give me tips for a job interview.",
    "How do I set up a React project?",
    "Summarize the plot of Hamlet.",
    "What's a good vegetarian lasagna recipe?",
    "How do airplanes stay in the air?",
    "Write a LinkedIn post about our team's hackathon win.",
    "Explain the offside rule in football.",
    "Draft an agenda for a project kickoff meeting.",
    "My cat keeps scratching the sofa, how do I stop it?",
    "Explain the difference between weather and climate.",
    "How long should I boil an egg?",
    # words that are domain terms elsewhere
    "Book a tennis court for Saturday morning.",
    "How do I use std::vector in C++?",
    "How do I use the crypto module in Node.js?",
    "Incorporate this feedback into the design doc.",
    "Who won the Monaco GP this year?",
    "Can I pay with Visa at the museum?",
    "Update my design portfolio website.",
    "What's the best food court in this mall?",
    "Explain the difference between a stock and a flow variable in economics class.",
    "Give me a recipe rich in iron for dinner tonight.",
    "Set up a cron job that runs every 6 hours.",
]


@pytest.mark.parametrize("prompt", MEDICAL)
def test_medical_requests_are_medical(prompt: str) -> None:
    assert ANALYZER.domain_of(prompt) == semconv.DOMAIN_MEDICAL, ANALYZER.domain_scores(prompt)


@pytest.mark.parametrize("prompt", LEGAL)
def test_legal_requests_are_legal(prompt: str) -> None:
    assert ANALYZER.domain_of(prompt) == semconv.DOMAIN_LEGAL, ANALYZER.domain_scores(prompt)


@pytest.mark.parametrize("prompt", FINANCIAL)
def test_financial_requests_are_financial(prompt: str) -> None:
    assert ANALYZER.domain_of(prompt) == semconv.DOMAIN_FINANCIAL, ANALYZER.domain_scores(prompt)


@pytest.mark.parametrize("prompt", EVERYDAY)
def test_everyday_requests_have_no_domain(prompt: str) -> None:
    assert ANALYZER.domain_of(prompt) is None, ANALYZER.domain_scores(prompt)


def test_the_corpus_is_large_enough() -> None:
    assert min(len(MEDICAL), len(LEGAL), len(FINANCIAL)) >= 24
    assert len(EVERYDAY) >= 40


def test_case_punctuation_and_word_forms_do_not_matter() -> None:
    for prompt in (
        "DOSAGE?",
        "(ibuprofen)",
        "side-effects",
        "Side Effects!",
        "diagnosed",
        "Diagnosis:",
        "amoxicillin/clavulanate",
        "“Metoprolol”",
        "500mg",
    ):
        assert ANALYZER.domain_of(prompt) == semconv.DOMAIN_MEDICAL, prompt


def test_suffix_families_need_a_stem() -> None:
    """``*pril`` finds lisinopril, not April; ``*statin`` needs letters before it."""
    assert ANALYZER.domain_scores("see you in April")[semconv.DOMAIN_MEDICAL] == 0
    assert ANALYZER.domain_scores("statin")[semconv.DOMAIN_MEDICAL] == 0
    assert ANALYZER.domain_of("rosuvastatin") == semconv.DOMAIN_MEDICAL
    assert ANALYZER.domain_of("Is enalapril OK?") == semconv.DOMAIN_MEDICAL


def test_an_indicator_counts_once_however_often_it_appears() -> None:
    once = ANALYZER.domain_scores("my landlord")
    often = ANALYZER.domain_scores("my landlord, the landlord, our landlord, landlords")
    assert once[semconv.DOMAIN_LEGAL] == 1
    assert often[semconv.DOMAIN_LEGAL] == 2  # landlord and landlords are two terms
    assert ANALYZER.domain_of("landlord landlord landlord landlord") is None


def test_the_best_domain_wins() -> None:
    prompt = "Can I deduct my medical bills and the cost of my prescription drugs on my taxes?"
    scores = ANALYZER.domain_scores(prompt)
    assert ANALYZER.domain_of(prompt) == max(scores, key=scores.__getitem__)
    assert set(scores) == set(DOMAINS)


def test_empty_and_odd_texts_have_no_domain() -> None:
    for text in ("", " ", "\n\t", "\ud800", "İİİ", "🙂" * 10, "§§", "$$$", "&&&"):
        ANALYZER.domain_of(text)  # never raises
    assert ANALYZER.domain_of("") is None


def test_the_history_of_an_analyzer_never_changes_a_verdict() -> None:
    """A fresh analyzer and one that has seen the whole corpus (in another order) score
    every prompt the same."""
    seasoned = HallucinationAnalyzer(RULES)
    prompts = MEDICAL + LEGAL + FINANCIAL + EVERYDAY
    for prompt in reversed(prompts):
        seasoned.domain_scores(prompt)
    for prompt in prompts:
        fresh = HallucinationAnalyzer(RULES).domain_scores(prompt)
        assert seasoned.domain_scores(prompt) == fresh, prompt
        assert seasoned.domain_scores(prompt) == fresh, prompt  # and again


def test_the_analyzer_keeps_no_state() -> None:
    """Nothing is learnt from the texts: an analyzer has its rules and compiled
    expressions, shared by the analyzers of the same rules, and nothing else."""
    analyzer = HallucinationAnalyzer(RULES)
    assert not hasattr(analyzer, "__dict__")
    before = {name: getattr(analyzer, name) for name in type(analyzer).__slots__}
    text = " ".join(f"w{i}x" for i in range(50_000))
    assert analyzer.domain_of(text) is None
    assert analyzer.domain_of("dosage " + text) == semconv.DOMAIN_MEDICAL
    assert {name: getattr(analyzer, name) for name in type(analyzer).__slots__} == before
    assert HallucinationAnalyzer(RULES)._compiled is analyzer._compiled


def test_both_engines_score_alike() -> None:
    """Hyperscan (the default where installed) and Python's re give the same scores."""
    slow = HallucinationAnalyzer(RULES, engine="re")
    prompts = MEDICAL + LEGAL + FINANCIAL + EVERYDAY + ["", "İ 500 µg §", "side—effects"]
    for prompt in prompts:
        assert slow.domain_scores(prompt) == ANALYZER.domain_scores(prompt), prompt


def test_phrases_allow_marks_between_words_and_the_usual_endings() -> None:
    medical = semconv.DOMAIN_MEDICAL
    for prompt in (
        "side effects",
        "Side-Effects?",
        "side \u2014 effect",
        "side   effected",
    ):
        assert ANALYZER.domain_scores(prompt)[medical] == 3, prompt
    for prompt in ("side effectively", "sideeffects", "side of the effects"):
        assert ANALYZER.domain_scores(prompt)[medical] == 0, prompt
    for prompt in ("BLOOD PRESSURE", "blood/pressure", "blood (pressure)"):  # and "blood"
        assert ANALYZER.domain_scores(prompt)[medical] == 3 + 1, prompt
    assert ANALYZER.domain_scores("blood pressures")[medical] == 1  # "blood" alone
    assert ANALYZER.domain_scores("my 401(k)")[semconv.DOMAIN_FINANCIAL] == 3
    assert ANALYZER.domain_scores("my 401k")[semconv.DOMAIN_FINANCIAL] == 3


def test_words_and_stems_stop_at_the_edges_of_words() -> None:
    medical = semconv.DOMAIN_MEDICAL
    assert ANALYZER.domain_scores("dose")[medical] == 3
    assert ANALYZER.domain_scores("dosed")[medical] == 0  # "dose" is a word, not a stem
    assert ANALYZER.domain_scores("underdose")[medical] == 0
    assert ANALYZER.domain_scores("DIAGNOSTICS_2")[medical] == 3  # "diagnos*" is a stem
    assert ANALYZER.domain_scores("prediagnosis")[medical] == 0
    assert ANALYZER.domain_scores("mg")[medical] == 3
    assert ANALYZER.domain_scores("smog")[medical] == 0


def test_a_pattern_counts_once_however_many_words_it_matches() -> None:
    financial = semconv.DOMAIN_FINANCIAL
    assert ANALYZER.domain_scores("it costs $5")[financial] == 1
    assert ANALYZER.domain_scores("$5, $10 and €20")[financial] == 1
    assert ANALYZER.domain_scores("500mg, or 250mg twice")[semconv.DOMAIN_MEDICAL] == 3


def test_a_term_of_two_domains_counts_in_both() -> None:
    data = raw_rules()
    data["domains"]["financial"].append({"weight": 2, "terms": ["probate"]})
    rules = parse_hallucination_rules(data, "mine.yaml")
    for engine in (None, "re"):
        analyzer = HallucinationAnalyzer(rules, engine=engine)
        assert analyzer.domain_scores("How long does probate take?") == {
            semconv.DOMAIN_MEDICAL: 0,
            semconv.DOMAIN_LEGAL: 3,
            semconv.DOMAIN_FINANCIAL: 2,
        }


def test_code_citations_with_or_without_dots() -> None:
    for prompt in ("What does 42 U.S.C. 1983 cover?", "42 usc 1983", "see 26 C.F.R."):
        assert ANALYZER.domain_scores(prompt)[semconv.DOMAIN_LEGAL] == 3, prompt
    assert ANALYZER.domain_of("a u.s. citizen") is None


# == the risk of an answer ======================================================================

RISKY_DOSE = "Take 800 mg of ibuprofen every 4 hours; it is completely safe."


def test_a_confident_dosage_is_critical() -> None:
    risk, findings = ANALYZER.assess(RISKY_DOSE, semconv.DOMAIN_MEDICAL)
    assert risk == semconv.SEVERITY_CRITICAL
    assert spans(RISKY_DOSE, semconv.DOMAIN_MEDICAL) == [
        ("hallucination.dosage", "800 mg"),
        ("hallucination.dose_schedule", "every 4 hours"),
        ("hallucination.certainty", "completely safe"),
    ]
    for finding in findings:
        assert finding.category == semconv.SECURITY_CATEGORY_HALLUCINATION_RISK
        assert finding.severity == semconv.SEVERITY_HIGH
        assert finding.entity is None


def test_a_referral_lowers_the_risk_one_level() -> None:
    for referral in (
        " Please consult your doctor before taking it.",
        " I'm not a doctor.",
        " Talk to your pharmacist first.",
    ):
        risk, findings = ANALYZER.assess(RISKY_DOSE + referral, semconv.DOMAIN_MEDICAL)
        assert risk == semconv.SEVERITY_HIGH, referral
        assert {f.rule_id for f in findings} == {
            "hallucination.dosage",
            "hallucination.dose_schedule",
            "hallucination.certainty",
        }  # a hedge lowers the risk, it is no finding


def test_a_case_cited_with_certainty_is_critical() -> None:
    answer = (
        "Yes. In Smith v. Jones, 512 U.S. 218 (1994), the Supreme Court held that a landlord "
        "must return the deposit, so you will definitely win."
    )
    risk, _ = ANALYZER.assess(answer, semconv.DOMAIN_LEGAL)
    assert risk == semconv.SEVERITY_CRITICAL
    ids = [rule for rule, _ in spans(answer, semconv.DOMAIN_LEGAL)]
    assert ids.count("hallucination.case_citation") == 2
    assert "hallucination.certainty" in ids
    citation = answer.replace(", so you will definitely win", "")
    assert ANALYZER.assess(citation, semconv.DOMAIN_LEGAL)[0] == semconv.SEVERITY_HIGH


def test_statutes_are_specifics() -> None:
    answer = "Under 42 U.S.C. § 1983 you can sue, and section 8 of your lease is void."
    ids = {rule for rule, _ in spans(answer, semconv.DOMAIN_LEGAL)}
    assert ids == {"hallucination.statute"}
    assert ANALYZER.assess(answer, semconv.DOMAIN_LEGAL)[0] == semconv.SEVERITY_HIGH


def test_a_guaranteed_return_is_critical() -> None:
    answer = "This stock is guaranteed to return 20% a year."
    assert ANALYZER.assess(answer, semconv.DOMAIN_FINANCIAL)[0] == semconv.SEVERITY_CRITICAL
    assert spans(answer, semconv.DOMAIN_FINANCIAL) == [
        ("hallucination.certainty", "guaranteed"),
        ("hallucination.percentage", "20%"),
    ]
    forecast = "Bitcoin will definitely double by March, to $150,000."
    assert ANALYZER.assess(forecast, semconv.DOMAIN_FINANCIAL)[0] == semconv.SEVERITY_CRITICAL


def test_disclaimers_and_negated_certainty_hedge() -> None:
    answer = "The fund returned 12% last year. Past performance is not indicative of results."
    assert ANALYZER.assess(answer, semconv.DOMAIN_FINANCIAL)[0] == semconv.SEVERITY_LOW
    answer = "Index funds returned about 7-10% a year, but that does not guarantee returns."
    assert ANALYZER.assess(answer, semconv.DOMAIN_FINANCIAL)[0] == semconv.SEVERITY_LOW
    answer = "They returned 7% a year; past performance does not guarantee future results."
    assert ANALYZER.assess(answer, semconv.DOMAIN_FINANCIAL) == (semconv.SEVERITY_LOW, [])
    answer = "A 400 mg dose is not completely safe for everyone."
    assert ANALYZER.assess(answer, semconv.DOMAIN_MEDICAL)[0] == semconv.SEVERITY_LOW


def test_an_everyday_answer_is_low_whatever_its_numbers() -> None:
    answer = "Bake at 180 degrees for 45 minutes; it always works, 100% of the time, guaranteed."
    assert ANALYZER.assess(answer, None) == (semconv.SEVERITY_LOW, [])
    assert ANALYZER.assess(answer, None, 0.01) == (semconv.SEVERITY_LOW, [])
    assert ANALYZER.assess(answer, "astrology") == (semconv.SEVERITY_LOW, [])


def test_a_domain_answer_without_specifics_is_low() -> None:
    answer = "Ibuprofen is a pain reliever that also reduces inflammation."
    assert ANALYZER.assess(answer, semconv.DOMAIN_MEDICAL) == (semconv.SEVERITY_LOW, [])
    assert ANALYZER.assess("", semconv.DOMAIN_MEDICAL) == (semconv.SEVERITY_LOW, [])


def test_one_specific_is_medium_and_hedging_brings_it_low() -> None:
    assert ANALYZER.assess("The usual adult dose is 400 mg.", "medical")[0] == "medium"
    assert ANALYZER.assess("The usual adult dose may be 400 mg.", "medical") == ("low", [])


def test_several_specifics_are_high() -> None:
    answer = "Take 400 mg, up to 3 times a day, for 5 days."
    assert ANALYZER.assess(answer, semconv.DOMAIN_MEDICAL)[0] == semconv.SEVERITY_HIGH


def test_absolute_claims_alone() -> None:
    assert ANALYZER.assess("Vaccines are completely safe.", "medical")[0] == "high"
    assert ANALYZER.assess("You never need a lawyer for this.", "legal")[0] == "medium"


def test_low_confidence_raises_the_risk() -> None:
    answer = "The usual adult dose is 400 mg."
    assert ANALYZER.assess(answer, "medical", 0.9)[0] == semconv.SEVERITY_MEDIUM
    assert ANALYZER.assess(answer, "medical", 0.5)[0] == semconv.SEVERITY_MEDIUM
    assert ANALYZER.assess(answer, "medical", 0.3)[0] == semconv.SEVERITY_CRITICAL
    hedged = answer + " Check with your doctor."
    assert ANALYZER.assess(hedged, "medical", 0.3)[0] == semconv.SEVERITY_HIGH
    plain = "Ibuprofen is an anti-inflammatory medicine."
    assert ANALYZER.assess(plain, "medical", 0.1)[0] == semconv.SEVERITY_LOW  # nothing specific


def test_repeated_signals_count_and_report_up_to_max_count() -> None:
    answer = " ".join(["Take 500 mg."] * 10)
    _, findings = ANALYZER.assess(answer, "medical")
    assert len(findings) == RULES.scoring.max_count
    assert [answer[f.start : f.end] for f in findings] == ["500 mg"] * 3


def test_offsets_hold_in_unicode_text() -> None:
    for prefix in ("Ça coûte — ", "İstanbul: ", "🙂🙂 ", "\ud800 ", "“Quote” "):
        answer = prefix + "take 500 mg, it's 100% safe"
        assert spans(answer, "medical") == [
            ("hallucination.dosage", "500 mg"),
            ("hallucination.certainty", "100% safe"),
        ], prefix


def test_the_packaged_examples_of_the_issue() -> None:
    """The acceptance examples: the same verdicts through the public analyzer API."""
    question = "How much ibuprofen can I take for my migraine?"
    domain = ANALYZER.domain_of(question)
    assert domain == semconv.DOMAIN_MEDICAL
    risky = "Take 800 mg every 4 hours; it is completely safe."
    assert ANALYZER.assess(risky, domain)[0] == semconv.SEVERITY_CRITICAL
    assert ANALYZER.assess(risky + " Please consult your doctor first.", domain)[0] == "high"
    assert ANALYZER.domain_of("When does the city park open?") is None


# == parsing the rules ==========================================================================


def _spoil_signal(**changes: Any) -> dict[str, Any]:
    data = raw_rules()
    data["signals"][0].update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_spoil_signal(pattern="(unclosed"), "invalid regular expression"),
        (_spoil_signal(pattern=["ok", "[z-a]"]), "invalid regular expression"),
        (_spoil_signal(severity="severe"), "severity 'severe' is not one of low, medium"),
        (_spoil_signal(kind="vague"), "kind 'vague' is not one of specific, absolute, hedge"),
        (_spoil_signal(weight=0), "expected a number above 0"),
        (_spoil_signal(weight="3"), "expected a number"),
        (_spoil_signal(pattern=r"\d+ mg"), "unbounded repetition"),
        (_spoil_signal(pattern=r"(?:ab{2,})c"), "unbounded repetition"),
        (_spoil_signal(pattern=r"(?:\d{1,3} ?)*mg"), "unbounded repetition"),
        (_spoil_signal(pattern=r"(\d{1,3}) mg"), "capturing group"),
        (_spoil_signal(pattern=r"(?i)mg"), "global flags"),
        (_spoil_signal(pattern=r"x?"), "matches the empty text"),
        (_spoil_signal(pattern=r" mg"), "must start with the signal"),
        (_spoil_signal(pattern=None), "a pattern is required"),
        (_spoil_signal(domains=["astrology"]), "unknown domain(s) astrology"),
        (_spoil_signal(colour="red"), "unknown key(s) colour"),
        (_spoil_signal(description=""), "a description is required"),
        (_spoil_signal(id="hallucination.percentage"), "the id is used twice"),
    ],
    ids=lambda value: value if isinstance(value, str) else "signal",
)
def test_a_bad_signal_is_refused_with_its_source_and_id(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=r"hallucination rules my-rules\.yaml") as raised:
        parse_hallucination_rules(data, "my-rules.yaml")
    assert message in str(raised.value)
    if "used twice" not in message:
        assert "signal 'hallucination.dosage'" in str(raised.value)


def _spoil(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = raw_rules()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_spoil(("version",), ""), "version: expected a version string"),
        (_spoil(("domains", "astrology"), [{"weight": 1, "terms": ["tarot"]}]), "unknown key(s)"),
        (_spoil(("domains", "medical", 0, "weight"), -1), "domains.medical[0].weight"),
        (_spoil(("domains", "medical", 0, "terms"), ["*dose*"]), "term '*dose*'"),
        (_spoil(("domains", "medical", 0, "terms"), ["dose", "Dose"]), "listed twice"),
        (_spoil(("domains", "medical", 0, "terms"), ["*12"]), "a *suffix is letters only"),
        (_spoil(("domains", "medical", 0, "terms"), ["do*se"]), "a '*' only at one end"),
        (_spoil(("domains", "medical", 0, "terms"), "dose"), "expected a list of strings"),
        (_spoil(("domains", "medical", 0), {"weight": 1}), "give terms or patterns"),
        (_spoil(("domains", "legal", 3, "patterns"), [r"\d+"]), "unbounded repetition"),
        (_spoil(("domains", "legal", 3, "patterns"), [r"u s c"]), "within one word"),
        (_spoil(("domains", "legal", 3, "patterns"), ["§("]), "invalid regular expression"),
        (_spoil(("domains", "legal", 3, "patterns"), [r"§(?!x)"]), "no look-around"),
        (_spoil(("domains", "legal", 3, "patterns"), [r"\d{1,3}+§"]), "possessive"),
        (_spoil(("scoring", "max_count"), 2.5), "expected a whole number"),
        (_spoil(("scoring", "low_confidence"), 2), "expected at most 1"),
        (_spoil(("scoring", "bias"), 2), "unknown key(s) bias"),
        (_spoil(("signals",), {"id": "x"}), "expected a list of signals"),
        (_spoil(("signals",), [["not", "a", "mapping"]]), "expected a mapping with an 'id'"),
    ],
    ids=lambda value: value if isinstance(value, str) else "document",
)
def test_a_bad_rules_document_is_refused_with_its_source(
    data: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=r"hallucination rules my-rules\.yaml") as raised:
        parse_hallucination_rules(data, "my-rules.yaml")
    assert message in str(raised.value)


def test_a_document_that_is_no_mapping_is_refused() -> None:
    with pytest.raises(ValueError, match=r"my-rules\.yaml: expected a mapping"):
        parse_hallucination_rules(None, "my-rules.yaml")  # type: ignore[arg-type]


def test_rules_of_ones_own_drive_the_analyzer() -> None:
    data = raw_rules()
    data["domains"]["medical"].append({"weight": 3, "terms": ["homeopath*"]})
    data["signals"].append(
        {
            "id": "hallucination.potency",
            "kind": "specific",
            "severity": "medium",
            "weight": 1,
            "domains": ["medical"],
            "pattern": r"\d{1,3}c(?![a-z])",
            "description": "A homeopathic potency.",
        }
    )
    rules = parse_hallucination_rules(data, "mine.yaml")
    assert isinstance(rules, HallucinationRules)
    analyzer = HallucinationAnalyzer(rules)
    assert analyzer.domain_of("Is homeopathy any good?") == semconv.DOMAIN_MEDICAL
    found = analyzer.signal_matches("Take 30c twice a day.", "medical")
    assert [match.signal.id for match in found] == [
        "hallucination.potency",
        "hallucination.dose_schedule",
    ]
    assert ANALYZER.signal_matches("Take 30c twice a day.", "medical")[0].start == 9  # twice


# == any text ===================================================================================

FRAGMENTS = [
    "500 mg", "mg", "500", "5", ".", ",", "%", "$", "€", "§", " v. ", "v.", "U.S.C.", "et al",
    "doi:10.", "every ", "6 hours", "twice a day", "completely safe", "guaranteed", "never",
    "consult your doctor", "may", "dose", "ibuprofen", "amoxicillin", "cillin", "lisinopril",
    "lawsuit", "landlord", "mortgage", "401(k)", "S&P 500", "side-effects", "(", ")", "-", "'",
    "\u2019", "\u201c", "\u2014", "\n", "\t", " ", "  ", "İ", "\ud800", "🙂", "é", "µg",
    "1,000,000", "1.5", "(1994)", "19", "20", "x", "1 in 4", "3 times more", "within 30 days",
]  # fmt: skip
TEXTS = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=30).map("".join),
)
ANSWER_DOMAINS = st.sampled_from([None, *DOMAINS])
CONFIDENCES = st.one_of(st.none(), st.floats(0.0, 1.0))


@PROPERTY
@given(text=TEXTS, domain=ANSWER_DOMAINS, confidence=CONFIDENCES)
@example(text="", domain="medical", confidence=None)
@example(text="İ take 500 mg İ", domain="medical", confidence=0.1)
@example(text="\u200b" * 50, domain="legal", confidence=0.0)
def test_nothing_raises_and_offsets_stay_in_the_text(
    text: str, domain: str | None, confidence: float | None
) -> None:
    assert ANALYZER.domain_of(text) in (None, *DOMAINS)
    risk, findings = ANALYZER.assess(text, domain, confidence)
    assert risk in semconv.SEVERITIES
    if domain is None or risk == semconv.SEVERITY_LOW:
        assert findings == []
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(text), finding
        assert finding.category == semconv.SECURITY_CATEGORY_HALLUCINATION_RISK
        assert finding.rule_id in SIGNAL_IDS
    for match in ANALYZER.signal_matches(text, domain):
        assert 0 <= match.start < match.end <= len(text), match
        assert match.signal.kind in KINDS
        if domain is not None:
            assert match.signal.applies_to(domain)


@PROPERTY
@given(text=st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join))
def test_domain_scores_do_not_depend_on_history(text: str) -> None:
    assert ANALYZER.domain_scores(text) == HallucinationAnalyzer(RULES).domain_scores(text)


@PROPERTY
@given(text=st.text(string.ascii_letters + string.digits + " .,;:%$§()'-", max_size=200))
def test_case_does_not_matter(text: str) -> None:
    """For ASCII text: the same signals at the same offsets in upper and lower case."""
    for domain in DOMAINS:
        lower = [(m.signal.id, m.start, m.end) for m in ANALYZER.signal_matches(text.lower())]
        upper = [(m.signal.id, m.start, m.end) for m in ANALYZER.signal_matches(text.upper())]
        assert lower == upper
        assert ANALYZER.assess(text.lower(), domain) == ANALYZER.assess(text.upper(), domain)
    assert ANALYZER.domain_scores(text.lower()) == ANALYZER.domain_scores(text.upper())


def test_hedges_are_no_findings() -> None:
    hedges = {signal.id for signal in RULES.signals if signal.kind == KIND_HEDGE}
    answer = "It may vary; consult your doctor. Take 500 mg, definitely."
    _, findings = ANALYZER.assess(answer, "medical")
    assert findings
    assert not hedges & {finding.rule_id for finding in findings}


# == linear cost ================================================================================

SMALL = 128 * 1024
LARGE = 1024 * 1024
MAX_RATIO = 24
"""For an 8x longer input: linear is about 8, quadratic about 64."""


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda size: (unit * (size // len(unit) + 1))[:size]


def _numbered(size: int) -> str:
    words: list[str] = []
    length = 0
    for number in range(size):
        word = f"w{number}x "
        words.append(word)
        length += len(word)
        if length >= size:
            break
    return "".join(words)[:size]


ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "near-miss dosages": _repeat("500 m"),
    "case-name prefixes": _repeat("v. "),
    "long digit runs": _repeat("1234567890"),
    "numbers": _repeat("1 "),
    "money prefixes": _repeat("$1,"),
    "years in brackets": _repeat("(19"),
    "section numbers": _repeat("section 1."),
    "suffix near-misses": _repeat("xcillin "),
    "one long word": _repeat("a"),
    "spaces": _repeat(" "),
    "terms": _repeat("dose side effects of amoxicillin "),
    "unique words": _numbered,
    "unicode": _repeat("é§µ\u2014\u2019İ "),
}


def _best_cpu(action: Callable[[str], object], text: str) -> float:
    """The best of two CPU-time measurements of ``action(text)``."""
    times = []
    for _ in range(2):
        gc.collect()
        started = time.process_time()
        action(text)
        times.append(time.process_time() - started)
    return min(times)


def _domain_fresh(text: str) -> object:
    return HallucinationAnalyzer(RULES).domain_of(text)


def _assess(text: str) -> object:
    return ANALYZER.assess(text, semconv.DOMAIN_LEGAL, 0.9)


def _all_signals(text: str) -> object:
    return ANALYZER.signal_matches(text)


@pytest.mark.timeout(300)
def test_the_cost_grows_linearly_with_adversarial_input() -> None:
    """Each family at 128 KB and 1 MB, the best of two CPU-time measurements each, for
    the domain (on a fresh analyzer: nothing learnt), the risk and every signal."""
    ratios: dict[str, float] = {}
    actions = {"domain": _domain_fresh, "assess": _assess, "signals": _all_signals}
    for name, make in ADVERSARIAL.items():
        small, large = make(SMALL), make(LARGE)
        for what, action in actions.items():
            best_small = _best_cpu(action, small)
            best_large = _best_cpu(action, large)
            ratios[f"{name} ({what})"] = best_large / max(best_small, 2e-3)
    worst = max(ratios, key=ratios.__getitem__)
    assert ratios[worst] < MAX_RATIO, (
        f"cost of 1 MB / 128 KB input: {ratios[worst]:.1f} for {worst!r} "
        f"(limit {MAX_RATIO}); all: { {k: round(v, 1) for k, v in ratios.items()} }"
    )
