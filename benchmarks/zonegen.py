"""Deterministic octoDNS YAML zones of any size, with a realistic mix of record types.

Reusable by every benchmark: ``write_zone(directory, "bench.test.", 100_000)`` writes
``directory/bench.test.yaml`` (keys sorted, as ``enforce_order: true`` wants) and returns
its path. The same arguments always give the same bytes (a seeded RNG, no clock).

The zone lints clean under the shipped default policy (apex NS of both lab providers,
CAA, SPF + DMARC, two MX; documentation address ranges only; TTLs inside their bands),
so a benchmark measures the work, not the rendering of thousands of findings.

    python -m benchmarks.zonegen --records 100000 --zone bench.test. --out /tmp/zones
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

# The lab's nameservers (dnsops.yaml): both providers at the apex.
LAB_NAMESERVERS = ("ns1.bind.test.", "ns1.pdns.test.", "ns2.bind.test.", "ns2.pdns.test.")

# type -> weight (per 1000 records) of the generated non-apex records
MIX = (
    ("A", 420),
    ("AAAA", 150),
    ("CNAME", 220),
    ("TXT", 90),
    ("SRV", 50),
    ("NS", 20),
    ("CAA", 20),
    ("A-multi", 30),
)
TTLS_STABLE = (300, 600, 1800, 3600, 3600, 3600, 7200)


def _q(text: str) -> str:
    """A YAML double-quoted scalar."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _apex(zone: str, nameservers: tuple[str, ...]) -> list[str]:
    ns = "\n".join(f"      - {n}" for n in sorted(nameservers))
    return [
        "'':",
        "  - ttl: 3600",
        "    type: A",
        "    values:",
        "      - 192.0.2.10",
        "      - 192.0.2.11",
        "  - ttl: 86400",
        "    type: CAA",
        "    values:",
        "      - flags: 0",
        "        tag: issue",
        "        value: letsencrypt.org",
        "      - flags: 0",
        "        tag: issuewild",
        "        value: ;",
        "  - ttl: 3600",
        "    type: MX",
        "    values:",
        f"      - exchange: mx1.{zone}",
        "        preference: 10",
        f"      - exchange: mx2.{zone}",
        "        preference: 20",
        "  - ttl: 86400",
        "    type: NS",
        "    values:",
        ns,
        "  - ttl: 3600",
        "    type: TXT",
        "    values:",
        "      - v=spf1 mx -all",
        "_dmarc:",
        "  ttl: 3600",
        "  type: TXT",
        f"  value: {_q('v=DMARC1; p=reject; rua=mailto:dmarc@' + zone.rstrip('.'))}",
    ]


def _record(kind: str, i: int, rng: random.Random, zone: str, hosts: list[str]) -> list[str]:
    """One record; CNAME and SRV targets are address records generated before it
    (octoDNS's best-practice validators want in-zone targets to exist, and no CNAME
    pointing at a CNAME)."""
    ttl = rng.choice(TTLS_STABLE)
    if kind == "A":
        return [f"  ttl: {ttl}", "  type: A", f"  value: 198.51.100.{i % 250 + 1}"]
    if kind == "A-multi":
        a, b = i % 250 + 1, (i * 7) % 250 + 1
        return [
            f"  ttl: {ttl}",
            "  type: A",
            "  values:",
            f"    - 203.0.113.{min(a, b)}",
            f"    - 203.0.113.{max(a, b) + (1 if a == b else 0)}",
        ]
    if kind == "AAAA":
        return [f"  ttl: {ttl}", "  type: AAAA", f"  value: 2001:db8:100::{i % 65535:x}"]
    if kind == "CNAME":
        target = f"{rng.choice(hosts)}.{zone}" if hosts else zone
        return [f"  ttl: {ttl}", "  type: CNAME", f"  value: {target}"]
    if kind == "TXT":
        token = f"{rng.getrandbits(128):032x}"
        return [f"  ttl: {ttl}", "  type: TXT", f"  value: site-verification={token}"]
    if kind == "SRV":
        return [
            f"  ttl: {ttl}",
            "  type: SRV",
            "  values:",
            f"    - port: {5000 + i % 1000}",
            "      priority: 10",
            f"      target: {rng.choice(hosts) + '.' + zone if hosts else zone}",
            "      weight: 20",
        ]
    if kind == "NS":
        return [
            "  ttl: 86400",
            "  type: NS",
            "  values:",
            f"    - ns{1 + i % 7}.dns-hosting.example.",
            f"    - ns{8 + i % 7}.dns-hosting.example.",
        ]
    if kind == "CAA":
        return [
            "  ttl: 86400",
            "  type: CAA",
            "  values:",
            "    - flags: 0",
            "      tag: issue",
            "      value: letsencrypt.org",
            "    - flags: 0",
            "      tag: issuewild",
            "      value: ;",
        ]
    raise ValueError(kind)


def _name(kind: str, i: int) -> str:
    if kind == "SRV":
        return f"_svc{i:06d}._tcp"
    if kind == "NS":
        return f"sub-{i:06d}"
    return f"host-{i:06d}"


def zone_text(
    zone: str, records: int, seed: int = 53, nameservers: tuple[str, ...] = LAB_NAMESERVERS
) -> str:
    """The YAML of a zone with ``records`` octoDNS records (apex ones included)."""
    if not zone.endswith("."):
        raise ValueError(f"zone {zone!r} must end with '.'")
    rng = random.Random(seed)
    kinds = [k for k, w in MIX for _ in range(w)]
    apex = _apex(zone, nameservers)
    body: dict[str, list[str]] = {
        "mx1": ["  ttl: 3600", "  type: A", "  value: 192.0.2.25"],
        "mx2": ["  ttl: 3600", "  type: A", "  value: 192.0.2.26"],
    }
    hosts: list[str] = []  # names of address records, for CNAME and SRV targets
    n = max(records - 8, 0)  # the apex holds 5 records; _dmarc, mx1, mx2
    for i in range(n):
        kind = kinds[rng.randrange(len(kinds))]
        name = _name(kind, i)
        body[name] = _record(kind, i, rng, zone, hosts)
        if kind in ("A", "AAAA", "A-multi"):
            hosts.append(name)
    lines = ["---", *apex[:-4]]
    # keys in the order octoDNS's enforce_order wants (natural sort; '' first)
    names = sorted([*body, "_dmarc"], key=_natural)
    for name in names:
        if name == "_dmarc":
            lines += apex[-4:]
        else:
            lines.append(f"{name}:")
            lines += body[name]
    return "\n".join(lines) + "\n"


def _natural(key: str) -> object:
    from natsort import natsort_keygen  # the order octoDNS's enforce_order checks

    return natsort_keygen()(key)


def write_zone(directory: Path, zone: str, records: int, seed: int = 53) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{zone.rstrip('.')}.yaml"
    path.write_text(zone_text(zone, records, seed), encoding="utf-8")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--zone", default="bench.test.")
    ap.add_argument("--seed", type=int, default=53)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/out/zones"))
    args = ap.parse_args()
    print(write_zone(args.out, args.zone, args.records, args.seed))


if __name__ == "__main__":
    main()
