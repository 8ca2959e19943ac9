"""Prometheus textfile output: exposition format, escaping, atomic replacement."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dnsops.render.prometheus import Metric, render, write_textfile


def test_exposition_format_with_help_type_and_escaped_labels() -> None:
    m = Metric("dnsops_x_drift", "Drift items.").add(3, zone="a.test.", note='say "hi"\\\n')
    m.add(0.25, zone="b.test.", note="")
    up = Metric("dnsops_x_up", "Up.", "gauge").add(1)
    assert render([m, up]) == (
        "# HELP dnsops_x_drift Drift items.\n"
        "# TYPE dnsops_x_drift gauge\n"
        'dnsops_x_drift{zone="a.test.",note="say \\"hi\\"\\\\\\n"} 3\n'
        'dnsops_x_drift{zone="b.test.",note=""} 0.25\n'
        "# HELP dnsops_x_up Up.\n"
        "# TYPE dnsops_x_up gauge\n"
        "dnsops_x_up 1\n"
    )


def test_special_values() -> None:
    m = Metric("m", "h").add(float("nan"), a="1").add(float("inf"), a="2").add(-float("inf"))
    assert render([m]).splitlines()[2:] == ['m{a="1"} NaN', 'm{a="2"} +Inf', "m -Inf"]


def test_write_replaces_the_file_atomically(tmp_path: Path) -> None:
    path = tmp_path / "textfile" / "dnsops.prom"
    path.parent.mkdir()  # the collector's directory: the user's, never created by dnsops
    write_textfile(path, [Metric("a", "first").add(1)])
    inode = path.stat().st_ino
    write_textfile(path, [Metric("a", "second").add(2)])
    assert path.read_text() == "# HELP a second\n# TYPE a gauge\na 2\n"
    assert path.stat().st_ino != inode  # a new file renamed over the old one
    assert path.stat().st_mode & 0o777 == 0o644
    assert os.listdir(path.parent) == ["dnsops.prom"]  # no temporary left behind


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "dnsops.prom"
    write_textfile(path, [Metric("a", "ok").add(1)])

    class Boom(Metric):
        @property  # type: ignore[override]
        def samples(self) -> list:  # type: ignore[type-arg]
            raise RuntimeError("boom")

        @samples.setter
        def samples(self, value: object) -> None:
            pass

    with pytest.raises(RuntimeError):
        write_textfile(path, [Boom("b", "bad")])
    assert path.read_text() == "# HELP a ok\n# TYPE a gauge\na 1\n"
    assert os.listdir(tmp_path) == ["dnsops.prom"]
