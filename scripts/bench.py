"""Benchmark `followup run` against the openpyxl load-edit-save floor.

Usage: python scripts/bench.py [--sizes 1000,10000,100000] [--repeats 3] [--quick] [--out FILE]

Both contestants run as child processes of this script, so each measurement includes interpreter
start-up and imports (what a user waits for) and each peak memory is that one child's max RSS
(from `os.wait4`). The two are measured alternately within the same session, so a slower or
busier machine shifts both and the ratio stays meaningful. Workbooks are generated once with
xlsxwriter and cached in the work folder; every run gets a fresh copy, because a run changes
its workbook and records the day's digest.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

TODAY = date(2026, 3, 11)
SHEET = "Contacts"
GENERATOR_VERSION = 6  # bump when the generated workbook changes, to invalidate the cache
HEADERS = [
    "Name",
    "Company",
    "Role",
    "Email",
    "Phone",
    "LinkedIn",
    "How we met",
    "Met on",
    "Last contact",
    "Follow-ups",
    "Priority",
    "Cadence (days)",
    "Follow up on",
    "Status",
    "Referred by",
    "Notes",
    "Days since met",  # a column followup does not know; some rows hold a formula
    "Next follow-up",
    "Follow-up status",
    "Suggested action",
    "Last reminded",
]
OWNED = HEADERS[-4:]
LINKEDIN = HEADERS.index("LinkedIn")

# The targets the README promises.
TARGET_RATIO_10K = 0.35
TARGET_RATIO_100K = 0.2
TARGET_MB_100K = 300
TARGET_STARTUP_S = 0.5

# The floor: what a user would write with openpyxl. Run in a child so startup and memory count
# the same way as for followup.
OPENPYXL_CHILD = """
import sys
from datetime import date, timedelta
from openpyxl import load_workbook

src, dst, sheet, owned = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split("|")
today = date(2026, 3, 11)
book = load_workbook(src)
ws = book[sheet]
header = next(r for r in range(1, 21) if any(c.value == "Name" for c in ws[r]))
cols = {c.value: c.column for c in ws[header] if c.value in owned}
for row in range(header + 1, ws.max_row + 1):
    ws.cell(row, cols[owned[0]], today + timedelta(days=row % 30))
    ws.cell(row, cols[owned[1]], "Upcoming")
    ws.cell(row, cols[owned[2]], "Send a short, friendly note by email.")
    ws.cell(row, cols[owned[3]], today)
