"""The customer's tracking page: server-rendered, a few lines of script, no third-party requests."""

from __future__ import annotations

from html import escape

from cloud.domain.orders import StageState
from cloud.domain.tracking import StageView, TrackingView

_COLOURS = {
    StageState.DONE: "#2e7d32",
    StageState.ACTIVE: "#f9a825",
    StageState.PENDING: "#9e9e9e",
    StageState.DELAYED: "#c62828",
    StageState.SKIPPED: "#bdbdbd",
}
_WORDS = {
    StageState.DONE: "已完成",
    StageState.ACTIVE: "进行中",
    StageState.PENDING: "待开始",
    StageState.DELAYED: "延误",
    StageState.SKIPPED: "跳过",
}

_SCRIPT = """
(function(){var u="/api/track/"+document.body.dataset.token;
function tick(){fetch(u,{cache:"no-store"}).then(function(r){return r.json()}).then(function(d){
d.stages.forEach(function(s){var e=document.getElementById("s-"+s.code);if(!e)return;
e.dataset.state=s.state;var p=e.querySelector(".n");
if(p&&s.planned)p.textContent=s.done+" / "+s.planned;
var b=e.querySelector("progress");if(b&&s.planned){b.max=s.planned;b.value=s.done}});
document.getElementById("printed").textContent=d.printed;
document.getElementById("summary").textContent=d.summary.zh;}).catch(function(){})}
setInterval(tick,5000);})();
"""


def _stage(s: StageView) -> str:
    progress = ""
    if s.planned:
        progress = (
            f'<progress max="{s.planned}" value="{s.done or 0}"></progress>'
            f'<span class="n">{s.done or 0} / {s.planned}</span>'
        )
    when = f"<time>{escape(s.ended.strftime('%m-%d %H:%M'))}</time>" if s.ended else ""
    if s.delay_reason:
        back = (
            f",预计 {s.expected_recovery.strftime('%m-%d %H:%M')} 恢复"
            if s.expected_recovery
            else ""
        )
        when += f'<p class="why">{escape(s.delay_reason)}{escape(back)}</p>'

    return (
        f'<li id="s-{escape(s.code)}" data-state="{s.state.value}" '
        f'style="border-color:{_COLOURS[s.state]}"><b>{escape(s.name)}</b> '
        f"<i>{_WORDS[s.state]}</i> {when}{progress}</li>"
    )


def render_page(view: TrackingView, token: str) -> str:
    """The whole page for one order."""
    stages = "".join(_stage(s) for s in view.stages)
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>订单 {escape(view.order_no)}</title>
<style>body{{font-family:sans-serif;margin:0;padding:1em;max-width:40em}}
ol{{list-style:none;padding:0}}
li{{border-left:6px solid;padding:.5em;margin:.4em 0;background:#fafafa}}
progress{{width:100%}}i{{font-style:normal;color:#555}}</style></head>
<body data-token="{escape(token)}"><h1>订单 {escape(view.order_no)}</h1>
<p>{escape(view.product)} · 已印 <b id="printed">{view.printed}</b> / {view.planned} 张 ·
交期 {view.due.isoformat()}</p>
<p id="summary">{escape(view.summary["zh"])}</p><ol>{stages}</ol>
<script>{_SCRIPT}</script></body></html>"""
