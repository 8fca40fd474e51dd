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
    tr = app.locale
    from pydantic import BaseModel

    pack = app.policy
    if args.json:
        print_json(pack)
        return EXIT_OK
    print(tr("{pack_id}: {pack_name}", pack_id=pack.id, pack_name=pack.name))
    print(tr("  {authority} (seeds/{seed})", authority=pack.authority, seed=pack.seed))
    marked = False
    for section_name, section in pack:
        if not isinstance(section, BaseModel):
            continue
        values = section.model_dump(mode="json", exclude={"articles", "dockd_own"})
        articles = ", ".join(getattr(section, "articles", []))
        own = set(getattr(section, "dockd_own", ()))
        source = (
            tr("from {articles}", articles=articles)
            if articles
            else tr("not in the seed: dockd's own")
        )
        print(tr("[{section_name}]  {source}", section_name=section_name, source=source))
        for key, value in values.items():
            mark = "  " + tr("(dockd's own, not the seed's)") if key in own else ""
            marked = marked or key in own
            print(
                tr(
                    "  {key} = {json}{mark}",
                    key=key,
                    json=json.dumps(value, ensure_ascii=False),
                    mark=mark,
                )
            )
    if marked:
        # The seed leaves these to the agency: say how it sets them (a pack of its own).
        print(
            tr(
                "Values marked dockd's own are yours to set: copy {rules} to a folder of your "
                "own, edit policies/{pack_id}.toml there, and set [rules] dir to that folder.",
                rules=str(app.config.rules.effective_dir),
                pack_id=pack.id,
            )
        )
    return EXIT_OK


def register(sub: Subparsers) -> None:
    policy = sub.add_parser("policy", help="the active policy pack")
    actions = policy.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    p = actions.add_parser("show", help="effective values and the articles they come from")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=show)