book.save(dst)
"""


# --- the workbooks ---------------------------------------------------------------------------

FIRST = ["Ana", "Ben", "Chloe", "David", "Elif", "Farah", "Gita", "Hugo", "Ines", "Jonas"]
FIRST += ["Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Yuki"]
LAST = ["Alvarez", "Brown", "Chen", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito"]
LAST += ["Jensen", "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Patel", "Rossi", "Smith"]
COMPANIES = [
    f"{word} {kind}"
    for word in ("Acme", "Blue", "Nova", "Orbit", "Pine", "Quartz", "Ridge", "Summit")
    for kind in ("Labs", "Group", "Health", "Systems", "Bank")
]
ROLES = ["Engineering Manager", "Recruiter", "Product Lead", "Data Scientist", "Founder", "CTO"]
HOW_MET = ["Networking event"] * 4 + ["Job application"] * 3 + ["Informational interview"] * 2
HOW_MET += ["Referral", "Keep in touch", "Keep in touch", "", "event"]
STAGES = [""] * 30 + ["Active"] * 4 + ["Waiting for reply"] * 4 + ["Declined", "Paused", "Closed"]
NOTES = ["Met at the meetup", "Asked about the team", "Sent CV", "Coffee chat", "Likes climbing"]


def contact_row(i: int, rng: random.Random) -> list[object]:
    """One plausible contact; about 1 row in 200 has something a user would have to fix."""
    rest, first = divmod(i, len(FIRST))
    rest, last = divmod(rest, len(LAST))
    first, last = FIRST[first], LAST[last]
    name = f"{first} {chr(65 + rest % 26)}.{chr(65 + rest // 26 % 26)}. {last}"  # unique < 243k
    ident = i - 1 if i % 997 == 5 else i  # now and then the same email twice: a duplicate
    company = COMPANIES[i * 7 % len(COMPANIES)]
    # A workbook in use: most people were met a while ago and contacted within their priority's
    # cadence, so about one contact in ten is due or overdue, as on a normal morning.
    how_met = rng.choice(HOW_MET)
    priority = "D" if i % 1000 == 11 else rng.choice(["A", "B", "B", "C", ""])
    age = rng.randint(0, 700)
    met: object = TODAY - timedelta(days=age) if rng.random() < 0.9 else None
    last_contact: object = None
    follow_ups = None
    stage = rng.choice(STAGES)
    if age > 10 and rng.random() < 0.97:
        cadence = 10 if stage == "Waiting for reply" else {"A": 30, "C": 180}.get(priority, 90)
        last_contact = TODAY - timedelta(days=rng.randint(0, min(age - 1, cadence + 3)))
        follow_ups = rng.randint(2, 3) if rng.random() < 0.95 else None
    if isinstance(met, date) and rng.random() < 0.05:  # typed as text, as people do
        met = rng.choice([f"{met.month}/{met.day}/{met.year}", met.strftime("%d %b %Y")])
    if i % 500 == 7:
        met = "last spring"  # a problem: not a date
    return [
        name,
        company,
        rng.choice(ROLES),
        f"{first}.{last}.{ident}@{company.split()[0]}.example".lower(),
        f"+44 20 7946 {i % 10000:04d}" if rng.random() < 0.4 else None,
        f"https://www.linkedin.com/in/{first}-{last}-{i}".lower() if rng.random() < 0.6 else None,
        how_met,
        met,
        last_contact,
        follow_ups,
        priority,
        rng.choice([14, 30, 60]) if rng.random() < 0.05 else None,
        TODAY + timedelta(days=rng.randint(-5, 40)) if rng.random() < 0.03 else None,
        stage,
        rng.choice(FIRST) if rng.random() < 0.05 else None,
        rng.choice(NOTES) if rng.random() < 0.3 else None,
    ]


def generate(path: Path, rows: int) -> None:
    """A workbook like one a user keeps: a title, a styled header, formats, a dropdown, a second
    sheet, and formulas followup must leave alone."""
    import xlsxwriter  # here, so the measuring process does not carry it

    rng = random.Random(rows)
    # URLs stay text except in one row in 100: openpyxl takes over three times as long on a sheet
    # with 60,000 hyperlinks, which would flatter the ratio rather than measure followup.
    book = xlsxwriter.Workbook(path, {"strings_to_urls": False})
    title = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "bg_color": "#1F4E78", "font_color": "#FFFFFF"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet(SHEET)
    sheet.write(0, 0, "My networking contacts", title)
    sheet.write_row(1, 0, HEADERS, head)
    sheet.freeze_panes(2, 1)
    sheet.set_column(0, len(HEADERS) - 1, 18)
    sheet.set_column(7, 8, 12, day)
    for i in range(rows):
        r = i + 2
        for col, value in enumerate(contact_row(i, rng)):
            if isinstance(value, date):
                sheet.write_datetime(r, col, value, day)
            elif col == LINKEDIN and value and i % 100 == 0:
                sheet.write_url(r, col, str(value))
            elif value not in (None, ""):
                sheet.write(r, col, value)
        if i % 100 == 3:
            sheet.write_formula(r, 16, f'=IF(ISNUMBER(H{r + 1}),TODAY()-H{r + 1},"")', None, 0)
    last = rows + 1
    sheet.autofilter(1, 0, last, len(HEADERS) - 1)
    sheet.data_validation(
        2, 6, last, 6, {"validate": "list", "source": "=Lists!$A$1:$A$5", "error_type": "warning"}
    )
    lists = book.add_worksheet("Lists")
    for r, value in enumerate(sorted(set(HOW_MET) - {"", "event"})):
        lists.write(r, 0, value)
    lists.write_formula(0, 2, f"=COUNTA({SHEET}!A:A)-2", None, rows)
    book.close()


def workbook(work: Path, rows: int) -> Path:
    """The cached generated workbook of `rows` contacts, made on first use.

    It is made in a separate process: a forked child's peak RSS starts at its parent's size, so
    this process must stay small for the children's peaks to be their own.
    """
    path = work / f"contacts-{rows}-v{GENERATOR_VERSION}.xlsx"
    if not path.exists():
        for stale in work.glob(f"contacts-{rows}-v*.xlsx"):
            stale.unlink()
        started = time.perf_counter()
        partial = path.with_suffix(".tmp.xlsx")
        maker = multiprocessing.get_context("spawn").Process(target=generate, args=(partial, rows))
        maker.start()
        maker.join()
        if maker.exitcode != 0:
            raise SystemExit(f"could not generate {path.name}")
        partial.replace(path)
        print(f"generated {path.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return path


# --- measuring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One child process: wall time, and peak RSS in MB."""

    seconds: float
    peak_mb: float


