"""Run every benchmark in bench/ one after the other (`make bench`). Prints; asserts nothing.

    .venv/bin/python bench/run_all.py                 # small sizes: a few minutes on 2 cores
    .venv/bin/python bench/run_all.py --size full     # the sizes the issue asks for (much longer)

Each script can also be run alone with its own options (see its docstring and BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = {
    "small": {
        "pos": ["--sales", "100", "--receipts", "10"],
        "receipt": ["--receipts", "20", "--rounds", "3"],
        "catalogue": ["--products", "10000", "--requests", "20"],
        "payouts": ["--lines", "30000", "--makers", "200"],
        "serve": ["--counters", "8", "--sales", "20", "--products", "2000", "--requests", "20"],
        "serve_sqlite": ["--db", "sqlite", "--counters", "12", "--sales", "25", "--no-catalogue"],
    },
    "full": {
        "pos": ["--sales", "1000", "--receipts", "50"],
        "receipt": ["--receipts", "50", "--rounds", "5"],
        "catalogue": ["--products", "10000", "--requests", "100"],
        "payouts": ["--lines", "1000000", "--makers", "600"],
        "serve": ["--counters", "20", "--sales", "100", "--products", "10000", "--requests", "100"],
        "serve_sqlite": ["--db", "sqlite", "--counters", "12", "--sales", "100", "--no-catalogue"],
    },
}


def run(title: str, script: str, args: list[str]) -> None:
    print(f"\n=== {title}: bench/{script} {' '.join(args)}", flush=True)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT)
    status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
    print(f"=== {title}: {status} in {time.perf_counter() - started:.0f} s", flush=True)
    if result.returncode != 0:
        raise SystemExit(result.returncode)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    size = SIZES[parser.parse_args().size]

    from scripts.pg_server import running_postgres

    run("POS sale API vs the same rows by bare sqlite3, receipts (SQLite)", "bench_pos.py", size["pos"])
    with running_postgres() as server:
        run("POS sale API vs the same rows by bare psycopg, receipts (PostgreSQL)", "bench_pos.py",
            [*size["pos"], "--db", server.url])
    run("80 mm receipt vs bare WeasyPrint (SQLite)", "bench_receipt.py", size["receipt"])
    run("Catalogue and search (SQLite, test client)", "bench_catalogue.py", size["catalogue"])
    run("Maker balances and month report vs SQL", "bench_payouts.py", [*size["payouts"], "--db", "both"])
    run("Through gunicorn + PostgreSQL", "bench_serve.py", size["serve"])
    run("Through gunicorn + SQLite, 12 counters", "bench_serve.py", size["serve_sqlite"])


if __name__ == "__main__":
    main()
