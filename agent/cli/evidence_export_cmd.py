"""`posture-agent evidence export | verify | at | coverage | checkpoint | prune`: audit evidence for a period.

Added to the shared ``evidence_app`` (agent/cli/evidence_cmd.py)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.cli.evidence_cmd import evidence_app
from agent.cli.mappings_cmd import ConfigOpt, DbOpt, open_store, resolve_scope
from agent.errors import UsageError

__all__ = ["register"]

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


def _when(value: str, *, end_of_day: bool = False) -> datetime:
    """2026-03-14, 2026-03-14T10:00Z or any ISO-8601; UTC when no zone is given."""
    v = value.strip().replace("z", "Z")
    try:
        if len(v) == 10:
            d = datetime.fromisoformat(v)
            dt = datetime.combine(d.date(), time.max if end_of_day else time.min)
        else:
            dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"not a date or time: {value!r} (e.g. 2026-03-14 or 2026-03-14T10:00Z)") from None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _signer(config: Path | None) -> Any:
    if config is None:
        return None
    from agent.config import load_config
    from agent.evidence.checkpoints import Signer

    return Signer.from_config(load_config(config).evidence)


@contextmanager
def _bar(label: str) -> Iterator[Any]:
    """A progress bar on a terminal, nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as p:
        task = p.add_task(label, total=10)
        yield lambda stage, n, total=10: p.update(task, completed=n, total=total, description=f"{label}: {stage}")


def _store(config: Path | None, db: str | None) -> Any:
    scope = resolve_scope(config, db)
    store = open_store(scope.database)
    if store is None:
        raise UsageError(f"no store at {scope.database}; run the agent or `posture-agent scan --store` first")
    return store