def measure(argv: Sequence[str], cwd: Path) -> Sample:
    """Run a child to completion; its wall time and its own peak RSS (not this process's)."""
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            output.seek(0)
            text = output.read().decode(errors="replace")
            raise SystemExit(f"{' '.join(argv)} exited with {child.returncode}:\n{text}")
    return Sample(seconds, usage.ru_maxrss / 1024)  # Linux reports KiB


def fresh_copy(source: Path, folder: Path) -> Path:
    """A clean run folder holding a copy of the workbook and a config that uses the outbox."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy2(source, folder / "contacts.xlsx")
    (folder / "config.toml").write_text(
        f'[workbook]\npath = "contacts.xlsx"\nsheet = "{SHEET}"\n\n[digest]\noutbox = "outbox"\n',
        encoding="utf-8",
    )
    return folder


def followup(command: str, *options: str) -> list[str]:
    """The real program as a user starts it, so imports and start-up are part of the time."""
    return [sys.executable, "-m", "followup", command, "--config", "config.toml", *options]


@dataclass
class Results:
    """Every sample of one workbook size."""

    openpyxl: list[Sample] = field(default_factory=list)
    run: list[Sample] = field(default_factory=list)
    rerun: list[Sample] = field(default_factory=list)
    rerun_kept_mtime: list[bool] = field(default_factory=list)


def bench_size(source: Path, folder: Path, results: Results, run_first: bool) -> None:
    """One repeat for one size: the openpyxl floor and followup run (order alternates), then a
    second run the same day, which must leave the file alone."""
    today = ["--today", TODAY.isoformat()]

    def floor() -> None:
        run_dir = fresh_copy(source, folder / "openpyxl")
        argv = [sys.executable, "-c", OPENPYXL_CHILD, "contacts.xlsx", "out.xlsx", SHEET]
        results.openpyxl.append(measure([*argv, "|".join(OWNED)], run_dir))

    def ours() -> None:
        run_dir = fresh_copy(source, folder / "followup")
        book = run_dir / "contacts.xlsx"
        before = book.stat().st_mtime_ns
        results.run.append(measure(followup("run", *today), run_dir))
        written = book.stat().st_mtime_ns
        if written == before:
            raise SystemExit(f"followup run did not write {book}; nothing was measured")
        results.rerun.append(measure(followup("run", *today), run_dir))
        results.rerun_kept_mtime.append(book.stat().st_mtime_ns == written)

    steps: list[Callable[[], None]] = [ours, floor] if run_first else [floor, ours]
    for step in steps:
        step()


def startup(source: Path, folder: Path, repeats: int) -> tuple[float, float]:
    """Median seconds of `followup --help`, and of `followup status` on the given workbook."""
    run_dir = fresh_copy(source, folder / "startup")
    helps = [measure([sys.executable, "-m", "followup", "--help"], run_dir) for _ in range(repeats)]
    today = ["--today", TODAY.isoformat()]
    states = [measure(followup("status", *today), run_dir) for _ in range(repeats)]
    return median(helps), median(states)


def median(samples: Sequence[Sample]) -> float:
    return statistics.median(s.seconds for s in samples)


def peak(samples: Sequence[Sample]) -> float:
    return max(s.peak_mb for s in samples)


# --- reporting -------------------------------------------------------------------------------


def machine() -> str:
    """CPU model, cores, Python version and date, for the header line."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()}, {date.today().isoformat()}"
    )


