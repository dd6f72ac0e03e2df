"""Recall and false alarms of `cloudshift scan` against hand-traced ground truth in real packages.

    python benchmarks/recall.py                   # every package, development and held-out sets
    python benchmarks/recall.py --set dev --misses --package s3fs

Each truth file in benchmarks/recall/truth/ pins a PyPI distribution; it is downloaded once into
--cache (wheel preferred, nothing installed, nothing imported), unpacked, and scanned as a whole
with `cloudshift scan --format json --no-cache`. A traced site counts as found when a finding
starts on its line, or spans its line and names its method; a look-alike counts as a false alarm
the same way. Findings in traced files that match neither list are printed as unlabelled.
The figures are reported, never asserted: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import time
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
TRUTH = HERE / "recall" / "truth"
MECHANISMS = ("direct", "cross-module", "async", "optimistic", "factory-args", "collections", "subclass")
PROVIDERS = ("aws", "gcp", "azure", "oci")


@dataclass(frozen=True)
class Site:
    package: str
    path: str
    line: int
    call: str
    provider: str = ""
    mechanism: str = ""
    note: str = ""


@dataclass
class Truth:
    package: str
    version: str
    heldout: bool
    sites: list[Site]
    lookalikes: list[Site]
    files: set[str]


@dataclass
class Outcome:
    found: list[Site] = field(default_factory=list)
    missed: list[Site] = field(default_factory=list)
    flagged: list[Site] = field(default_factory=list)  # look-alikes reported as SDK calls
    clean: list[Site] = field(default_factory=list)
    unlabelled: list[dict[str, object]] = field(default_factory=list)
    seconds: float = 0.0


def load_truth(path: Path) -> Truth:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    package = data["package"]
    sites = [
        Site(package, s["path"], int(s["line"]), s["call"], s["provider"], s["mechanism"], s.get("trace", ""))
        for s in data.get("sites") or ()
    ]
    lookalikes = [
        Site(package, s["path"], int(s["line"]), s["call"], note=s.get("why", "")) for s in data.get("lookalikes") or ()
    ]
    files = set(data.get("files") or ()) | {s.path for s in sites} | {s.path for s in lookalikes}
    return Truth(package, str(data["version"]), bool(data.get("heldout")), sites, lookalikes, files)


def fetch(truth: Truth, cache: Path) -> Path:
    """The unpacked distribution's root folder, downloading it from PyPI the first time."""
    root = cache / f"{truth.package}-{truth.version}"
    if root.is_dir():
        return root
    downloads = cache / "dl"
    requirement = f"{truth.package}=={truth.version}"
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(downloads), requirement]
    quiet = {"stderr": subprocess.DEVNULL}
    if subprocess.run([*pip, "--only-binary=:all:"], check=False, **quiet).returncode != 0:
        subprocess.run([*pip, "--no-binary=:all:"], check=True)
    archive = _archive_of(truth, downloads)
    staging = root.with_name(root.name + ".partial")
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as wheel:
            wheel.extractall(staging)
        staging.rename(root)
    else:
        with tarfile.open(archive) as sdist:
            sdist.extractall(staging, filter="data")
        (top,) = staging.iterdir()
        top.rename(root)
        staging.rmdir()
    return root


def _archive_of(truth: Truth, downloads: Path) -> Path:
    wanted = {truth.package.lower().replace("-", "_"), truth.package.lower()}
    for archive in sorted(downloads.iterdir()):
        name, _, rest = archive.name.partition(f"-{truth.version}")
        if rest and name.lower().replace("-", "_") in wanted | {w.replace("-", "_") for w in wanted}:
            return archive
    raise SystemExit(f"no downloaded archive for {truth.package}=={truth.version} in {downloads}")


