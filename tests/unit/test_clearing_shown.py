"""The status page's slot card after a dock with clearing: "cleared N files" or why not."""

from __future__ import annotations

from types import SimpleNamespace

from dockd.core.status_document import SlotCard
from dockd.web.routes import environment


def _done(message: str | None, code: str | None = None) -> str:
    card = SlotCard(
        slot="bay1",
        state="done",
        serial="SN1",
        profile="generic",
        custodian=None,
        unit=None,
        session="S1",
        files_total=3,
        files_done=3,
        bytes_total=30,
        bytes_done=30,
        rate_bps=None,
        eta_s=None,
        drift_s=None,
        drift_verdict=None,
        safe_to_unplug=True,
        message=message,
        code=code,
        hint=None,
    )
    template = environment().get_template("_slots.html")
    return template.render(doc=SimpleNamespace(slots=[card]))


def test_a_cleared_recorder_says_how_many_files_went() -> None:
    html = _done("cleared 3 files from the recorder")
    assert "SAFE TO UNPLUG" in html
    assert '<p class="status-line after-offload">cleared 3 files from the recorder</p>' in html


def test_a_recorder_not_cleared_says_why_with_the_code() -> None:
    html = _done("not cleared: 1 of the recorder's recordings are on hold")
    assert "not cleared: 1 of the recorder&#39;s recordings are on hold</p>" in html
    blocked = _done("the recorder was not written to", "RECORDER_WRITES_BLOCKED")
    assert '<code class="code">RECORDER_WRITES_BLOCKED</code>' in blocked


def test_a_plain_dock_shows_no_after_offload_line() -> None:
    assert "after-offload" not in _done(None)
