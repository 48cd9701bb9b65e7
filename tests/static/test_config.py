"""Selection semantics of [tool.tllint] and internal-error isolation, tested on the real objects."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.helpers import SEED_WRONG, run_tllint
from tllint.config import Config, ConfigError, Layer, load_config, validate_codes
from tllint.findings.registry import Half, Violation, catalog
from tllint.globs import PerFileIgnores, compile_globs
from tllint.settings import parse_size
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


# --- configuration files, as ruff has them --------------------------------------------------------------------

def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def codes_reported(folder: Path, *args: str) -> dict[str, list[str]]:
    result = run_tllint("check", "--no-cache", "--output-format", "json", *args, cwd=folder)
    assert result.returncode in (0, 1), result.stderr
    found: dict[str, list[str]] = {}
    for finding in json.loads(result.stdout):
        found.setdefault(finding["path"], []).append(finding["code"])
    return found


def test_tllint_toml_files_hold_top_level_keys_and_the_closest_file_wins(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.tllint]\nignore = ["TL001"]\n')
    write(tmp_path, "a/tllint.toml", 'ignore = ["TL002"]\n')
    write(tmp_path, "a/b/pyproject.toml", '[project]\nname = "b"\n')  # no [tool.tllint]: passed over
    write(tmp_path, "c/.tllint.toml", "select = ['TL0']\n")
    write(tmp_path, "c/tllint.toml", "ignore = ['TL0']\n")  # .tllint.toml comes first in the same folder
    for folder in ("", "a/", "a/b/", "c/"):
        write(tmp_path, f"{folder}train.py", SEED_WRONG)
    assert codes_reported(tmp_path, ".") == {"a/b/train.py": ["TL001"], "a/train.py": ["TL001"],
                                            "c/train.py": ["TL001"]}
    assert codes_reported(tmp_path / "a", "train.py") == {"train.py": ["TL001"]}
    assert codes_reported(tmp_path, "train.py") == {}


def test_excludes_of_a_nested_configuration_apply_below_it(tmp_path: Path) -> None:
    write(tmp_path, "pkg/tllint.toml", 'extend-exclude = ["generated"]\n')
    write(tmp_path, "pkg/generated/x.py", SEED_WRONG)
    write(tmp_path, "generated/y.py", SEED_WRONG)
    assert sorted(codes_reported(tmp_path, ".")) == ["generated/y.py"]


def test_config_option_reads_either_kind_and_says_which(tmp_path: Path) -> None:
    write(tmp_path, "train.py", SEED_WRONG)
    top = write(tmp_path, "ci/tllint.toml", 'ignore = ["TL001"]\n')
    table = write(tmp_path, "ci/strict.toml", '[tool.tllint]\nignore = ["TL001"]\n')
    pyproject = write(tmp_path, "ci/pyproject.toml", '[tool.tllint]\nignore = ["TL001"]\n')
    for path, said in ((top, f"{top}"), (table, f"{table} [tool.tllint]"), (pyproject, f"{pyproject} [tool.tllint]")):
        result = run_tllint("check", "--config", str(path), "train.py", cwd=tmp_path)
        assert result.returncode == 0, (path, result.stdout, result.stderr)
        assert result.stderr == f"tllint: read the configuration from {said}\n"
    assert run_tllint("check", "-q", "--config", str(top), "train.py", cwd=tmp_path).stderr == ""
    empty = write(tmp_path, "ci/empty/pyproject.toml", '[project]\nname = "x"\n')
    result = run_tllint("check", "--config", str(empty), "train.py", cwd=tmp_path)
    assert result.returncode == 2 and "has no [tool.tllint] table" in result.stderr


@pytest.mark.parametrize(("text", "says"), [
    ("[tool]\ntllint = 5\n", "`[tool.tllint]` must be a table of settings, not int 5"),
    ("tool = 5\n", "`tool` must be a table"),
    ("[tool.tllint]\nselect = \"TL001\"\n", "select: expected a list of strings"),
    ("[tool.tllint]\nmax-file-size = -3\n", "max-file-size: expected a size"),
    ("[tool.tllint.per-file-ignores]\n\"a.py\" = \"TL001\"\n", "per-file-ignores.a.py: expected a list of strings"),
    ("[tool.tllint]\nselekt = []\n", "unknown key(s) selekt"),
    ("[tool.tllint\n", "cannot read configuration"),
    ("[tool.tllint]\nselect = " + "[" * 5000 + "]" * 5000 + "\n", "cannot read configuration"),
])
def test_a_bad_pyproject_is_one_clear_error(tmp_path: Path, text: str, says: str) -> None:
    write(tmp_path, "pyproject.toml", text)
    write(tmp_path, "train.py", SEED_WRONG)
    result = run_tllint("check", "train.py", cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    assert says in result.stderr and result.stderr.startswith("tllint: error: ")
    assert result.stderr.count("\n") == 1


def test_a_tllint_toml_with_a_tool_table_gets_a_hint(tmp_path: Path) -> None:
    write(tmp_path, "tllint.toml", '[tool.tllint]\nignore = ["TL001"]\n')
    write(tmp_path, "train.py", SEED_WRONG)
    result = run_tllint("check", "train.py", cwd=tmp_path)
    assert result.returncode == 2 and "at the top level, without [tool.tllint]" in result.stderr


def test_select_empty_selects_nothing_and_says_so(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", "[tool.tllint]\nselect = []\n")
    write(tmp_path, "train.py", SEED_WRONG)
    write(tmp_path, "broken.py", "model.requires_grad = (\n")
    result = run_tllint("check", "--output-format", "json", ".", cwd=tmp_path)
    assert (result.returncode, json.loads(result.stdout)) == (0, [])
    assert result.stderr == f"tllint: warning: {tmp_path / 'pyproject.toml'} [tool.tllint]: `select = []` selects no " \
                            "rule, so nothing is reported\n"
    assert run_tllint("check", "-s", ".", cwd=tmp_path).stderr == ""


def test_selection_is_layered_as_in_ruff() -> None:
    """Defaults, then the file, then the command line: a layer's select starts afresh, ignore removes, the more
    specific selector of one layer wins."""
    def enabled(file: dict, cli: dict) -> set[str]:
        config = Config(Layer.of("file", **file), Layer.of("cli", **cli))
        return set(config.enabled_codes()) - {"TL000"}

    static = set(Config().enabled_codes()) - {"TL000"}
    assert enabled({"ignore": ("TL001",)}, {"ignore": ("TL002",)}) == static - {"TL001", "TL002"}
    assert enabled({"ignore": ("TL001",)}, {"select": ("TL00",)}) == {c for c in static if c.startswith("TL00")}
    assert enabled({"select": ("TL001",)}, {"extend_select": ("TL002",)}) == {"TL001", "TL002"}
    assert enabled({"extend_ignore": ("TL01",)}, {}) == {c for c in static if not c.startswith("TL01")}
    assert enabled({"ignore": ("TL0",)}, {"extend_select": ("TL013",)}) == {"TL013"}
    assert "TL900" in enabled({}, {"extend_select": ("TL900",)})
    assert "TL900" in enabled({"select": ("ALL",)}, {})
    assert "TL900" not in enabled({"select": ("TL",)}, {})


def test_extend_keys_add_to_their_base(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "tllint.toml", textwrap.dedent("""\
        exclude = ["a"]
        extend-exclude = ["b"]
        [per-file-ignores]
        "x/*" = ["TL001"]
        [extend-per-file-ignores]
        "x/*" = ["TL002"]
        "y/*" = ["TL003"]
    """)))
    assert config.value("exclude") == ("a", "b")
    assert config.value("per-file-ignores") == {"x/*": ("TL001", "TL002"), "y/*": ("TL003",)}
    assert config.codes_for(tmp_path / "x" / "f.py", frozenset({"TL001", "TL002", "TL004"})) == {"TL004"}
    assert config.excluded(tmp_path / "b" / "deep" / "f.py") and not config.excluded(tmp_path / "c.py")


@pytest.mark.parametrize(("value", "size"), [(1000, 1000), ("10MB", 10_000_000), ("512 KiB", 524_288),
                                             ("1.5mb", 1_500_000), ("7", 7)])
def test_sizes(value: object, size: int) -> None:
    assert parse_size(value, "x") == size


@pytest.mark.parametrize("value", [0, -1, True, "ten", "10 TB", "", [1]])
def test_bad_sizes(value: object) -> None:
    with pytest.raises(ConfigError, match="expected a size"):
        parse_size(value, "x")


@pytest.mark.parametrize(("pattern", "matches", "misses"), [
    ("legacy", ["legacy", "legacy/a.py", "src/legacy/a.py"], ["legacy2/a.py", "a_legacy.py"]),
    ("scripts/*.py", ["scripts/a.py", "pkg/scripts/a.py", "scripts/sub/a.py"], ["scripts/a.txt", "a.py"]),
    ("*_pb2.py", ["api_pb2.py", "gen/api_pb2.py"], ["api_pb2.pyi"]),
    ("a/b", ["a/b", "a/b/c.py", "x/a/b/c.py"], ["a/bc.py", "b/a.py"]),
    ("test?.py", ["test1.py"], ["test12.py"]),
    ("[ab].py", ["a.py", "x/b.py"], ["c.py"]),
])
def test_glob_semantics(pattern: str, matches: list[str], misses: list[str]) -> None:
    expression = compile_globs([pattern])
    assert expression is not None
    assert all(expression.match(path) for path in matches), pattern
    assert not any(expression.match(path) for path in misses), pattern


def test_many_per_file_ignore_globs_give_the_same_answers_as_one_by_one() -> None:
    """2,000 globs are compiled into few expressions; each path still gets exactly the codes of its globs."""
    table = {f"pkg{i}/*.py": ("TL001",) if i % 2 else ("TL002", "TL003") for i in range(2000)}
    table["*/special.py"] = ("TL004",)
    matcher = PerFileIgnores(table)
    for path, expected in (("pkg7/a.py", {"TL001"}), ("pkg8/a.py", {"TL002", "TL003"}),
                           ("pkg8/special.py", {"TL002", "TL003", "TL004"}), ("other/a.py", set())):
        assert set(matcher.dropped(path)) == expected, path
    crafted = PerFileIgnores({"a*" * 40 + "b": ("TL001",)})
    assert crafted.dropped("a" * 4000) == ()  # possessive stars: no backtracking blow-up