def scan(root: Path) -> tuple[list[dict[str, object]], float]:
    """cloudshift's findings for the whole distribution, with paths relative to its root."""
    # Generated files in these packages (oci-cli's) are over the default size limit, and hold traced sites.
    command = [sys.executable, "-m", "cloudshift", "scan", "--format", "json", "--no-cache", "--exit-zero"]
    command += ["--max-file-size", "0", "--no-gitignore", "."]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 2) or not done.stdout:
        raise SystemExit(f"cloudshift scan failed in {root} ({done.returncode}):\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout)
    for error in report.get("errors", ()):
        print(f"  scan error: {error['path']}:{error['line']}: {error['message']}", file=sys.stderr)
    return list(report["findings"]), seconds


def _covers(finding: dict[str, object], site: Site) -> bool:
    if finding["path"] != site.path:
        return False
    start, end = int(finding["line"]), int(finding["end_line"])  # type: ignore[call-overload]
    if start == site.line:
        return True
    return start <= site.line <= end and site.call in str(finding.get("snippet", ""))


def judge(truth: Truth, findings: list[dict[str, object]]) -> Outcome:
    outcome = Outcome()
    used: set[int] = set()
    for site in truth.sites:
        hits = [i for i, f in enumerate(findings) if _covers(f, site)]
        (outcome.found if hits else outcome.missed).append(site)
        used.update(hits)
    for site in truth.lookalikes:
        hits = [i for i, f in enumerate(findings) if _covers(f, site) and i not in used]
        (outcome.flagged if hits else outcome.clean).append(site)
        used.update(hits)
    outcome.unlabelled = [f for i, f in enumerate(findings) if i not in used and f["path"] in truth.files]
    return outcome


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "    -"


def print_table(title: str, rows: dict[str, tuple[int, int]], what: str) -> None:
    print(f"\n{title}")
    width = max(16, *(len(name) for name in rows))
    print(f"  {'':<{width}} {what:>9} {'rate':>7}")
    for name, (part, whole) in rows.items():
        print(f"  {name:<{width}} {f'{part}/{whole}':>9} {percent(part, whole):>7}")


def summarise(label: str, outcomes: dict[str, Outcome]) -> None:
    sites = [(s, True) for o in outcomes.values() for s in o.found] + [
        (s, False) for o in outcomes.values() for s in o.missed
    ]
    if not sites:
        return
    print(f"\n=== {label}: {len(outcomes)} packages ===")
    by_provider: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_mechanism: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for site, found in sites:
        for table, key in ((by_provider, site.provider), (by_mechanism, site.mechanism)):
            table[key][0] += found
            table[key][1] += 1
    total = (sum(found for _, found in sites), len(sites))
    flagged = sum(len(o.flagged) for o in outcomes.values())
    lookalikes = flagged + sum(len(o.clean) for o in outcomes.values())
    provider_rows = {p: (by_provider[p][0], by_provider[p][1]) for p in PROVIDERS if p in by_provider}
    print_table("recall by provider", {**provider_rows, "all": total}, "found")
    mechanism_rows = {m: (by_mechanism[m][0], by_mechanism[m][1]) for m in MECHANISMS if m in by_mechanism}
    print_table("recall by mechanism", mechanism_rows, "found")
    package_rows = {name: (len(o.found), len(o.found) + len(o.missed)) for name, o in outcomes.items()}
    print_table("recall by package", package_rows, "found")
    print(f"\nfalse alarms on look-alikes: {flagged}/{lookalikes} {percent(flagged, lookalikes)}")
    unlabelled = sum(len(o.unlabelled) for o in outcomes.values())
    print(f"unlabelled findings in traced files: {unlabelled}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--truth", type=Path, default=TRUTH)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/cloudshift-recall"))
    parser.add_argument("--set", choices=("dev", "heldout", "all"), default="all")
    parser.add_argument("--package", action="append", help="only these packages")
    parser.add_argument("--misses", action="store_true", help="list missed sites and flagged look-alikes")
    parser.add_argument("--unlabelled", action="store_true", help="list findings that match no label")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    truths = [load_truth(path) for path in sorted(args.truth.glob("*.yaml"))]
    truths = [t for t in truths if not args.package or t.package in args.package]
    truths = [t for t in truths if args.set == "all" or (args.set == "heldout") == t.heldout]
    outcomes: dict[str, Outcome] = {}
    for truth in truths:
        findings, seconds = scan(fetch(truth, args.cache))
        outcomes[truth.package] = judge(truth, findings)
        outcomes[truth.package].seconds = seconds
        o = outcomes[truth.package]
        print(
            f"{truth.package:<44} sites {len(o.found):>3}/{len(truth.sites):<3} "
            f"look-alikes flagged {len(o.flagged):>2}/{len(truth.lookalikes):<3} "
            f"unlabelled {len(o.unlabelled):>3}  scan {seconds:6.1f} s",
            flush=True,
        )
        if args.misses:
            for site in o.missed:
                print(f"    missed  {site.path}:{site.line} {site.call} [{site.mechanism}] {site.note}")
            for site in o.flagged:
                print(f"    FLAGGED {site.path}:{site.line} {site.call} ({site.note})")
        if args.unlabelled:
            for f in o.unlabelled:
                print(f"    unlabelled {f['path']}:{f['line']} {f['rule']} {str(f.get('snippet', ''))[:90]}")
    heldout = {t.package for t in truths if t.heldout}
    summarise("development set", {k: v for k, v in outcomes.items() if k not in heldout})
    summarise("held-out set", {k: v for k, v in outcomes.items() if k in heldout})
    if heldout and len(heldout) < len(outcomes):
        summarise("all packages", outcomes)


if __name__ == "__main__":
    main()
