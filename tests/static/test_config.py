"""Selection semantics of [tool.tllint] and internal-error isolation, tested on the real objects."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tllint.config import Config, ConfigError, load_config, validate_codes
from tllint.findings.registry import Half, Violation, catalog
from tllint.static import engine
from tllint.static.engine import check_source
from tllint.static.facts import FileFacts
from tllint.static.rules import Context

STATIC = {code for code, info in catalog().items() if info.half is Half.STATIC}


def test_default_selects_every_static_rule_but_the_opt_in_ones_and_no_runtime_code() -> None:
    opt_in = {code for code in STATIC if catalog()[code].opt_in}
    assert opt_in == {"TL900"}
    assert Config().enabled_codes() == frozenset(STATIC - opt_in)


def test_more_specific_selector_wins() -> None:
    config = Config(select=("TL0",), ignore=("TL01",), extend_select=("TL012",))
    enabled = config.enabled_codes()
    assert "TL012" in enabled
    assert "TL011" not in enabled and "TL001" in enabled


def test_all_selects_every_static_rule() -> None:
    assert Config(select=("ALL",)).enabled_codes() == frozenset(STATIC)


def test_opt_in_rules_run_only_when_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(catalog(), "TL013", replace(catalog()["TL013"], opt_in=True))
    assert "TL013" not in Config().enabled_codes()
    assert "TL013" not in Config(select=("TL0",)).enabled_codes()
    assert "TL013" in Config(extend_select=("TL013",)).enabled_codes()


def test_unknown_codes_name_themselves() -> None:
    with pytest.raises(ConfigError, match="TL77"):
        validate_codes(["TL001", "TL77"], "--select")


def test_config_file_keys_and_types(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.tllint]\nselect = "TL001"\n')
    with pytest.raises(ConfigError, match="list of strings"):
        load_config(path)
    path.write_text('[tool.tllint]\nselect = ["TL001"]\n[tool.tllint.per-file-ignores]\n"a/*.py" = ["TL001"]\n')
    config = load_config(path)
    assert config.codes_for(tmp_path / "a" / "x.py", frozenset({"TL001", "TL002"})) == {"TL002"}
    assert config.codes_for(tmp_path / "b" / "x.py", frozenset({"TL001"})) == {"TL001"}


def test_a_crashing_rule_is_reported_and_the_other_rules_still_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(facts: FileFacts, ctx: Context) -> Iterator[Violation]:
        raise ValueError("boom")

    monkeypatch.setitem(engine.static_rules(), "TL003", replace(engine.static_rules()["TL003"], check=broken))
    source = b"import torch\nfrom torchvision.models import resnet18\nm = resnet18(weights='DEFAULT')\n" \
             b"m.layer4.requires_grad = False\n"
    result = check_source(source, "train.py", Config().enabled_codes())
    [problem] = result.problems
    assert problem.startswith("train.py: internal error in rule TL003: ValueError: boom (a bug in tllint: please "
                              "report it")
    assert "\n" not in problem
    [traceback] = result.details
    assert traceback.startswith("Traceback") and "boom" in traceback
    assert [f.code for f in result.findings] == ["TL002"]
