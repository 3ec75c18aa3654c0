"""Seeded generator of synthetic modelc models for the compile benchmarks.

A model of about E entities is built from units of 10 entities: three sources (customers, products,
orders), an SCD2 customer dimension (timestamp detection, deletes invalidate, some with scd1
columns and a derived column), an SCD1 product dimension, a fact with references to both (and to
one shared calendar), two hubs, a link and a satellite. The seed varies column counts, options and
types. Units are split over files: `sources_NN.dm`, `star_NN.dm` and `vault_NN.dm` per chunk of
units (the star and vault files import their chunk's sources), and a root `model.dm` that imports
every star and vault file.
"""

from __future__ import annotations

import random
from pathlib import Path

UNIT = 10  # entities per unit
UNITS_PER_FILE = 20


def _unit(u: int, rng: random.Random) -> tuple[str, str, str]:
    """(sources, star, vault) text of unit `u`."""
    extra = [f"attr_{i}" for i in range(rng.randint(0, 6))]
    extra_decl = "".join(f"  {c:<12} {rng.choice(['string', 'int', 'decimal(12, 2)', 'date'])}\n" for c in extra)
    sources = f"""\
## Customers of system {u}.
source crm{u % 7}.customers_{u} from "data/customers_{u}_${{batch}}.csv" {{
  customer_id  int        not null
  full_name    string
  email        string     pii
  segment      string
  country      string(2)
{extra_decl}  updated_at   timestamp  not null
  test customer_id unique
}}

source shop{u % 5}.products_{u} from "data/products_{u}_${{batch}}.csv" {{
  product_code  string(20)      not null
  product_name  string
  category      string
  list_price    decimal(10, 2)
}}

source shop{u % 5}.orders_{u} from "data/orders_{u}_${{batch}}.csv" {{
  order_id      bigint          not null
  line_no       int             not null
  customer_id   int             not null
  product_code  string(20)      not null
  ordered_at    timestamp       not null
  quantity      int             not null
  amount        decimal(12, 2)  not null
  loaded_at     timestamp       not null
}}
"""
    scd1 = ["full_name", "email"] if rng.random() < 0.5 else []
    scd2 = ["segment", "country", *extra[: rng.randint(0, len(extra))]]
    derive = '  derive email_domain string = "split_part(email, \'@\', 2)"\n' if rng.random() < 0.3 else ""
    star = f"""\
## Customers: history of segment and country.
dimension customer_{u} from crm{u % 7}.customers_{u} {{
  key customer_id
  scd2 {', '.join(scd2)}
{f"  scd1 {', '.join(scd1)}" + chr(10) if scd1 else ""}{derive}  changed_by updated_at
  deletes invalidate
}}

dimension product_{u} from shop{u % 5}.products_{u} {{
  key product_code
  scd1 product_name, category, list_price
}}

fact order_line_{u} from shop{u % 5}.orders_{u} {{
  grain order_id, line_no
  customer -> customer_{u} at ordered_at
  product -> product_{u}(product_code)
  order_date -> date(ordered_at)
  measure quantity sum
  measure amount sum
  incremental on loaded_at
{"  test " + chr(34) + "amount >= 0" + chr(34) + chr(10) if rng.random() < 0.5 else ""}}}
"""
    vault = f"""\
hub customer_hub_{u} from crm{u % 7}.customers_{u} {{
  key customer_id
}}

hub order_hub_{u} from shop{u % 5}.orders_{u} {{
  key order_id
}}

link customer_order_{u} from shop{u % 5}.orders_{u} {{
  hubs customer_hub_{u}(customer_id), order_hub_{u}(order_id)
}}

satellite customer_details_{u} of customer_hub_{u} from crm{u % 7}.customers_{u} {{
  payload full_name, email, segment{''.join(', ' + c for c in extra[:2])}
}}
"""
    return sources, star, vault


def generate(out: Path, entities: int, seed: int = 1) -> Path:
    """Write a model of about `entities` entities (a multiple of 10, plus the calendar) into `out`;
    returns the root file."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    units = max(1, entities // UNIT)
    chunks = [range(i, min(i + UNITS_PER_FILE, units)) for i in range(0, units, UNITS_PER_FILE)]
    imports = []
    for c, chunk in enumerate(chunks):
        parts = [_unit(u, rng) for u in chunk]
        (out / f"sources_{c:02d}.dm").write_text("\n".join(p[0] for p in parts), encoding="utf-8")
        header = f'import "sources_{c:02d}.dm"\n\n'
        (out / f"star_{c:02d}.dm").write_text(header + "\n".join(p[1] for p in parts), encoding="utf-8")
        (out / f"vault_{c:02d}.dm").write_text(header + "\n".join(p[2] for p in parts), encoding="utf-8")
        imports += [f"star_{c:02d}.dm", f"vault_{c:02d}.dm"]
    root = out / "model.dm"
    root.write_text(
        "## A synthetic model for the compile benchmark.\nmodel synth\n\n"
        + "".join(f'import "{f}"\n' for f in imports)
        + "\ndimension date calendar 2020-01-01 .. 2030-12-31\n",
        encoding="utf-8",
    )
    return root


def count_lines(folder: Path) -> int:
    return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in folder.glob("*.dm"))
