"""Checks 1 and 2: every platform and sink kind end to end; the 11-complaint acceptance."""

import os
import time

from .chatwoot import identifier_ok
from .report import dump, items, short, wait_until

E2E_SHOPS = ["tb1", "rkpoll", "rkpush", "gen1"]
ACCEPTANCE_SHOP = "tb11"
WAIT_S = 30


def send_all(world, anfu, repo):
    """Every buyer message of checks 1 and 2. Returns (acks, e2e conversations, acceptance)."""
    acks, e2e, acc = [], [], []
    for method in ("md5", "hmac"):
        answer, conv = world.taobao_push(anfu, "tb1", method)
        acks.append((f"taobao tb1 ({method})", answer, "taobao"))
        e2e.append(conv)
    fixture = os.path.join(repo, "fixtures/webhooks/taobao/10-trade-create-ignored.json")
    with open(fixture, "rb") as f:
        answer, _ = world.taobao_push(anfu, "tb1", "hmac-sha256", raw=f.read())
    acks.append(("taobao tb1 TradeCreate fixture (ack and ignore)", answer, "taobao"))
    for _ in range(2):
        inquiry, conv = world.rakuten_inquiry("rkpoll")
        world.rakuten.add_inquiry(inquiry)
        e2e.append(conv)
    for _ in range(2):
        answer, conv = world.rakuten_push(anfu, "rkpush")
        acks.append((f"rakuten push {conv['id']}", answer, "rakuten"))
        e2e.append(conv)
    for _ in range(2):
        answer, conv = world.generic_push(anfu, "gen1")
        acks.append((f"generic {conv['id']}", answer, "generic"))
        e2e.append(conv)
    for _ in range(11):
        answer, conv = world.taobao_push(anfu, ACCEPTANCE_SHOP, "hmac-sha256")
        acks.append((f"taobao {ACCEPTANCE_SHOP} {conv['id']}", answer, "taobao"))
        acc.append(conv)
    return acks, e2e, acc


def ack_problems(acks):
    bad = []
    for what, answer, platform in acks:
        try:
            body = answer.json() if answer.body else None
        except ValueError:
            body = None
        if platform == "taobao":
            ok = answer.status == 200 and body == {"success": True}
        elif platform == "rakuten":
            ok = answer.status == 200 and isinstance(body, dict) and body.get(
                "resultCode") == "N000"
        else:
            ok = answer.status == 204
        if not ok:
            bad.append(f"{what}: HTTP {answer.status} {short(answer.body)}")
    return bad


def replies_for(world, conv):
    if conv["platform"] == "taobao":
        return [r for r in world.taobao[conv["shop"]]["gw"].replies()
                if r["conversation_id"] == conv["id"]]
    if conv["platform"] == "rakuten":
        with world.rakuten.lock:
            return list(world.rakuten.replies.get(conv["id"], []))
    return [m for m in world.generic[conv["shop"]]["api"].replies()
            if m["conversation_id"] == conv["id"]]


def sink_texts(world, ding_e2e):
    """kind -> list of card texts (webhook: handoff.created only; chatwoot: private notes)."""
    with world.webhook.lock:
        created = [t for r, t, _ in world.webhook.cards if r == "handoff.created"]
    notes = ["\n".join(notes) for _, notes, *_ in world.chatwoot.snapshot()]
    return {"dingtalk": world.dingtalk.texts(ding_e2e), "wecom": world.wecom.texts(),
            "feishu": world.feishu.texts(), "slack": world.slack.texts(),
            "webhook": created, "chatwoot": notes}


def _complete(world, convs, ding_e2e, ding_acc, acc):
    if any(not replies_for(world, c) for c in convs + acc):
        return False
    for texts in sink_texts(world, ding_e2e).values():
        if any(not any(c["token"] in t for t in texts) for c in convs):
            return False
    acc_texts = world.dingtalk.texts(ding_acc)
    return all(any(c["token"] in t for t in acc_texts) for c in acc)


def run(world, anfu, results, repo, ding_e2e, ding_acc):
    start = time.monotonic()
    acks, e2e, acc = send_all(world, anfu, repo)
    results.check("inbound-acks", ack_problems(acks),
                  [f"{len(acks)} signed webhooks answered per contract (taobao 200 "
                   "{success:true}, rakuten N000, generic 204)"])
    done = wait_until(lambda: _complete(world, e2e, ding_e2e, ding_acc, acc), WAIT_S)
    time.sleep(2.0)  # grace: a second reply or card would arrive now
    waited = time.monotonic() - start
    note = f"all replies and cards in {waited - 2:.1f}s" if done else \
        f"gave up waiting after {WAIT_S}s"
    check_replies(world, results, e2e, note)
    handoffs = anfu.get("/v1/handoffs")
    tickets = items(handoffs)
    check_tickets(results, e2e + acc, handoffs, tickets)
    check_cards(world, results, e2e, ding_e2e)
    check_acceptance(world, results, acc, ding_acc, tickets)
    return e2e, acc


def reply_problems(world, conv):
    got = replies_for(world, conv)
    if len(got) != 1:
        return [f"{conv['shop']} {conv['id']}: {len(got)} replies (want exactly 1)"]
    r = got[0]
    if conv["platform"] == "taobao" and r["to_nick"] != conv["buyer"]:
        return [f"{conv['id']}: to_nick {r['to_nick']!r}, want {conv['buyer']!r}"]
    text = r.get("text") or r.get("message") or ""
    return [] if text.strip() else [f"{conv['id']}: empty reply text"]


