"""Pipeline files otelite refuses: each problem named by file, line and key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from otelite.pipeline import PipelineFileError, RedactionRules, parse_pipeline, read_pipeline_file

GOOD = """\
processors:
  redaction:
    rules:
      - keys: [password]
        action: delete
"""

BAD = [
    ("", "f.yaml: empty; give at least one processor"),
    ("processors: [\n", "f.yaml:2: not YAML"),
    ("receivers: {}\n", "f.yaml:1: receivers: unknown key (expected one of processors, exporters)"),
    ("processors: {}\n", "f.yaml:1: processors: give at least one processor"),
    ("processors:\n  redact: {}\n", "f.yaml:2: processors.redact: unknown key"),
    (
        "processors:\n  redaction: {}\n",
        "f.yaml:2: processors.redaction: give rules, or allow_keys",
    ),
    (
        "processors:\n  redaction:\n    rules:\n      - keys: [a]\n        action: drop\n",
        "f.yaml:5: processors.redaction.rules[0].action: must be one of delete, mask, hash, "
        "got 'drop'",
    ),
    (
        "processors:\n  redaction:\n    rules:\n      - keys: [a]\n",
        "f.yaml:4: processors.redaction.rules[0]: action: required",
    ),
    (
        "processors:\n  redaction:\n    rules:\n      - {keys: a, values: email, action: mask}\n",
        "f.yaml:4: processors.redaction.rules[0]: give keys or key_pattern, or values",
    ),
    (
        "processors:\n  redaction:\n    rules:\n      - {values: [iban], action: mask}\n",
        "f.yaml:4: processors.redaction.rules[0].values: 'iban' is not a preset",
    ),
    (
        "processors:\n  redaction:\n    rules:\n      - {key_pattern: '(', action: mask}\n",
        "f.yaml:4: processors.redaction.rules[0].key_pattern: not a regular expression",
    ),
    (
        "processors:\n  redaction:\n    rules:\n      - {value_pattern: 'x*', action: mask}\n",
        "f.yaml:4: processors.redaction.rules[0].value_pattern: matches an empty string",
    ),
    (
        "processors:\n  redaction:\n    rules:\n      - keys: [a]\n        action: hash\n",
        "f.yaml:5: processors.redaction.rules[0].action: hash needs hash_key_env",
    ),
    (
        "processors:\n  redaction:\n    hash_key_env: OTELITE_NO_SUCH_VARIABLE\n"
        "    rules:\n      - keys: [a]\n        action: hash\n",
        "f.yaml:3: processors.redaction.hash_key_env: $OTELITE_NO_SUCH_VARIABLE is not set",
    ),
    (
        "processors:\n  redaction:\n    summary: loud\n    allow_keys: [a]\n",
        "f.yaml:3: processors.redaction.summary: must be one of info, debug, silent",
    ),
    (
        "processors:\n  redaction:\n    allow_keys: [a]\n    allow_keys: [b]\n",
        "f.yaml:4: processors.redaction.allow_keys: given twice",
    ),
    (
        "processors:\n  redaction:\n    rules:\n      - keys: [1]\n        action: mask\n",
        "f.yaml:4: processors.redaction.rules[0].keys[0]: must be a non-empty string, got 1",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_files_name_the_line_and_the_key(text: str, message: str) -> None:
    with pytest.raises(PipelineFileError) as caught:
        parse_pipeline(text, "f.yaml")
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_good_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(GOOD)
    found = read_pipeline_file(path)
    assert isinstance(found.redaction, RedactionRules)
    assert list(found.processors) == [found.redaction]


def test_files_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(PipelineFileError, match="cannot read"):
        read_pipeline_file(tmp_path / "missing.yaml")
    (tmp_path / "big.yaml").write_bytes(b"#" * (1024 * 1024 + 1))
    with pytest.raises(PipelineFileError, match="larger than 1024 KiB"):
        read_pipeline_file(tmp_path / "big.yaml")
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe")
    with pytest.raises(PipelineFileError, match="not UTF-8"):
        read_pipeline_file(tmp_path / "binary.yaml")


def test_otelite_pipeline_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from otelite.cli import main

    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(GOOD)
    bad.write_text(GOOD.replace("delete", "drop"))
    assert main(["pipeline", "check", str(good)]) == 0
    assert capsys.readouterr().out == (
        f"{good}: ok\n  redaction (rules): 1 key rules, 0 value patterns, summary info\n"
    )
    assert main(["pipeline", "check", str(bad)]) == 1
    assert capsys.readouterr().err == (
        f"otelite: error: {bad}:5: processors.redaction.rules[0].action: must be one of "
        "delete, mask, hash, got 'drop'\n"
    )
