"""privacy.secrets.write_private: the one atomic 0600 write of the data dir's private files
(keys, alert secrets, policy overrides, proposals)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from privacy.secrets import write_private


def test_a_private_file_is_0600_even_over_a_stale_temp_file(tmp_path: Path) -> None:
    """A temp file a crashed writer left (same pid after a restart in a container) keeps its
    mode through O_CREAT: the copy in policy administration set it again, write_private did
    not, so the renamed file stayed world-readable."""
    target = tmp_path / "policy-proposals.json"
    stale = tmp_path / f".{target.name}.{os.getpid()}.tmp"
    stale.write_text("half of an old write")
    stale.chmod(0o644)
    write_private(target, '{"proposals": [{"proposer": "张三"}]}')
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_bytes() == '{"proposals": [{"proposer": "张三"}]}'.encode()
    assert not stale.exists()
