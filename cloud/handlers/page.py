"""The customer's pages: the order's tracking page and the lookup form.

Server-rendered HTML, one small inline script and stylesheet, no third-party requests. The page
refreshes its main part every few seconds while it is visible (the same renderer makes the
fragment), switches between Chinese and English in place, and posts messages and push opt-ins.
"""

from __future__ import annotations

import json
from datetime import datetime
from html import escape

from cloud.domain.orders import StageKind, StageState
from cloud.domain.summary import ZH_NAMES, ZH_UNITS, when_en, when_zh
from cloud.domain.tracking import StageView, TrackingView

Lang = str  # "zh" or "en"

_T: dict[str, dict[Lang, str]] = {
    "order": {"zh": "订单", "en": "Order"},
    "delivery": {"zh": "预计送达", "en": "Expected delivery"},
    "due": {"zh": "约定交期", "en": "Due"},
    "at_risk": {"zh": "可能延期", "en": "May be late"},
    "on_track": {"zh": "按期", "en": "On time"},
    "completed": {"zh": "订单已完成", "en": "Order complete"},
    "cancelled": {"zh": "订单已取消", "en": "Order cancelled"},
    "done": {"zh": "已完成", "en": "Done"},
    "active": {"zh": "进行中", "en": "In progress"},
    "pending": {"zh": "待开始", "en": "Waiting"},
    "delayed": {"zh": "延误", "en": "Delayed"},
    "skipped": {"zh": "已跳过", "en": "Skipped"},
    "eta": {"zh": "预计 {} 完成", "en": "Done by {}"},
    "planned_start": {"zh": "计划 {} 开始", "en": "Planned start {}"},
    "recovery": {"zh": "预计 {} 恢复", "en": "Back on track by {}"},
    "action": {"zh": "处理措施:", "en": "What we are doing: "},
    "reason": {"zh": "原因:", "en": "Reason: "},
    "photos": {"zh": "照片", "en": "Photos"},
    "messages": {"zh": "在线留言", "en": "Messages"},
    "shop": {"zh": "印厂", "en": "Shop"},
    "you": {"zh": "您", "en": "You"},
    "write": {"zh": "给印厂留言…", "en": "Write to the shop…"},
    "send": {"zh": "发送", "en": "Send"},
    "sent": {"zh": "已发送", "en": "Sent"},
    "notify": {"zh": "进度提醒", "en": "Get updates"},
    "phone": {"zh": "手机号", "en": "Phone number"},
    "subscribe": {"zh": "订阅短信提醒", "en": "Text me updates"},
    "subscribed": {"zh": "已订阅:", "en": "Subscribed: "},
    "failed": {"zh": "未成功,请稍后再试", "en": "That did not work; try again later"},
    "switch": {"zh": "English", "en": "中文"},
    "lookup": {"zh": "查询订单", "en": "Find your order"},
    "order_no": {"zh": "订单号", "en": "Order number"},
    "phone_hint": {"zh": "手机号或后四位", "en": "Phone or its last 4 digits"},
    "find": {"zh": "查询", "en": "Find"},
    "no_match": {
        "zh": "没有找到匹配的订单,请核对订单号和手机号。",
        "en": "No order matches that number and phone.",
    },
    "too_many": {"zh": "尝试次数过多,请稍后再试。", "en": "Too many tries; please wait a while."},
    "running": {"zh": "机器运行中", "en": "Machine running"},
    "makeready": {"zh": "调机中", "en": "Making ready"},
    "washup": {"zh": "清洗中", "en": "Washing up"},
    "stopped": {"zh": "暂停中", "en": "Paused"},
    "maintenance": {"zh": "设备保养中", "en": "Machine maintenance"},
    "offline": {"zh": "暂无设备数据", "en": "No data from the machine"},
}
_UNITS_EN = {"sheet": "sheets", "impression": "impressions", "piece": "pieces"}


def t(key: str, lang: Lang) -> str:
    """One interface string in the page's language."""
    return _T[key][lang]


def _both(key: str, lang: Lang, tag: str = "span", extra: str = "") -> str:
    """A string the language switch can flip in place."""
    zh, en = escape(t(key, "zh")), escape(t(key, "en"))
    return f'<{tag} data-zh="{zh}" data-en="{en}"{extra}>{escape(t(key, lang))}</{tag}>'


def _when(at: datetime, lang: Lang) -> str:
    return when_zh(at) if lang == "zh" else when_en(at)


def _name(s: StageView, lang: Lang) -> str:
    return ZH_NAMES.get(s.code, s.name) if lang == "zh" else s.name


