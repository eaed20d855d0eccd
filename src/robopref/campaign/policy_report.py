"""The policy loop's report: per task and round, what the labels bought, as JSON and HTML.

Each row is a `RoundRecord`: labels spent and what they cost in annotator hours, the
learned reward's pair accuracy and Spearman ρ on the round's held-out rollouts, the
reward-hacking probe (failures among the reward's top quarter, against the truth's own top
quarter), the policy's success and return, its KL to the reference, and wall and CPU hours.
The HTML embeds two plots (success per round, reward accuracy per round), also written
beside it as PNG files.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from robopref.atomic import write_atomic, write_text_atomic
from robopref.campaign.loop_state import RoundRecord
from robopref.campaign.policy_loop import COMPARISONS_PER_HOUR, REDUNDANCY, REPLACEMENT

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
SUCCESS_PNG = "success.png"
REWARD_PNG = "reward.png"

_COLUMNS = (
    ("round", "round", "{}"),
    ("labels", "labels", "{}"),
    ("annotator_hours", "annotator h", "{:.1f}"),
    ("reward_pair_accuracy", "reward pair acc.", "{:.3f}"),
    ("reward_spearman", "reward ρ", "{:.3f}"),
    ("top_quarter_failures", "top-¼ failures (reward)", "{:.2f}"),
    ("truth_top_quarter_failures", "top-¼ failures (truth)", "{:.2f}"),
    ("success", "success", "{:.3f}"),
    ("mean_return", "return", "{:.1f}"),
    ("kl_to_reference", "KL to reference", "{:.4f}"),
    ("wall_hours", "wall h", "{:.3f}"),
    ("cpu_hours", "CPU h", "{:.3f}"),
    ("tier", "new pool tier", "{}"),
)


def report_rows(records: Sequence[RoundRecord]) -> list[dict[str, Any]]:
    """The records as JSON rows, with wall and CPU time in hours added."""
    rows = []
    for record in records:
        row = record.as_dict()
        row["wall_hours"] = record.wall_seconds / 3600.0
        row["cpu_hours"] = record.cpu_seconds / 3600.0
        rows.append(row)
    return rows


def write_report(
    records: Mapping[str, Sequence[RoundRecord]],
    out: Path,
    *,
    title: str,
    settings: Mapping[str, Any],
) -> tuple[Path, Path]:
    """Write `report.json`, `report.html` and the two plots into `out` (each atomically).

    Args:
        records: Task → its rounds' records (round 0 first).
        out: The run's folder.
        title: Heading of the HTML page.
        settings: The run's settings, recorded in the JSON and shown in the HTML.

    Returns:
        The JSON and HTML paths.
    """
    tasks = {task: report_rows(rows) for task, rows in records.items()}
    last = [rows[-1] for rows in records.values() if rows]
    totals = {
        "labels": sum(r.labels for r in last),
        "annotator_hours": sum(r.annotator_hours for r in last),
        "wall_hours": sum(r.wall_seconds for rows in records.values() for r in rows) / 3600.0,
        "cpu_hours": sum(r.cpu_seconds for rows in records.values() for r in rows) / 3600.0,
    }
    report = {"title": title, "settings": dict(settings), "tasks": tasks, "totals": totals}
    json_path = write_text_atomic(out / REPORT_JSON, json.dumps(report, indent=1) + "\n")
    success = _plot(records, out / SUCCESS_PNG, "success", "held-out success")
    reward = _plot(records, out / REWARD_PNG, "reward_pair_accuracy", "reward pair accuracy")
    html_path = write_text_atomic(out / REPORT_HTML, _html(report, [success, reward]))
    return json_path, html_path


def _plot(records: Mapping[str, Sequence[RoundRecord]], path: Path, key: str, label: str) -> Path:
    """One line per task of `key` against the round (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(5.5, 3.5), constrained_layout=True)
    for task, rows in records.items():
        points = [(r.round, v) for r in rows if (v := getattr(r, key)) is not None]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", label=task)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("round (0: the reference)")
    ax.set_ylabel(label)
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    if records:
        ax.legend(fontsize=8)
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
    return path


def _cell(value: Any, form: str) -> str:
    if value is None:
        return "–"
    return html.escape(form.format(value))


def _html(report: Mapping[str, Any], plots: Sequence[Path]) -> str:
    parts = [
        "<!doctype html>",
        '<html><head><meta charset="utf-8">',
        f"<title>{html.escape(report['title'])}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        "img{max-width:48%;margin-right:1%}</style></head><body>",
        f"<h1>{html.escape(report['title'])}</h1>",
    ]
    for path in plots:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        parts.append(f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">')
    for task, rows in report["tasks"].items():
        parts.append(f"<h2>{html.escape(task)}</h2><table><tr>")
        parts += [f"<th>{html.escape(head)}</th>" for _, head, _ in _COLUMNS]
        parts.append("</tr>")
        for row in rows:
            cells = [
                f"round {row['round']}" if key == "round" else _cell(row[key], form)
                for key, _, form in _COLUMNS
            ]
            parts.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        parts.append("</table>")
    totals = report["totals"]
    parts.append(
        f"<p>Total: {totals['labels']} labels, {totals['annotator_hours']:.1f} annotator hours "
        f"({COMPARISONS_PER_HOUR:g} comparisons/h, {REDUNDANCY:g} annotators a pair, "
        f"{REPLACEMENT:.1%} replacements), "
        f"{totals['wall_hours']:.2f} wall hours, {totals['cpu_hours']:.2f} CPU hours.</p>"
    )
    settings = html.escape(json.dumps(report["settings"], indent=1))
    parts.append(f"<h2>Settings</h2><pre>{settings}</pre></body></html>\n")
    return "\n".join(parts)
