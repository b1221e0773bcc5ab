"""The whole data dir is owner-only, the graph server's files included (issue 11, item 6)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from shared.datadir import secure_data_dir
from tests.security.conftest import LiveHub


def loose(root: Path) -> list[str]:
    out = []
    for path in [root, *root.rglob("*")]:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            continue
        # Owner-only: 0700 for dirs and sockets (the graph server sets its socket mode), 0600 files.
        allowed = 0o700 if stat.S_ISDIR(mode) or stat.S_ISSOCK(mode) else 0o600
        if stat.S_IMODE(mode) & ~allowed:
            out.append(f"{path.relative_to(root)} {stat.S_IMODE(mode):o}")
    return out


def test_a_running_hub_keeps_its_data_dir_owner_only(live_hub: LiveHub) -> None:
    files = [p for p in live_hub.data_dir.rglob("*") if p.is_file()]
    assert any("falkordb" in str(p) for p in files), files  # the graph server's own files
    assert loose(live_hub.data_dir) == []


def test_secure_data_dir_tightens_what_is_there(tmp_path: Path) -> None:
    root = tmp_path / "d"
    (root / "policies").mkdir(parents=True)
    (root / "policies" / "data.json").write_text("{}")
    os.chmod(root / "policies" / "data.json", 0o644)
    os.chmod(root / "policies", 0o755)
    old = os.umask(0o022)
    try:
        assert secure_data_dir(root) >= 2
        assert loose(root) == []
        (root / "new").write_text("x")  # created after: the umask keeps it private
        assert stat.S_IMODE((root / "new").stat().st_mode) == 0o600
    finally:
        os.umask(old)
