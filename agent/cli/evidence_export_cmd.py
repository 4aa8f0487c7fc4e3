"""`posture-agent evidence export | verify | at | coverage | checkpoint | rotate-key | prune`: audit evidence.

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
from posture_verify.trust import OPTION_HELP

from agent.cli.common import input_file, open_url, output_file
from agent.cli.evidence_cmd import evidence_app
from agent.cli.mappings_cmd import ConfigOpt, DbOpt, resolve_scope
from agent.errors import EXIT_FINDINGS, UsageError

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
        return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: a zone offset past year 1 or 9999
        raise UsageError(f"not a date or time: {value[:60]!r} (e.g. 2026-03-14 or 2026-03-14T10:00Z)") from None


def _period(from_: str, to: str, now: datetime) -> tuple[datetime, datetime]:
    """--from and --to (default: the year up to now); --to must be after --from."""
    start = _when(from_) if from_ else now - timedelta(days=365)
    end = _when(to, end_of_day=True) if to else now
    if end <= start:
        raise UsageError("--to must be after --from" if from_ else "--to must be within the last year, or give --from")
    return start, end


def _framework(framework: str, mappings: Any) -> str:
    if framework not in mappings.frameworks:
        raise UsageError(f"unknown framework {framework!r}; choose from {', '.join(sorted(mappings.frameworks))}")
    return framework


def _signer(config: Path | None) -> Any:
    if config is None:
        return None
    from agent.config import load_config
    from agent.evidence.checkpoints import Signer

    return Signer.from_config(load_config(config).evidence)


def _anchors(config: Path | None) -> Any:
    """evidence.anchors: the witnesses of the bundle manifest (manifest.tsr, its copy in the anchor bucket)."""
    if config is None:
        return None
    from agent.config import load_config

    return load_config(config).evidence.anchors


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


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name too long: input_file names the problem
        return True


def _store(config: Path | None, db: str | None) -> Any:
    """The store of --db or the config: it must exist and be ours (migrated first when older). An
    absent store, an empty file or a database that is not ours is named as such and left untouched."""
    return open_url(resolve_scope(config, db).database, write=False)


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

    start, end = _period(from_, to, datetime.now(UTC))
    output_file("--out", out)
    mappings = load_mappings()
    _framework(framework, mappings)
    store = _store(config, db)
    try:
        with _bar("export") as progress:
            manifest = export_bundle(
                store,
                mappings,
                framework=framework,
                start=start,
                end=end,
                out=out,
                signer=_signer(config),
                progress=progress,
                anchors=_anchors(config),
            )
    finally:
        store.close()
    typer.echo(
        f"wrote {out}: {manifest['entries']} chain entries, {manifest['snapshots']} snapshots, "
        f"{len(manifest['files'])} files, {out.stat().st_size} bytes"
    )


@evidence_app.command("framework")
def framework_mapping(
    framework: Annotated[str, typer.Option("--framework", help="Framework id, e.g. soc2")] = "soc2",
    sha256: Annotated[bool, typer.Option("--sha256", help="Print only the SHA-256 of framework.json")] = False,
) -> None:
    """The framework mapping a bundle states (its framework.json): each criterion with the controls and checks
    that decide it. Give its SHA-256 to the auditor before the period; they pin it with --framework-sha256,
    so a bundle exported with another mapping fails verification."""
    import hashlib

    from agent.evidence.coverage import scope_of
    from agent.mappings import load_mappings
    from agent.models import canonical_json

    mappings = load_mappings()
    _framework(framework, mappings)
    scope = scope_of(mappings, framework).to_dict()
    digest = hashlib.sha256(canonical_json(scope)).hexdigest()
    if sha256:
        typer.echo(digest)
        return
    typer.echo(json.dumps(scope, indent=1))
    typer.echo(f"framework.json SHA-256 (pin it with --framework-sha256): {digest}", err=True)


@evidence_app.command("verify")
def verify(
    bundle: Annotated[Path | None, typer.Argument(help="A bundle zip; without it, the store itself")] = None,
    public_key: Annotated[
        list[Path] | None, typer.Option("--public-key", metavar="PEM", help=OPTION_HELP["public_key"])
    ] = None,
    key_fingerprint: Annotated[
        list[str] | None, typer.Option("--key-fingerprint", metavar="HEX", help=OPTION_HELP["key_fingerprint"])
    ] = None,
    tsa_cert: Annotated[
        list[Path] | None, typer.Option("--tsa-cert", metavar="PEM", help=OPTION_HELP["tsa_cert"])
    ] = None,
    anchor_bucket: Annotated[
        str | None, typer.Option("--anchor-bucket", metavar="S3URL", help=OPTION_HELP["anchor_bucket"])
    ] = None,
    s3_endpoint: Annotated[
        str | None, typer.Option("--s3-endpoint", metavar="URL", help=OPTION_HELP["s3_endpoint"])
    ] = None,
    tolerance: Annotated[
        str | None, typer.Option("--tolerance", metavar="DURATION", help=OPTION_HELP["tolerance"])
    ] = None,
    max_cadence: Annotated[
        str | None, typer.Option("--max-cadence", metavar="DURATION", help=OPTION_HELP["max_cadence"])
    ] = None,
    framework_sha256: Annotated[
        str | None, typer.Option("--framework-sha256", metavar="HEX", help=OPTION_HELP["framework_sha256"])
    ] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recompute every hash, the chain and the checkpoint signatures; exit 1 naming each bad record.
    With a pinned key (--public-key, --key-fingerprint) checkpoints are required: signed by it or a key
    it rotated to, at their signed cadence over the whole period, and a bundle's manifest signed.
    The standalone verifier's code (posture_verify; `posture-verify BUNDLE` gives the same verdict)."""
    from posture_verify.cli import summary
    from posture_verify.trust import TrustError, build_trust

    try:
        trust = build_trust(
            public_keys=public_key or [],
            fingerprints=key_fingerprint or [],
            tsa_certs=tsa_cert or [],
            anchor_bucket=anchor_bucket,
            s3_endpoint=s3_endpoint,
            tolerance=tolerance,
            max_cadence=max_cadence,
            framework_sha256=framework_sha256,
        )
    except TrustError as exc:
        raise UsageError(str(exc)) from None
    with _bar("verify") as progress:
        step = (lambda stage, n: progress(stage, min(9, 1 + n // 5000))) if progress else None
        if bundle is not None:
            from posture_verify.bundle import verify_bundle

            if not _exists(bundle):
                raise UsageError(f"bundle not found: {bundle}")
            input_file("BUNDLE", bundle)
            report = verify_bundle(bundle, trust=trust, progress=step)
            what = str(bundle)
        else:
            from posture_verify.chain import verify_records

            from agent.evidence.store_records import load_store_records

            store = _store(config, db)
            try:
                records = load_store_records(store)
                if trust.pinned:
                    report = verify_records(records, trust=trust, progress=step)
                else:  # the configured key checks the signatures; it proves nothing to a third party
                    signer = _signer(config)
                    report = verify_records(
                        records, trust=trust, public_keys=[signer.public] if signer else [], progress=step
                    )
            finally:
                store.close()
            what = "the store"
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for issue in report.issues:
            typer.echo(f"FAIL {issue}", err=True)
        typer.echo(summary(report, what))
        for note in report.notes:
            typer.echo(f"NOTE {note}", err=True)
    if not report.ok:
        raise typer.Exit(EXIT_FINDINGS)  # records that fail verification


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

    moment = _when(when)
    store = _store(config, db)
    try:
        result = state_at(store, load_mappings(), moment, control)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(
        f"{result['control']} at {result['at']}: {result['status'].upper()} ({len(result['findings'])} findings)"
    )
    for f in result["findings"]:
        typer.echo(
            f"  {f['status']:<8} {f['check_id']:<40} {f['resource_id']}  since {f['since']} "
            f"(snapshot {f['snapshot_id']}): {f['message']}"
        )
    for s in result["latest_snapshots"]:
        entry = s.get("chain_entry") or {}
        typer.echo(
            f"  snapshot {s['snapshot_id']} {s['source']}/{s['account']} at {s['finished_at']} "
            f"manifest {s['manifest_hash'][:16]} chain seq {entry.get('seq')}"
        )


@evidence_app.command("coverage")
def coverage(
    framework: Annotated[str, typer.Option("--framework")] = "soc2",
    from_: Annotated[str, typer.Option("--from", help="Default: the first run, at most 365 days back")] = "",
    to: Annotated[str, typer.Option("--to")] = "",
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Per requirement (JSON): its status for the period (passing, failing, partly, not evidenced, not
    assessed) and why; the automated part (runs, gaps, share of time passing, failures, time to remediate)
    and the manual part (documents in force and for how much of the period). `statuses` counts them."""
    from agent.evidence.coverage import compute_coverage
    from agent.mappings import load_mappings
    from agent.store.run_times import first_run_at

    now = datetime.now(UTC)
    given_start, end = _period(from_, to, now)  # both checked before the store is opened
    mappings = load_mappings()
    _framework(framework, mappings)
    store = _store(config, db)
    try:  # by default since the first run: the time before the agent ran is no monitoring gap
        first, year_ago = first_run_at(store), now - timedelta(days=365)
        start = given_start if from_ else max(first, year_ago) if first else year_ago
        if end <= start:
            raise UsageError(f"--to must be after the period's start ({start.isoformat()})")
        cov = compute_coverage(store, mappings, framework, start, end, now=now)
    finally:
        store.close()
    typer.echo(json.dumps(cov.to_dict(), indent=2))


def _cadence(config: Path | None) -> int | None:
    """evidence.checkpoint_every in seconds; None without a config (the store's last cadence is kept)."""
    if config is None:
        return None
    from agent.config import load_config

    return int(load_config(config).evidence.checkpoint_every.total_seconds())


def _describe(row: dict[str, Any]) -> str:
    signed = f", signed by key {row['key_id']}" if row["key_id"] else ", not signed (no evidence.signing_key)"
    rotation = f", rotating to key {row['rotate_to']}" if row.get("rotate_to") else ""
    announce = ", announcing its key" if row.get("announce") and not row.get("rotate_to") else ""
    return (
        f"checkpoint {row['seq']} of store {row['store']} at entry seq {row['head_seq']}, cadence "
        f"{row['cadence_s']}s{signed}{announce}{rotation}"
    )


@evidence_app.command("checkpoint")
def checkpoint(config: ConfigOpt = None, db: DbOpt = None) -> None:
    """Write a checkpoint of the chain head now (signed with evidence.signing_key), even when nothing
    was appended since the last one. Prints the key's full fingerprint: what an auditor pins."""
    from agent.evidence.checkpoints import checkpoint_now

    store = _store(config, db)
    try:
        row = checkpoint_now(store, datetime.now(UTC), _signer(config), cadence_s=_cadence(config))
    finally:
        store.close()
    typer.echo(_describe(row))


@evidence_app.command("rotate-key")
def rotate_key_cmd(
    new_key: Annotated[
        str, typer.Option("--new-key", metavar="REF", help="The new Ed25519 private key (PEM): file:/path or env:NAME")
    ],
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Rotate the signing key: a checkpoint signed by the current key (evidence.signing_key) names the
    new one, then the first checkpoint signed by the new key. Stop the agent first, then set
    evidence.signing_key to the new key and start it again (docs/evidence-format.md, "Keys")."""
    from agent.config_base import Secret, _secret
    from agent.errors import ConfigError
    from agent.evidence.checkpoints import RotationError, Signer, rotate_key

    if config is None:
        raise UsageError("--config is needed: evidence.signing_key names the current key, which signs the rotation")
    current = _signer(config)
    if current is None:
        raise UsageError(
            "evidence.signing_key is not set: there is no current key to rotate from; set it to the new key instead"
        )
    try:
        ref: Secret = _secret(new_key)
        new = Signer(ref.reveal(), option="--new-key")
    except ValueError as exc:
        raise UsageError(f"--new-key: {exc}") from None
    except ConfigError as exc:
        raise UsageError(f"--new-key: {'; '.join(p.message for p in exc.problems)}") from None
    store = _store(config, db)
    try:
        rows = rotate_key(store, datetime.now(UTC), current, new, cadence_s=_cadence(config))
    except RotationError as exc:
        raise UsageError(f"cannot rotate: {exc}") from None
    finally:
        store.close()
    for row in rows:
        typer.echo(_describe(row))
    typer.echo(
        f"rotated from key {current.fingerprint} to key {new.fingerprint}. Now set evidence.signing_key to "
        f"{new_key} and start the agent; tell the auditor the new fingerprint (an auditor who pinned the old "
        "one reaches the new one through the rotation)"
    )


@evidence_app.command("prune")
def prune_cmd(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would be deleted")] = False,
    retention_days: Annotated[
        int | None,
        typer.Option("--retention-days", help="Override evidence.retention_days (default 400)", min=30, max=36500),
    ] = None,
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