@evidence_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="The zip to write")],
    framework: Annotated[str, typer.Option("--framework", help="Framework id, e.g. soc2")] = "soc2",
    from_: Annotated[str, typer.Option("--from", help="Start of the period (date or time, UTC)")] = "",
    to: Annotated[str, typer.Option("--to", help="End of the period, inclusive")] = "",
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Write the evidence bundle of a period: chain segment, records, summaries, HTML and OSCAL."""
    from agent.evidence.export import export_bundle
    from agent.mappings import load_mappings

    now = datetime.now(UTC)
    start = _when(from_) if from_ else now - timedelta(days=365)
    end = _when(to, end_of_day=True) if to else now
    if end <= start:
        raise UsageError("--to must be after --from")
    mappings = load_mappings()
    if framework not in mappings.frameworks:
        raise UsageError(f"unknown framework {framework!r}; choose from {', '.join(sorted(mappings.frameworks))}")
    store = _store(config, db)
    try:
        with _bar("export") as progress:
            manifest = export_bundle(store, mappings, framework=framework, start=start, end=end, out=out,
                                     signer=_signer(config), progress=progress)
    finally:
        store.close()
    typer.echo(f"wrote {out}: {manifest['entries']} chain entries, {manifest['snapshots']} snapshots, "
               f"{len(manifest['files'])} files, {out.stat().st_size} bytes")


@evidence_app.command("verify")
def verify(
    bundle: Annotated[Path | None, typer.Argument(help="A bundle zip; without it, the store itself")] = None,
    public_key: Annotated[list[Path] | None, typer.Option(
        "--public-key", metavar="PEM",
        help="Ed25519 public key (PEM) the checkpoints must be signed with; repeatable")] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recompute every hash, the chain and the checkpoint signatures; exit 1 naming each bad record.
    The standalone verifier's code (posture_verify; `posture-verify BUNDLE` gives the same verdict)."""
    from posture_verify.checkpoints import load_public_key
    from posture_verify.cli import summary

    keys: list[Any] = []
    for pem in public_key or []:
        try:
            keys.append(load_public_key(pem.read_bytes()))
        except (OSError, ValueError) as exc:
            raise UsageError(f"--public-key {pem}: {exc}") from None
    with _bar("verify") as progress:
        step = (lambda stage, n: progress(stage, min(9, 1 + n // 5000))) if progress else None
        if bundle is not None:
            from posture_verify.bundle import verify_bundle

            if not bundle.is_file():
                raise UsageError(f"bundle not found: {bundle}")
            report = verify_bundle(bundle, public_keys=keys, progress=step)
            what = str(bundle)
        else:
            from posture_verify.chain import verify_records

            from agent.evidence.store_records import load_store_records

            store = _store(config, db)
            try:
                signer = _signer(config)
                trusted = keys or ([signer.public] if signer else [])
                report = verify_records(load_store_records(store), public_keys=trusted, require_signed=bool(keys),
                                        progress=step)
            finally:
                store.close()
            what = "the store"
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for issue in report.issues:
            typer.echo(f"FAIL {issue}", err=True)
        typer.echo(summary(report, what))
    if not report.ok:
        raise typer.Exit(1)


@evidence_app.command("at")
def at(
    when: Annotated[str, typer.Argument(help="The moment, e.g. 2026-03-14T10:00Z")],
    control: Annotated[str, typer.Option("--control", help="SOC2:CC6.1 or a control id")],
    config: ConfigOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The state of a control as the agent knew it then, with the snapshots it came from."""
    from agent.evidence.pointintime import state_at
    from agent.mappings import load_mappings

    store = _store(config, db)
    try:
        result = state_at(store, load_mappings(), _when(when), control)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"{result['control']} at {result['at']}: {result['status'].upper()} "
               f"({len(result['findings'])} findings)")
    for f in result["findings"]:
        typer.echo(f"  {f['status']:<8} {f['check_id']:<40} {f['resource_id']}  since {f['since']} "
                   f"(snapshot {f['snapshot_id']}): {f['message']}")
    for s in result["latest_snapshots"]:
        entry = s.get("chain_entry") or {}
        typer.echo(f"  snapshot {s['snapshot_id']} {s['source']}/{s['account']} at {s['finished_at']} "
                   f"manifest {s['manifest_hash'][:16]} chain seq {entry.get('seq')}")


@evidence_app.command("coverage")
def coverage(
    framework: Annotated[str, typer.Option("--framework")] = "soc2",
    from_: Annotated[str, typer.Option("--from")] = "",
    to: Annotated[str, typer.Option("--to")] = "",
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Per requirement (JSON): its status for the period (passing, failing, partly, not evidenced, not
    assessed) and why; the automated part (runs, gaps, share of time passing, failures, time to remediate)
    and the manual part (documents in force and for how much of the period). `statuses` counts them."""
    from agent.evidence.coverage import compute_coverage
    from agent.mappings import load_mappings

    now = datetime.now(UTC)
    start = _when(from_) if from_ else now - timedelta(days=365)
    end = _when(to, end_of_day=True) if to else now
    store = _store(config, db)
    try:
        cov = compute_coverage(store, load_mappings(), framework, start, end, now=now)
    finally:
        store.close()
    typer.echo(json.dumps(cov.to_dict(), indent=2))


@evidence_app.command("checkpoint")
def checkpoint(config: ConfigOpt = None, db: DbOpt = None) -> None:
    """Write a (signed, with evidence.signing_key) checkpoint of the chain head now."""
    from agent.evidence.checkpoints import checkpoint_now

    store = _store(config, db)
    try:
        row = checkpoint_now(store, datetime.now(UTC), _signer(config))
    finally:
        store.close()
    typer.echo("nothing new since the last checkpoint" if row is None else
               f"checkpoint {row['seq']} at seq {row['head_seq']} {'signed ' + row['key_id'] if row['key_id'] else ''}")


@evidence_app.command("prune")
def prune_cmd(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would be deleted")] = False,
    retention_days: Annotated[int | None, typer.Option(
        "--retention-days", help="Override evidence.retention_days (default 400)", min=30)] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Delete evidence older than evidence.retention_days through the audited pruning path; a
    checkpoint anchors what remains so `evidence verify` still passes."""
    from agent.evidence.retention import describe, prune

    days = retention_days
    if days is None and config is not None:
        from agent.config import load_config

        days = load_config(config).evidence.retention_days
    store = _store(config, db)
    try:
        res = prune(store, datetime.now(UTC), days or 400, signer=_signer(config), dry_run=dry_run)
    finally:
        store.close()
    typer.echo(describe(res))


def register(app: typer.Typer) -> None:
    """Commands live on the shared evidence sub-app; importing this module adds them."""
