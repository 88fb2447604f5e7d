"""docs/benchmarks.md is written by two runs and by hand: none loses the others' blocks."""

from __future__ import annotations

from pathlib import Path

from bench.docs import kept_blocks, markers, write_block


def test_a_run_replaces_its_block_and_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.md"
    design = "\n".join([markers("design")[0], "by hand", markers("design")[1]])
    path.write_text("# Benchmarks\n\nold table\n\n" + design + "\n", encoding="utf-8")
    for table in ("first load", "second load"):
        write_block(path, "load", "\n".join([markers("load")[0], table, markers("load")[1]]))
    text = path.read_text(encoding="utf-8")
    assert text.count("load: begin") == 1
    assert "second load" in text
    assert "first load" not in text
    assert kept_blocks(path) == [
        "\n".join([markers("load")[0], "second load", markers("load")[1]]),
        design,
    ]