def _stage(s: StageView, view: TrackingView, token: str, lang: Lang) -> str:
    lines = [f"<b>{escape(_name(s, lang))}</b> <i>{t(s.state.value, lang)}</i>"]
    if s.machine_state is not None:
        doing = s.machine_state.value
        lines.append(f'<small class="m" data-machine="{doing}">{t(doing, lang)}</small>')
    if s.state is StageState.DONE and s.ended:
        lines.append(f"<time>{_when(s.ended, lang)}</time>")
    if s.kind is StageKind.MACHINE and s.planned and s.state is not StageState.PENDING:
        done = s.done or 0
        unit = ZH_UNITS.get(view.unit, "张") if lang == "zh" else _UNITS_EN[view.unit]
        lines.append(
            f'<progress max="{s.planned}" value="{min(done, s.planned)}"></progress>'
            f'<span class="n">{done} / {s.planned} {unit}</span>'
        )
    if s.state is StageState.DELAYED:
        if s.delay_reason:
            lines.append(f'<p class="why">{t("reason", lang)}{escape(s.delay_reason)}</p>')
        if s.expected_recovery:
            lines.append(f"<p>{t('recovery', lang).format(_when(s.expected_recovery, lang))}</p>")
        if s.delay_action:
            lines.append(f"<p>{t('action', lang)}{escape(s.delay_action)}</p>")
    if s.state in (StageState.ACTIVE, StageState.DELAYED) and s.expected_end:
        lines.append(f'<p class="eta">{t("eta", lang).format(_when(s.expected_end, lang))}</p>')
    if s.state is StageState.PENDING and s.expected_start:
        lines.append(f"<p>{t('planned_start', lang).format(_when(s.expected_start, lang))}</p>")
    if s.photos:
        shots = "".join(
            f'<a href="/t/{token}/photos/{p.id}"><img loading="lazy" alt="'
            f'{escape(p.caption or "")}" src="/t/{token}/photos/{p.id}"></a>'
            for p in s.photos
        )
        lines.append(
            f"<details><summary>{t('photos', lang)} ({len(s.photos)})</summary>{shots}</details>"
        )
    state = s.state.value
    return f'<li id="s-{escape(s.code)}" class="{state}" data-state="{state}">{"".join(lines)}</li>'


def _headline(view: TrackingView, lang: Lang) -> str:
    if view.status == "cancelled":
        return f'<div id="eta" class="late"><b>{t("cancelled", lang)}</b></div>'
    if view.status == "completed":
        return f'<div id="eta" class="ok"><b>{t("completed", lang)}</b></div>'
    due = f"{t('due', lang)} {view.due.isoformat()}"
    if view.estimate is None:
        return f'<div id="eta"><small>{due}</small></div>'
    risk = "at_risk" if view.estimate.at_risk else "on_track"
    return (
        f'<div id="eta" class="{"late" if view.estimate.at_risk else "ok"}">'
        f"<small>{t('delivery', lang)}</small>"
        f"<b>{_when(view.estimate.delivery, lang)}</b>"
        f"<small>{due} · <em>{t(risk, lang)}</em></small></div>"
    )


def render_main(view: TrackingView, token: str, lang: Lang) -> str:
    """The part of the page that refreshes: estimate, summary, timeline, messages."""
    stages = "".join(_stage(s, view, token, lang) for s in view.stages)
    said = "".join(
        f'<li class="{m.sender.value}"><b>{t("you" if m.sender == "customer" else "shop", lang)}'
        f"</b> <time>{_when(m.at, lang)}</time><br>{escape(m.text)}</li>"
        for m in view.messages
    )
    thread = f'<ul id="thread">{said}</ul>' if said else ""
    return (
        f"{_headline(view, lang)}"
        f'<p id="summary">{escape(view.summary[lang])}</p>'
        f'<ol id="timeline">{stages}</ol>{thread}'
    )


_STYLE = (
    "body{font:16px/1.45 system-ui,sans-serif;margin:0 auto;padding:.8em;max-width:40em;"
    "color:#222}header{display:flex;justify-content:space-between;align-items:baseline}"
    "h1{font-size:1.15em;margin:.2em 0}#eta{padding:.7em;border-radius:8px;margin:.5em 0;"
    "background:#e8f5e9}#eta b{display:block;font-size:1.6em}#eta.late{background:#ffebee}"
    "#eta.late em{color:#c62828;font-weight:bold}ol{list-style:none;padding:0}"
    "ol li{border-left:6px solid #9e9e9e;padding:.4em .6em;margin:.4em 0;background:#fafafa}"
    "li.done{border-color:#2e7d32}li.active{border-color:#f9a825;background:#fffde7}"
    "li.delayed{border-color:#c62828;background:#ffebee}li.skipped{opacity:.6}"
    "li i{font-style:normal;color:#555;margin-left:.3em}.m{margin-left:.5em;color:#555}"
    "li p{margin:.2em 0}"
    ".why{color:#c62828}progress{width:100%;height:.9em}time{color:#666;margin-left:.4em}"
    "img{max-width:100%;margin-top:.3em}#thread{padding:0;list-style:none}"
    "#thread li{padding:.4em;margin:.3em 0;border-radius:6px;background:#eef}"
    "#thread li.shop{background:#f1f8e9}textarea,input,button{font:inherit;width:100%;"
    "box-sizing:border-box;margin:.2em 0;padding:.45em}button{background:#2e7d32;color:#fff;"
    "border:0;border-radius:6px}#lang{width:auto;background:none;color:#1565c0;padding:0}"
    "form{margin:.8em 0}.note{color:#555;font-size:.9em}"
)

