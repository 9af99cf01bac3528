"""``openai-sentinel price``: the breakdown of a call's cost, priced like the spans."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from genai_prices import Usage, calc_price

from openai_sentinel.cli import main

PRICES_ENV = "OPENAI_SENTINEL_PRICES_FILE"
GENAI_PRICES = f"genai-prices {version('genai-prices')}"
PRICES_YAML = """\
models:
  our-private-model:
    input_mtok: 0.8
    output_mtok: 3.2
    cache_read_mtok: 0.2
  gpt-4o:
    discount: 0.25
service_tiers:
  priority: 1.5
"""


def _usd(value: float) -> str:
    return f"${value:,.6f}"


def _rows(output: str) -> dict[str, str]:
    """The breakdown's rows: label (the first 14 columns) to value."""
    return {line[:14].strip(): line[14:].strip() for line in output.splitlines() if line.strip()}


def _amount(row: str) -> str:
    return row.rsplit(maxsplit=1)[-1]


def _price(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["price", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def prices_file(tmp_path: Path) -> Path:
    path = tmp_path / "prices.yaml"
    path.write_text(PRICES_YAML, encoding="utf-8")
    return path


def test_the_total_is_genai_prices_total(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _price(capsys, "gpt-4o-mini", "--input", "10000", "--output", "2000")
    assert (code, err) == (0, "")
    reference = calc_price(
        Usage(input_tokens=10_000, output_tokens=2_000),
        model_ref="gpt-4o-mini",
        provider_id="openai",
    )
    rows = _rows(out)
    assert rows["model"] == "gpt-4o-mini (openai)"
    assert rows["service tier"] == "default"
    assert _amount(rows["input"]) == _usd(float(reference.input_price))
    assert _amount(rows["output"]) == _usd(float(reference.output_price))
    assert _amount(rows["total"]) == _usd(float(reference.total_price))
    assert rows["source"] == GENAI_PRICES
    assert "cache saved" not in rows


def test_cached_tokens_are_priced_and_the_saving_shown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _price(
        capsys,
        "gpt-4o",
        "--input",
        "10,000",
        "--output",
        "2_000",
        "--cached",
        "4000",
        "--reasoning",
        "500",
    )
    assert code == 0
    cached = calc_price(
        Usage(input_tokens=10_000, output_tokens=2_000, cache_read_tokens=4_000),
        model_ref="gpt-4o",
        provider_id="openai",
    )
    uncached = calc_price(
        Usage(input_tokens=10_000, output_tokens=2_000), model_ref="gpt-4o", provider_id="openai"
    )
    rows = _rows(out)
    assert rows["input"].startswith("10,000 tokens (4,000 cached, 0 cache-write)")
    assert rows["output"].startswith("2,000 tokens (500 reasoning)")
    assert _amount(rows["total"]) == _usd(float(cached.total_price))
    assert _amount(rows["cache saved"]) == _usd(float(uncached.input_price - cached.input_price))
    assert float(cached.total_price) < float(uncached.total_price)


def test_azure_is_priced_with_the_azure_prices(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _price(
        capsys, "gpt-4o", "--input", "5000", "--output", "700", "--provider", "azure.ai.openai"
    )
    assert code == 0
    reference = calc_price(
        Usage(input_tokens=5_000, output_tokens=700), model_ref="gpt-4o", provider_id="azure"
    )
    rows = _rows(out)
    assert rows["model"] == "gpt-4o (azure.ai.openai)"
    assert _amount(rows["total"]) == _usd(float(reference.total_price))


def test_flex_uses_the_flex_price_of_genai_prices(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("gpt-5", "--input", "10000", "--output", "2000", "--cached", "3000")
    code, out, _ = _price(capsys, *args, "--service-tier", "flex")
    assert code == 0
    usage = Usage(input_tokens=10_000, output_tokens=2_000, cache_read_tokens=3_000)
    flex = calc_price(
        usage, model_ref="gpt-5", provider_id="openai", price_context={"service_tier": "flex"}
    )
    standard = calc_price(usage, model_ref="gpt-5", provider_id="openai")
    assert flex.total_price < standard.total_price
    rows = _rows(out)
    assert rows["service tier"] == "flex"  # a price of the data, not a multiplier
    assert _amount(rows["total"]) == _usd(float(flex.total_price))


def test_a_tier_without_a_price_shows_the_multiplier(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _price(
        capsys, "gpt-4", "--input", "1000", "--output", "100", "--service-tier", "priority"
    )
    assert code == 0
    standard = calc_price(
        Usage(input_tokens=1_000, output_tokens=100), model_ref="gpt-4", provider_id="openai"
    )
    rows = _rows(out)
    assert rows["service tier"] == "priority (x2 of the standard price)"
    assert _amount(rows["total"]) == _usd(float(standard.total_price) * 2.0)


def test_an_unknown_model_exits_1_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _price(capsys, "our-private-model", "--input", "10", "--output", "5")
    assert code == 1
    assert out == ""
    assert "'our-private-model'" in err
    assert GENAI_PRICES in err
    assert PRICES_ENV in err


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("--input", "10", "--cached", "11"), "--cached and --cache-write are parts of --input"),
        (("--input", "10", "--cached", "6", "--cache-write", "5"), "exceed"),
        (("--output", "10", "--reasoning", "11"), "--reasoning is part of --output"),
    ],
)
def test_parts_larger_than_the_whole_exit_2(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], problem: str
) -> None:
    code, out, err = _price(capsys, "gpt-4o-mini", *args)
    assert code == 2
    assert out == ""
    assert problem in err


def test_a_negative_count_is_an_argument_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["price", "gpt-4o-mini", "--input", "-1"])
    assert exited.value.code == 2
    assert "expected 0 or more tokens" in capsys.readouterr().err


def test_the_prices_file_option_is_honoured(
    capsys: pytest.CaptureFixture[str], prices_file: Path
) -> None:
    code, out, err = _price(
        capsys,
        "our-private-model",
        "--input",
        "10000",
        "--output",
        "2000",
        "--cached",
        "4000",
        "--prices-file",
        str(prices_file),
    )
    assert (code, err) == (0, "")
    rows = _rows(out)
    # by hand: 6,000 x 0.8 + 4,000 x 0.2 input, 2,000 x 3.2 output, per million
    assert _amount(rows["input"]) == _usd((6_000 * 0.8 + 4_000 * 0.2) / 1e6)
    assert _amount(rows["output"]) == _usd(2_000 * 3.2 / 1e6)
    assert _amount(rows["total"]) == _usd((6_000 * 0.8 + 4_000 * 0.2 + 2_000 * 3.2) / 1e6)
    assert _amount(rows["cache saved"]) == _usd(4_000 * (0.8 - 0.2) / 1e6)
    assert rows["source"] == "prices file prices.yaml"


def test_a_discount_and_a_tier_multiplier_from_the_file(
    capsys: pytest.CaptureFixture[str], prices_file: Path
) -> None:
    args = ("gpt-4o", "--input", "10000", "--output", "2000", "--prices-file", str(prices_file))
    code, out, _ = _price(capsys, *args, "--service-tier", "priority")
    assert code == 0
    standard = calc_price(
        Usage(input_tokens=10_000, output_tokens=2_000), model_ref="gpt-4o", provider_id="openai"
    )
    rows = _rows(out)
    assert rows["service tier"] == "priority (x1.5 of the standard price)"
    assert _amount(rows["total"]) == _usd(float(standard.total_price) * 0.75 * 1.5)
    assert rows["source"] == f"{GENAI_PRICES}, discount from prices file prices.yaml"


def test_the_environment_variable_is_honoured(
    capsys: pytest.CaptureFixture[str], prices_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PRICES_ENV, str(prices_file))
    code, out, _ = _price(capsys, "our-private-model", "--input", "1000", "--output", "100")
    assert code == 0
    rows = _rows(out)
    assert _amount(rows["total"]) == _usd((1_000 * 0.8 + 100 * 3.2) / 1e6)
    assert rows["source"] == "prices file prices.yaml"


def test_the_option_wins_over_the_environment_variable(
    capsys: pytest.CaptureFixture[str],
    prices_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PRICES_ENV, str(tmp_path / "absent.yaml"))
    code, out, err = _price(
        capsys, "our-private-model", "--input", "1000", "--prices-file", str(prices_file)
    )
    assert (code, err) == (0, "")
    assert _rows(out)["source"] == "prices file prices.yaml"


def test_an_unknown_model_names_the_prices_file_too(
    capsys: pytest.CaptureFixture[str], prices_file: Path
) -> None:
    code, _, err = _price(
        capsys, "our-other-model", "--input", "1", "--prices-file", str(prices_file)
    )
    assert code == 1
    assert "'our-other-model'" in err
    assert "prices file prices.yaml" in err


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_bad_prices_file_exits_2_with_its_message(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    bad = tmp_path / "prices.json"
    bad.write_text(json.dumps({"models": {"our-model": {"input_mtok": "cheap", "output_mtok": 1}}}))
    args = ["our-model", "--input", "10"]
    if how == "option":
        args += ["--prices-file", str(bad)]
    else:
        monkeypatch.setenv(PRICES_ENV, str(bad))
    code, out, err = _price(capsys, *args)
    assert code == 2
    assert out == ""
    assert f"prices file {str(bad)!r}" in err
    assert "entry models.our-model.input_mtok" in err
    assert "expected a number, got 'cheap'" in err


def test_a_missing_prices_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    absent = tmp_path / "absent.yaml"
    code, _, err = _price(capsys, "gpt-4o", "--prices-file", str(absent))
    assert code == 2
    assert str(absent) in err
    assert "cannot be read" in err


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OPENAI_"))}
    return subprocess.run(
        [sys.executable, "-m", "openai_sentinel.cli", "price", *args],
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_as_a_process() -> None:
    done = _run("gpt-4o-mini", "--input", "10000", "--output", "2000", "--cached", "4000")
    assert done.returncode == 0, done.stderr
    reference = calc_price(
        Usage(input_tokens=10_000, output_tokens=2_000, cache_read_tokens=4_000),
        model_ref="gpt-4o-mini",
        provider_id="openai",
    )
    rows = _rows(done.stdout)
    assert _amount(rows["total"]) == _usd(float(reference.total_price))
    assert rows["source"] == GENAI_PRICES


def test_the_command_as_a_process_reads_the_environment_variable(prices_file: Path) -> None:
    done = _run("our-private-model", "--input", "1000", env={PRICES_ENV: str(prices_file)})
    assert done.returncode == 0, done.stderr
    assert _amount(_rows(done.stdout)["total"]) == _usd(1_000 * 0.8 / 1e6)
    unknown = _run("our-other-model", "--input", "1")
    assert unknown.returncode == 1
    assert "'our-other-model'" in unknown.stderr
