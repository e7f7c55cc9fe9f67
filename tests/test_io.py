"""atomic_write: the file is either the old one or the whole new one, never half of it."""

from __future__ import annotations

import stat

import pytest

from divnet_nb._io import atomic_write


def test_a_finished_write_replaces_the_file(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with atomic_write(target, "w") as f:
        f.write("new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]  # no temporary left


def test_an_interrupted_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), atomic_write(target) as f:
        f.write(b"half of the new")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_only_whole_file_modes(tmp_path):
    with (
        pytest.raises(ValueError, match="mode must be 'wb' or 'w'"),
        atomic_write(tmp_path / "x", "a"),
    ):
        pass