def check_replies(world, results, e2e, note):
    groups = {"reply-taobao": ["tb1"], "reply-rakuten-poll": ["rkpoll"],
              "reply-rakuten-push": ["rkpush"], "reply-generic": ["gen1"]}
    for name, shops in groups.items():
        convs = [c for c in e2e if c["shop"] in shops]
        bad = []
        for c in convs:
            bad += reply_problems(world, c)
        shop = shops[0]
        if shop == "tb1":
            gw = world.taobao["tb1"]["gw"]
            known = {c["id"] for c in convs}
            bad += [f"reply to a conversation nobody wrote in: {r['conversation_id']}"
                    for r in gw.replies() if r["conversation_id"] not in known]
            bad += gw.problems
        elif shop == "gen1":
            bad += world.generic["gen1"]["api"].problems
        else:
            bad += list(world.rakuten.problems)
            bad += [f"reply posted twice to {n} (409)" for n in world.rakuten.repeats]
            if shop == "rkpoll" and not world.rakuten.polls.get("rkpoll"):
                bad.append("the inquiries API was never polled for rkpoll")
        sample = replies_for(world, convs[0]) if convs else []
        text = (sample[0].get("text") or sample[0].get("message")) if sample else None
        results.check(name, bad, [f"{len(convs)} complaint conversations; {note}"] +
                      ([f"e.g. {short(text, 90)}"] if text else []))


def check_tickets(results, convs, answer, tickets):
    if tickets is None:
        results.check("tickets", [f"GET /v1/handoffs: HTTP {answer.status} "
                                  f"{short(answer.body)}"])
        return
    bad = []
    for c in convs:
        n = sum(1 for t in tickets if c["token"] in dump(t))
        if n != 1:
            bad.append(f"{c['shop']} {c['id']}: {n} tickets in /v1/handoffs (want 1)")
    results.check("tickets", bad, [f"/v1/handoffs lists {len(tickets)} tickets"])


def _token_counts(texts, convs):
    return {c["token"]: sum(1 for t in texts if c["token"] in t) for c in convs}


def check_cards(world, results, e2e, ding_e2e):
    texts = sink_texts(world, ding_e2e)
    standin = {"dingtalk": world.dingtalk, "wecom": world.wecom, "feishu": world.feishu,
               "slack": world.slack, "webhook": world.webhook, "chatwoot": world.chatwoot}
    for kind, cards in texts.items():
        counts = _token_counts(cards, e2e)
        bad = [f"no card for {c['shop']} {c['id']} (buyer {c['buyer']})" for c in e2e
               if not counts[c["token"]]]
        if kind in ("webhook", "chatwoot"):
            bad += [f"{n} {'handoff.created events' if kind == 'webhook' else 'conversations'}"
                    f" for {t} (want 1)" for t, n in counts.items() if n > 1]
        if kind == "chatwoot":
            bad += chatwoot_problems(world, e2e)
        bad += standin[kind].problems
        shops = len({c["shop"] for c in e2e})
        results.check(f"card-{kind}", bad,
                      [f"{len(cards)} cards for {len(e2e)} tickets of {shops} shops"])


def chatwoot_problems(world, convs):
    bad = []
    by_token = {c["token"]: c for c in convs}
    for ident, notes, attrs, priority, status, calls in world.chatwoot.snapshot():
        text = "\n".join(notes)
        conv = next((c for t, c in by_token.items() if t in text), None)
        if conv is None:
            continue
        if not identifier_ok(ident, conv["shop"]):
            bad.append(f"{conv['id']}: contact identifier {ident!r}, README says "
                       f"anfu:{conv['shop']}:{{buyer}}")
        if not attrs.get("issue_type"):
            bad.append(f"{conv['id']}: custom_attributes without issue_type: {attrs}")
        if priority is None:
            bad.append(f"{conv['id']}: toggle_priority never called")
        if status != "open" or "status:open" not in calls:
            bad.append(f"{conv['id']}: not handed off with toggle_status open ({calls})")
    return bad


def check_acceptance(world, results, acc, ding_acc, tickets):
    bad = []
    for c in acc:
        bad += reply_problems(world, c)
    gw = world.taobao[ACCEPTANCE_SHOP]["gw"]
    replies = gw.replies()
    if len(replies) != 11:
        bad.append(f"{len(replies)} replies at the send API (want 11)")
    cards = world.dingtalk.texts(ding_acc)
    if len(cards) != 11:
        bad.append(f"{len(cards)} DingTalk cards (want 11)")
    counts = _token_counts(cards, acc)
    bad += [f"{t}: {n} DingTalk cards (want 1)" for t, n in counts.items() if n != 1]
    if tickets is not None:
        n = sum(1 for t in tickets if any(c["token"] in dump(t) for c in acc))
        if n != 11:
            bad.append(f"{n} tickets (want 11)")
    bad += gw.problems + world.dingtalk.problems
    results.check("acceptance-11", bad, [f"{len(replies)} replies, {len(cards)} DingTalk cards"])