_SCRIPT = """(function(){
var b=document.body,tok=b.dataset.token,m=document.getElementById("m");
function lang(){return b.dataset.lang}
function load(){if(document.hidden)return;
var x=new XMLHttpRequest();x.open("GET","/t/"+tok+"?part=main&lang="+lang());
x.onload=function(){if(x.status==200&&x.responseText!==m.innerHTML)m.innerHTML=x.responseText};
x.send()}
function flip(){var l=lang(),e=document.querySelectorAll("[data-en]");
for(var i=0;i<e.length;i++){var v=e[i].getAttribute("data-"+l);
if(e[i].placeholder!==undefined&&e[i].tagName!="BUTTON")e[i].placeholder=v;else e[i].textContent=v}}
function post(path,body,done){var x=new XMLHttpRequest();x.open("POST",path);
x.setRequestHeader("content-type","application/json");
x.onload=function(){done(x.status<300?JSON.parse(x.responseText):null)};
x.onerror=function(){done(null)};x.send(JSON.stringify(body))}
function say(id,text){document.getElementById(id).textContent=text}
var T=JSON.parse(document.getElementById("t").textContent);
document.getElementById("lang").onclick=function(){
b.dataset.lang=lang()=="zh"?"en":"zh";document.documentElement.lang=lang()=="zh"?"zh-CN":"en";
history.replaceState(null,"","?lang="+lang());flip();load()};
document.getElementById("say").onsubmit=function(e){e.preventDefault();
var f=e.target.text;if(!f.value.trim())return;
post("/api/track/"+tok+"/messages",{text:f.value},function(r){
say("said",r?T[lang()].sent:T[lang()].failed);if(r){f.value="";load()}})};
document.getElementById("sub").onsubmit=function(e){e.preventDefault();
post("/api/track/"+tok+"/subscriptions",{channel:"sms",phone:e.target.phone.value},
function(r){say("subbed",r?T[lang()].subscribed+r.address:T[lang()].failed)})};
setInterval(load,5000);document.addEventListener("visibilitychange",load)})();"""


def render_page(view: TrackingView, token: str, lang: Lang = "zh") -> str:
    """The whole tracking page for one order."""
    words = {
        code: {k: t(k, code) for k in ("sent", "failed", "subscribed")} for code in ("zh", "en")
    }
    return f"""<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex">
<title>{escape(t("order", lang))} {escape(view.order_no)}</title><style>{_STYLE}</style></head>
<body data-token="{escape(token)}" data-lang="{lang}"><header>
<h1>{_both("order", lang)} {escape(view.order_no)} · {escape(view.product)}</h1>
{_both("switch", lang, "button", ' id="lang" type="button"')}</header>
<main id="m">{render_main(view, token, lang)}</main>
<form id="say">{_both("messages", lang, "h2")}
<textarea name="text" maxlength="1000" rows="2" data-zh="{t("write", "zh")}"
 data-en="{t("write", "en")}" placeholder="{t("write", lang)}"></textarea>
{_both("send", lang, "button")}<p id="said" class="note"></p></form>
<form id="sub">{_both("notify", lang, "h2")}
<input name="phone" type="tel" inputmode="tel" maxlength="24" data-zh="{t("phone", "zh")}"
 data-en="{t("phone", "en")}" placeholder="{t("phone", lang)}">
{_both("subscribe", lang, "button")}<p id="subbed" class="note"></p></form>
<script id="t" type="application/json">{json.dumps(words, ensure_ascii=False)}</script>
<script>{_SCRIPT}</script></body></html>"""


_LOOKUP_SCRIPT = """(function(){var f=document.getElementById("find");
f.onsubmit=function(e){e.preventDefault();var x=new XMLHttpRequest();
x.open("POST","/api/lookup");x.setRequestHeader("content-type","application/json");
x.onload=function(){if(x.status==200){location.href=JSON.parse(x.responseText).tracking_page;return}
var w=document.getElementById("why");
w.textContent=w.dataset[x.status==429?"many":x.status==404?"none":"fail"]};
x.send(JSON.stringify({order_no:f.order_no.value.trim(),phone:f.phone.value.trim()}))}})();"""


def render_lookup(lang: Lang = "zh") -> str:
    """The lookup form: order number plus phone number gives the tracking link."""
    return f"""<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>{t("lookup", lang)}</title>
<style>{_STYLE}</style></head><body><header><h1>{t("lookup", lang)}</h1>
<a href="?lang={"en" if lang == "zh" else "zh"}">{t("switch", lang)}</a></header>
<form id="find"><input name="order_no" required maxlength="64" placeholder="{t("order_no", lang)}">
<input name="phone" type="tel" inputmode="tel" required maxlength="24"
 placeholder="{t("phone_hint", lang)}"><button>{t("find", lang)}</button>
<p id="why" class="note" data-none="{t("no_match", lang)}" data-many="{t("too_many", lang)}"
 data-fail="{t("failed", lang)}"></p></form><script>{_LOOKUP_SCRIPT}</script></body></html>"""
