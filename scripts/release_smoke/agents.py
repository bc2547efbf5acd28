"""Check 4: agents close the loop on the release binary (platforms.md §8): an answer from
anfu reaches each platform's stand-in and turns `sent`, drafts are offered, bad answers are
refused, and the report counts the tickets the agent API lists (JSON and CSV)."""

import json
import time

from .e2e import replies_for
from .report import items, short, wait_until

WAIT_S = 20


def _auth(anfu):
    return {"Authorization": f"Bearer {anfu.token}", "Content-Type": "application/json"}


def _answer(world, anfu, ticket, problems):
    card = ticket["card"]
    tid = ticket["id"]
    conv = {"shop": card["shop"], "platform": card["platform"], "id": card["conversation_id"]}
    text = f"您好，我是客服王敏，工单{tid}已为您加急处理。"
    before = len(replies_for(world, conv))
    body = json.dumps({"agent": "王敏", "text": text}, ensure_ascii=False).encode()
    answer = anfu.post(f"/v1/handoffs/{tid}/reply", body, _auth(anfu))
    if answer.status != 202 or answer.json().get("status") != "queued":
        problems.append(f"{card['shop']} #{tid}: reply answered {answer.status} "
                        f"{short(answer.body)}")
        return
    arrived = wait_until(lambda: len(replies_for(world, conv)) > before, WAIT_S)
    sent = wait_until(lambda: _line(anfu, tid).get("status") == "sent", WAIT_S)
    line = _line(anfu, tid)
    if not arrived:
        problems.append(f"{card['shop']} #{tid}: the platform never got the agent's answer")
    if not sent:
        problems.append(f"{card['shop']} #{tid}: the line is {line.get('status')}, not sent "
                        f"({line.get('error')})")
    got = replies_for(world, conv)[-1:] if arrived else []
    wanted = text if card["platform"] != "rakuten" else text[:10]
    if got and wanted not in json.dumps(got, ensure_ascii=False):
        problems.append(f"{card['shop']} #{tid}: the platform got {short(json.dumps(got))}")


def _line(anfu, tid):
    lines = anfu.get(f"/v1/handoffs/{tid}").json().get("replies") or [{}]
    return lines[-1]


def run(anfu, world, results):
    tickets = [t for t in items(anfu.get("/v1/handoffs")) or [] if t["status"] != "resolved"]
    problems = []
    seen = set()
    for ticket in tickets:
        platform = ticket["card"]["platform"]
        if platform in seen:
            continue
        seen.add(platform)
        _answer(world, anfu, ticket, problems)
    if len(seen) < 3:
        problems.append(f"open tickets on {sorted(seen)} only; wanted taobao, rakuten, generic")
    results.check("agent-answers-reach-every-platform", problems,
                  [f"one agent line per platform ({', '.join(sorted(seen))}), each `sent`"])

    problems = []
    first = tickets[0]["id"] if tickets else 0
    drafts = anfu.get(f"/v1/handoffs/{first}/drafts?agent=%E7%8E%8B%E6%95%8F").json()
    texts = drafts.get("drafts") or []
    if not 2 <= len(texts) <= 3 or any("{" in t for t in texts):
        problems.append(f"drafts: {short(json.dumps(drafts, ensure_ascii=False))}")
    for body, want in ((b'{"agent":"a","text":"  "}', 400), (b'{"agent":"a"}', 400)):
        got = anfu.post(f"/v1/handoffs/{first}/reply", body, _auth(anfu)).status
        if got != want:
            problems.append(f"reply {body!r} answered {got}, not {want}")
    got = anfu.post("/v1/handoffs/999999/reply", b'{"agent":"a","text":"x"}', _auth(anfu))
    if got.status != 404:
        problems.append(f"an unknown ticket answered {got.status}, not 404")
    results.check("agent-drafts-and-refusals", problems,
                  [f"{len(texts)} drafts; empty, agent-less and unknown-ticket answers refused"])

    problems = []
    listed = len(items(anfu.get("/v1/handoffs")) or [])
    report = anfu.get("/v1/reports")
    if report.status != 200 or report.json().get("tickets") != listed:
        problems.append(f"report {report.status}: {short(report.body)} for {listed} tickets")
    charted = sum(d["count"] for d in report.json().get("daily", [])) if report.status == 200 else -1
    if charted != listed:
        problems.append(f"daily counts add up to {charted}, not {listed}")
    csv = anfu.get("/v1/reports?format=csv")
    text = csv.body.decode("utf-8", "replace")
    if csv.status != 200 or f"total,tickets,,{listed}" not in text:
        problems.append(f"csv {csv.status}: {short(csv.body)}")
    results.check("report-counts-the-tickets", problems,
                  [f"{listed} tickets in the report, its daily bars and its CSV"])
    time.sleep(0.2)
