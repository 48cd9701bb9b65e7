"""Every bad fixture of a fixable rule, fixed with that rule's fixes (unsafe ones included), gives the golden file
next to it (`bad_x.py.fixed`): it compiles, re-checks clean for that code, keeps every comment, and fixing it
again changes nothing. A bad fixture without a golden file is one where the rule offers no fix: it stays as it is.

`TLLINT_UPDATE_GOLDEN=1 python -m pytest tests/static/test_fix_golden.py` rewrites the golden files (read the
diff before committing it).
"""

from __future__ import annotations

import io
import os
import tokenize
import warnings
from collections import Counter
from importlib.util import decode_source
from pathlib import Path

import pytest

from tests.helpers import STATIC_FIXTURES
from tllint.findings.registry import Half, rules
from tllint.static.fixing.apply import FixPolicy, fix_bytes

FIXABLE = {r.info.code: r.info for r in rules(Half.STATIC) if r.info.fix is not None}
CASES = [(code, path) for code in sorted(FIXABLE) for path in sorted((STATIC_FIXTURES / code).glob("bad_*.py"))]
UPDATE = os.environ.get("TLLINT_UPDATE_GOLDEN") == "1"


def golden_of(path: Path) -> Path:
    return path.with_name(path.name + ".fixed")


def fixed(data: bytes, code: str, path: Path) -> bytes:
    result = fix_bytes(data, path.name, frozenset({code}), FixPolicy(frozenset({code}), unsafe=True))
    assert not result.problems, result.problems
    return result.data


def comments(data: bytes) -> Counter[str]:
    return Counter(token.string for token in tokenize.generate_tokens(io.StringIO(decode_source(data)).readline)
                   if token.type == tokenize.COMMENT)


def test_every_fixable_rule_has_golden_files() -> None:
    assert set(FIXABLE) >= {"TL001", "TL002", "TL003", "TL004", "TL005", "TL040"}
    for code in FIXABLE:
        assert any(golden_of(path).exists() for path in (STATIC_FIXTURES / code).glob("bad_*.py")), code


@pytest.mark.parametrize(("code", "path"), CASES, ids=[f"{c}/{p.name}" for c, p in CASES])
def test_fixing_a_bad_fixture_gives_its_golden_file(code: str, path: Path) -> None:
    original = path.read_bytes()
    findings = fix_bytes(original, path.name, frozenset({code}), FixPolicy(frozenset())).outcome.findings
    assert {f.fix.applicability for f in findings if f.fix is not None} <= {FIXABLE[code].fix}
    result = fixed(original, code, path)
    golden = golden_of(path)
    if UPDATE:
        if result != original:
            golden.write_bytes(result)
        elif golden.exists():
            golden.unlink()
    if not golden.exists():
        assert result == original, f"{path.name}: a fix was applied but there is no golden file"
        return
    assert result == golden.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compile(decode_source(result), str(golden), "exec", dont_inherit=True)
    assert not comments(original) - comments(result), "a comment was lost"
    assert fixed(result, code, path) == result, "a second --fix changed the file again"
    remaining = fix_bytes(result, path.name, frozenset({code}), FixPolicy(frozenset())).outcome.findings
    assert [f for f in remaining if f.code == code] == []
