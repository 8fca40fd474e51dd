"""`dockd policy show`: the active pack's values and the articles they come from."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from dockd.cli.common import Subparsers, print_json
from dockd.errors import EXIT_OK

if TYPE_CHECKING:
    from dockd.app import App


def show(app: App, args: argparse.Namespace) -> int:
    from pydantic import BaseModel

    pack = app.policy
    if args.json:
        print_json(pack)
        return EXIT_OK
    print(f"{pack.id}: {pack.name}")
    print(f"  {pack.authority} (seeds/{pack.seed})")
    for section_name, section in pack:
        if not isinstance(section, BaseModel):
            continue
        values = section.model_dump(mode="json", exclude={"articles", "dockd_own"})
        articles = ", ".join(getattr(section, "articles", []))
        own = set(getattr(section, "dockd_own", ()))
        source = f"from {articles}" if articles else "not in the seed: dockd's own"
        print(f"[{section_name}]  {source}")
        for key, value in values.items():
            mark = "  (dockd's own, not the seed's)" if key in own else ""
            print(f"  {key} = {json.dumps(value, ensure_ascii=False)}{mark}")
    return EXIT_OK


def register(sub: Subparsers) -> None:
    policy = sub.add_parser("policy", help="the active policy pack")
    actions = policy.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    p = actions.add_parser("show", help="effective values and the articles they come from")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=show)