def report(
    by_size: dict[int, Results], help_s: float, status_s: float, repeats: int, status_rows: int
) -> str:
    """The Markdown table, the start-up times and a line per target: met or not."""
    lines = [
        f"Machine: {machine()}; median of {repeats}, peak RSS is the largest.",
        "",
        "| Rows | openpyxl | openpyxl peak | followup run | run peak | run / openpyxl "
        "| 2nd run same day | file untouched |",
        "|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    checks: list[tuple[str, bool]] = []
    for rows, res in by_size.items():
        ratio = median(res.run) / median(res.openpyxl)
        kept = all(res.rerun_kept_mtime)
        lines.append(
            f"| {rows:,} | {median(res.openpyxl):.2f} s | {peak(res.openpyxl):.0f} MB "
            f"| {median(res.run):.2f} s | {peak(res.run):.0f} MB | {ratio:.2f} "
            f"| {median(res.rerun):.2f} s | {'yes' if kept else 'NO'} |"
        )
        checks.append((f"{rows:,} rows: a second run the same day leaves the file alone", kept))
        if rows >= 10_000:  # below that, both runs are mostly interpreter start-up
            quick = median(res.rerun) <= median(res.run) / 2
            checks.append((f"{rows:,} rows: the second run takes at most half the first", quick))
        if rows == 10_000:
            checks.append(
                (f"10,000 rows: run ≤ {TARGET_RATIO_10K} x openpyxl", ratio <= TARGET_RATIO_10K)
            )
        if rows == 100_000:
            checks.append(("100,000 rows: run ≤ 1/5 x openpyxl", ratio <= TARGET_RATIO_100K))
            checks.append(
                (f"100,000 rows: run peak < {TARGET_MB_100K} MB", peak(res.run) < TARGET_MB_100K)
            )
    checks.append((f"`followup --help` < {TARGET_STARTUP_S} s", help_s < TARGET_STARTUP_S))
    checks.append(
        (
            f"`followup status` on {status_rows:,} rows < {TARGET_STARTUP_S} s",
            status_s < TARGET_STARTUP_S,
        )
    )
    lines += [
        "",
        f"`followup --help`: {help_s:.2f} s; `followup status` ({status_rows:,} rows): "
        f"{status_s:.2f} s.",
        "",
        *(f"- [{'x' if ok else ' '}] {what}" for what, ok in checks),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated row counts")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--quick", action="store_true", help="1,000 rows only")
    parser.add_argument("--out", type=Path, help="also write the Markdown table here")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "followup-bench",
        help="folder for cached workbooks and run copies",
    )
    args = parser.parse_args(argv)
    sizes = [1000] if args.quick else [int(size) for size in args.sizes.split(",")]
    args.work.mkdir(parents=True, exist_ok=True)
    sources = {rows: workbook(args.work, rows) for rows in sizes}
    status_rows = 1000
    status_source = sources.get(status_rows) or workbook(args.work, status_rows)

    help_s, status_s = startup(status_source, args.work / "runs", args.repeats)
    by_size = {rows: Results() for rows in sizes}
    for repeat in range(args.repeats):
        for rows in sizes:
            print(f"repeat {repeat + 1}/{args.repeats}: {rows:,} rows", file=sys.stderr)
            folder = args.work / "runs" / str(rows)
            bench_size(sources[rows], folder, by_size[rows], run_first=repeat % 2 == 1)
    shutil.rmtree(args.work / "runs", ignore_errors=True)

    table = report(by_size, help_s, status_s, args.repeats, status_rows)
    print(table)
    if args.out:
        args.out.write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
