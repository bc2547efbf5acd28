"""Shopee (platforms.md §7): a scenario that runs a Shopee-only anfu of its own against the
stand-in Shopee (shopee_platform.py), so nothing here disturbs the other checks."""

import os
import re
import secrets
import time

from . import signing
from .report import dump, items, short, wait_until
from .service import Anfu, render_config
from .shopee_platform import PARTNER_ID, ShopeeOpenPlatform

BUDGET_S = 30  # every wait is cut to what is left of this; the happy path needs about 15 s
REPLY_WAIT_S = 8
QUIET_S = 3
TIMEOUT_S = 2  # anfu's http_client.timeout here, so a lost answer costs seconds, not ten

SELLER_TW1, SELLER_TW2 = 947151379, 947151388
ORDER_SN = "240911ABCDEF12"
# Characters only Simplified Chinese writes; Traditional has
# 們這請時發貨還讓給說問為對會過換補單實沒經處馬聯謝務員見 instead
SIMPLIFIED_ONLY = "们这请时发货还让给说问为对会过换补单实没经处马联谢务员见"
BIG_BUYER_ID = 2 ** 53 + 1  # 64-bit ids: this one does not survive a trip through an f64

COMPLAINT = "收到的杯子破了，請問可以補寄嗎？"
COMPLAINT_2 = "收到的衣服顏色跟圖片完全不一樣，品質太差，我要退貨退款"
COMPLAINT_3 = "包裹被壓壞了，裡面的盤子碎了兩個，請盡快補寄"
COMPLAINT_4 = "等了一週還沒寄出，太慢了，我要取消退款"
COMPLAINT_5 = "收到的耳機左邊沒有聲音，根本不能用，我要退貨"
COMPLAINT_6 = "床單洗一次就掉色，品質太差了，要求全額退款"
# the shop's own line, worded so that anfu would answer it if it took it for a buyer's
SELLER_TEXT = "包裹被壓壞了，裡面的盤子碎了兩個，我要退貨退款"

CHECKS = ["shopee-complaint-answered", "shopee-refuses-bad-pushes", "shopee-redelivery-once",
          "shopee-no-reply-loop", "shopee-placeholders", "shopee-token-refresh",
          "shopee-lost-answer-looked-up", "shopee-restart-newest-token",
          "shopee-contract-and-process", "shopee-log-keeps-secrets"]


def distinct(lines):
    """Each line once, in first-seen order, with how often it came."""
    counts = {}
    for line in lines:
        counts[line] = counts.get(line, 0) + 1
    return [line if n == 1 else f"{line} (×{n})" for line, n in counts.items()]


def masked(line, named):
    """The log line with the secrets it leaked blanked, so the smoke's output does not leak."""
    line = re.sub(r"\b(sign|access_token)=[^&\s]+", r"\1=<…>", line)
    for kind, values in named.items():
        for v in values:
            line = line.replace(v, f"<{kind}>")
    return line


def empty_200(answer):
    return answer.status == 200 and not answer.body.strip()


def ack_problem(what, answer):
    return None if empty_200(answer) else \
        f"{what}: HTTP {answer.status} {short(answer.body)!r} (want 200 with an empty body)"


class ShopeeScenario:
    """A Shopee-only anfu (its own dir, SQLite file, port and config) against the stand-in."""

    def __init__(self, binary, repo, workdir):
        self.dir = os.path.join(workdir, "shopee")
        os.makedirs(self.dir, exist_ok=True)
        self.platform = ShopeeOpenPlatform(PARTNER_ID, "shpk" + secrets.token_hex(16))
        self.anfu = Anfu(binary, repo, self.dir, token=secrets.token_hex(16))
        self.platform.anfu_port = self.anfu.port
        self.tw1 = self.platform.add_shop("tw1", 14701711, SELLER_TW1,
                                          "https://anfu.example/webhooks/shopee/tw1")
        self.tw2 = self.platform.add_shop("tw2", 14701733, SELLER_TW2,
                                          "https://anfu.example/webhooks/shopee/tw2")
        self.deadline = None
        self.answered_any = False
        self.failed_at_start = 0
        self.done = False
        self.logs = []  # earlier runs' logs (the restart renames the first)

    # --- plumbing -------------------------------------------------------------------------
    def config(self):
        shops = []
        for acct, name in ((self.tw1, "台灣小舖"), (self.tw2, "台灣小舖二館")):
            shop = {"id": acct.key, "platform": "shopee", "name": name,
                    "api_base": self.platform.base, "partner_id": PARTNER_ID,
                    "partner_key": self.platform.partner_key, "shop_id": acct.shop_id,
                    "callback_url": acct.callback_url,
                    "refresh_token": acct.first_refresh_token}
            if acct is self.tw1:  # tw2 must know its own echoes by the ids its sends returned
                shop["seller_user_id"] = str(acct.seller_user_id)
            shop["lang"] = "zh-Hant"
            shops.append(shop)
        sections = {
            "server": {"listen": f"127.0.0.1:{self.anfu.port}", "agent_token": self.anfu.token},
            "storage": {"url": f"sqlite://{os.path.join(self.dir, 'anfu.db')}"},
            "http_client": {"timeout": f"{TIMEOUT_S}s"},
        }
        return render_config(sections, shops, [])

    def left(self, seconds):
        return max(0.0, min(seconds, self.deadline - time.monotonic()))

    def wait(self, predicate, seconds):
        return wait_until(predicate, self.left(seconds), step=0.1)

    def quiet(self, seconds):
        """Let late sends arrive: first the echoes of what was sent, then `seconds` of calm."""
        self.wait(self.platform.echoes_done, 3)
        time.sleep(self.left(seconds))

    def replied(self, *buyers):
        return lambda: all(self.platform.sent_to(b) for b in buyers)

    def reply_problems(self, buyer, what, traditional=False):
        got = self.platform.sent_to(buyer)
        if len(got) != 1:
            texts = "".join(f"; {short(m['content']['text'], 40)}" for m in got)
            return [f"{what}: {len(got)} replies to buyer {buyer.id} (want exactly 1){texts}"]
        text = got[0]["content"]["text"]
        if traditional:
            simplified = sorted({c for c in text if c in SIMPLIFIED_ONLY})
            if simplified:
                return [f"{what}: the reply is not Traditional Chinese (has {''.join(simplified)}):"
                        f" {short(text, 120)}"]
        return []

    def stray_sends(self, kind):
        """kind "loop": sends to the shop's own account (anfu answering itself); "mangled":
        sends to no buyer the stand-in knows (a to_id changed on the way, e.g. by an f64)."""
        bad = []
        for acct in (self.tw1, self.tw2):
            with self.platform.lock:
                buyers = set(acct.real_buyers)
                if kind == "loop":
                    n = sum(1 for m in acct.sent if m["to_id"] == acct.seller_user_id)
                    if n:
                        bad.append(f"{acct.key}: {n} sends to the shop's own account "
                                   f"{acct.seller_user_id} (anfu answering its own messages)")
                    continue
                bad += [f"{acct.key}: send to to_id {m['to_id']}, no buyer the platform knows"
                        for m in acct.sent if m["to_id"] not in buyers | {acct.seller_user_id}]
        return bad

    def standin_says(self, bad, limit=3):
        """When a check failed, what the stand-in refused on the way (the likely cause)."""
        if not bad:
            return bad
        return bad + [f"stand-in: {p}" for p in distinct(self.platform.problems)[:limit]]

    def tickets_of(self, buyer):
        tickets = items(self.anfu.get("/v1/handoffs")) or []
        return [t for t in tickets if isinstance(t.get("card"), dict)
                and str(t["card"].get("conversation_id")) == buyer.conversation_id
                and t["card"].get("shop") == buyer.shop]

    # --- run ------------------------------------------------------------------------------
    def run(self, results):
        self.failed_at_start = results.failed
        bad = signing.shopee_vector_failures()
        results.check("signing-vectors-shopee", bad, ["platforms.md §7: push, shop API, public "
                                                      "API"])
        if bad:
            for name in CHECKS:
                results.check(name, ["not run: the smoke's own Shopee signing is wrong"])
            return
        self.platform.start()
        self.anfu.write_config(self.config())
        self.anfu.start()
        why = self.anfu.wait_healthy()
        results.check("shopee-starts", [why] + self.log_tail(6) if why else [],
                      [f"shops tw1, tw2 (platform = \"shopee\") on 127.0.0.1:{self.anfu.port}"])
        if why:
            for name in CHECKS:
                results.check(name, ["not run: the Shopee anfu did not start"])
            return
        self.deadline = time.monotonic() + BUDGET_S
        started = time.monotonic()
        self.first_round(results)
        if self.answered_any:
            self.check_refresh(results)
            self.check_lost_answer(results)
            self.check_restart(results)
        else:  # each would only wait out its time for the same reason
            for name in CHECKS[5:8]:
                results.check(name, ["not run: anfu sent no Shopee reply at all in the first "
                                     "round"])
        self.check_contract(results)
        self.check_log_secrets(results)
        self.done = True
        print(f"    · the Shopee part took {time.monotonic() - started:.1f}s", flush=True)

    def first_round(self, results):
        """Checks 1-5 share one round of pushes and one quiet window."""
        p = self.platform
        a, b = p.new_buyer("tw1"), p.new_buyer("tw2", BIG_BUYER_ID)
        pushed_at = time.time()
        push_a = p.buyer_says(a, COMPLAINT)
        redelivered = [p.redeliver(push_a)]  # while the first is still being processed
        push_b = p.buyer_says(b, COMPLAINT_2)
        forged = self.forged_pushes()
        own = p.new_buyer("tw1")
        push_own = p.seller_says(own, SELLER_TEXT)
        c, sticker_buyer = p.new_buyer("tw1"), p.new_buyer("tw2")
        push_order = p.buyer_says(c, message_type="order", content={"order_sn": ORDER_SN})
        push_c = p.buyer_says(c, COMPLAINT_3)
        push_sticker = p.buyer_says(sticker_buyer, message_type="sticker", content={
            "sticker_id": "1001", "sticker_package_id": "3"})
        note_buyer = p.new_buyer("tw1")
        push_note = p.notify(note_buyer)
        replied = self.wait(self.replied(a, b, c), REPLY_WAIT_S)
        first = p.sent_to(a)
        redelivered.append(p.redeliver(push_a))  # after the reply went out
        tickets = []
        if replied:
            self.wait(lambda: bool(tickets.extend(self.tickets_of(c)) or tickets), 6)
        self.quiet(QUIET_S)
        self.answered_any = any(p.sends(k) for k in self.platform.shops)

        bad = [x for x in (ack_problem("tw1 complaint", push_a.answer),
                           ack_problem("tw2 complaint", push_b.answer)) if x]
        bad += self.reply_problems(a, "tw1", traditional=True)
        bad += self.reply_problems(b, f"tw2 (buyer id {BIG_BUYER_ID}, above 2^53)",
                                   traditional=True)
        bad += self.stray_sends("mangled")
        bad = self.standin_says(bad)
        details = [f"tw1's reply {first[0]['time'] - pushed_at:.1f}s after the push: "
                   f"{short(first[0]['content']['text'], 90)}" if first else
                   f"tw1: no reply within {REPLY_WAIT_S}s"]
        results.check("shopee-complaint-answered", bad, details)

        bad = []
        for what, answer, want, buyer in forged:
            if answer.status not in want:
                bad.append(f"{what}: HTTP {answer.status} {short(answer.body)} (want "
                           f"{'/'.join(map(str, want)) if len(want) < 4 else '4xx'})")
            elif not self.json_body(answer):
                bad.append(f"{what}: HTTP {answer.status} without the short JSON error body: "
                           f"{short(answer.body)!r}")
            if buyer is not None and p.sent_to(buyer):
                bad.append(f"{what}: the buyer was answered anyway")
        results.check("shopee-refuses-bad-pushes", bad,
                      [f"{len(forged)} pushes: wrong key, signed over anfu's own URL, another "
                       "shop's shop_id, no Authorization, unknown shop"])

        bad = [x for i, r in enumerate(redelivered) if (x := ack_problem(
            f"redelivery {i + 1} ({'at once' if i == 0 else 'after the reply'})", r))]
        bad += self.reply_problems(a, "tw1 after two redeliveries")
        results.check("shopee-redelivery-once", bad,
                      ["the same message_id pushed three times, one reply"])

        bad = [x for x in (ack_problem("tw1 seller's own message", push_own.answer),) if x]
        if p.sent_to(own):
            bad.append(f"tw1 answered the shop's own message (from_id {SELLER_TW1} = "
                       "seller_user_id)")
        with p.lock:
            echoes = [e for acct in (self.tw1, self.tw2) for e in acct.echoes]
        bad += [f"echo of {e['message_id']}: HTTP {e['status']} {short(e['body'])}"
                for e in echoes if e["status"] != 200 or e["body"].strip()]
        for acct, want in ((self.tw1, 2), (self.tw2, 1)):
            n = len(p.sends(acct.key))
            if n > want:
                bad.append(f"{acct.key}: {n} sends after {len(acct.echoes)} echoes and "
                           f"{QUIET_S}s of quiet (want {want}: a reply loop?)")
            elif n < want:
                bad.append(f"{acct.key}: {n} sends (want {want}; replies missing, see above), "
                           "so the echoes were not all exercised")
        bad += self.stray_sends("loop")
        results.check("shopee-no-reply-loop", bad,
                      [f"{len(echoes)} echoes of anfu's replies pushed back (tw2 has no "
                       "seller_user_id) and acked; the shop's own message unanswered"])

        bad = [x for x in (ack_problem("order message", push_order.answer),
                           ack_problem("text after the order", push_c.answer),
                           ack_problem("sticker", push_sticker.answer),
                           ack_problem("notification", push_note.answer)) if x]
        bad += self.reply_problems(c, "text complaint after an order message")
        if p.sent_to(sticker_buyer):
            bad.append("a sticker alone was answered")
        if p.sent_to(note_buyer):
            bad.append("the buyer named in a notification push was answered")
        details = []
        if not tickets:
            bad.append(f"no ticket in /v1/handoffs for conversation {c.conversation_id} "
                       "(the complaint after the order message)")
        else:
            got = tickets[0]["card"].get("order_id")
            if got != ORDER_SN:
                bad.append(f"the ticket's card.order_id is {got!r}, want the order message's "
                           f"order_sn {ORDER_SN!r}")
            details.append(self.placeholder_note(tickets[0], bad))
        results.check("shopee-placeholders", self.standin_says(bad), details)

    def forged_pushes(self):
        """(what, answer, wanted statuses, buyer who must stay unanswered) for each bad push."""
        p, out = self.platform, []
        real_url = f"http://127.0.0.1:{self.anfu.port}/webhooks/shopee/tw1"
        for what, how, want in (
                ("signed with a wrong partner_key", {"key_override": "shpk-wrong"}, (401,)),
                ("signed over anfu's own URL, not callback_url", {"sign_url": real_url}, (401,)),
                ("without Authorization", {"authorization": False}, (401,)),
                ("to an unknown shop", {"path_shop": "nosuch"}, (404,))):
            buyer = p.new_buyer("tw1")
            out.append((what, p.buyer_says(buyer, COMPLAINT, **how).answer, want, buyer))
        buyer = p.new_buyer("tw1")
        msg = p.chat(buyer, "text", {"text": COMPLAINT})
        env = p.envelope("tw1", "message", msg, shop_id=self.tw2.shop_id)
        out.append(("tw1's URL with tw2's top-level shop_id", p.push("tw1", env).answer,
                    tuple(range(400, 500)), buyer))
        return out

    @staticmethod
    def json_body(answer):
        try:
            answer.json()
            return True
        except ValueError:
            return False

    def placeholder_note(self, ticket, bad):
        """§7: the order message stays in the transcript as [订单] (if the API shows one)."""
        detail = self.anfu.get(f"/v1/handoffs/{ticket['id']}")
        text = dump(detail.json()) if detail.status == 200 and self.json_body(detail) else ""
        if COMPLAINT_3 not in text:
            return "the ticket API shows no transcript: [订单] not checked"
        if "[订单]" not in text:
            bad.append(f"the transcript of ticket {ticket['id']} has no [订单] line")
        return f"ticket {ticket['id']}: order_id {ORDER_SN}, [订单] in the transcript"

    def check_refresh(self, results):
        """6: an expired access token is refreshed once, with the newest refresh token."""
        p = self.platform
        with p.lock:
            before, newest = self.tw1.refreshes, self.tw1.refresh_token
            seen = len(self.tw1.presented)
        p.expire_access_token("tw1")
        buyer = p.new_buyer("tw1")
        push = p.buyer_says(buyer, COMPLAINT_4)
        self.wait(self.replied(buyer), REPLY_WAIT_S)
        time.sleep(self.left(1.0))
        bad = [x for x in (ack_problem("complaint", push.answer),) if x]
        bad += self.reply_problems(buyer, "tw1 after its access token expired")
        with p.lock:
            after, presented = self.tw1.refreshes, self.tw1.presented[seen:]
        if after != before + 1:
            bad.append(f"{after - before} refreshes (want 1)")
        if presented and presented[0][0] != newest:
            bad.append("the first refresh presented an older refresh token, not the newest "
                       "issued")
        spent = sum(1 for _, live, _ in presented[1:] if not live)
        if spent:
            bad.append(f"{spent} more refresh call(s) with a spent refresh token (two refreshes "
                       "racing?)")
        results.check("shopee-token-refresh", self.standin_says(bad),
                      [f"refreshes {before} → {after}; {len(presented)} refresh call(s) since "
                       "the expiry"])

    def check_lost_answer(self, results):
        """§7: Shopee has no idempotency key; a send whose answer was lost is looked up with
        get_message before it is retried, so the buyer never sees two replies."""
        p = self.platform
        buyer = p.new_buyer("tw1")
        with p.lock:
            self.tw1.slow_next_send_s = TIMEOUT_S + 1.5
        push = p.buyer_says(buyer, COMPLAINT_5)

        def looked_up():
            with p.lock:
                return buyer.conversation_id in self.tw1.lookups

        self.wait(lambda: looked_up() and p.sent_to(buyer), TIMEOUT_S + 8)
        time.sleep(self.left(1.5))
        bad = [x for x in (ack_problem("complaint", push.answer),) if x]
        bad += self.reply_problems(buyer, "tw1 after a send answered too late")
        if not looked_up():
            bad.append(f"no get_message for conversation {buyer.conversation_id} after the "
                       f"send answered later than anfu's {TIMEOUT_S}s timeout")
        results.check("shopee-lost-answer-looked-up", self.standin_says(bad),
                      [f"one send answered after {TIMEOUT_S + 1.5:.1f}s (the message delivered,"
                       " the answer lost)"])

    def check_restart(self, results):
        """7: after a restart on the same store and config (its refresh_token long spent),
        anfu refreshes with the newest refresh token it stored."""
        p = self.platform
        code = self.anfu.sigterm()
        self.anfu.kill()  # closes the log
        old = os.path.join(self.dir, "anfu-1.log")
        os.replace(self.anfu.log_path, old)
        self.logs.append(old)
        self.anfu.start()
        why = self.anfu.wait_healthy(min(30, max(5, self.left(30))))
        if why:
            results.check("shopee-restart-newest-token", [f"restart: {why}"] + self.log_tail(6))
            return
        with p.lock:
            seen = {k: len(a.presented) for k, a in p.shops.items()}
        p.expire_access_token("tw2")
        buyer = p.new_buyer("tw2")
        push = p.buyer_says(buyer, COMPLAINT_6)
        self.wait(self.replied(buyer), REPLY_WAIT_S)
        self.quiet(1.5)
        bad = [f"SIGTERM: exit code {code}"] if code != 0 else []
        bad += [x for x in (ack_problem("complaint", push.answer),) if x]
        bad += self.reply_problems(buyer, "tw2 after the restart")
        with p.lock:
            calls = {k: a.presented[seen[k]:] for k, a in p.shops.items()}
            first = self.tw2.first_refresh_token
        if not calls["tw2"]:
            bad.append("tw2 never refreshed after the restart and the expiry")
        for key, presented in calls.items():
            for token, live, _ in presented:
                if not live:
                    bad.append(f"{key}: refreshed with "
                               f"{'the config’s first' if token == first else 'a spent'} "
                               "refresh token, not the newest stored one")
        sends = len(p.sends("tw2"))
        results.check("shopee-restart-newest-token", self.standin_says(bad),
                      [f"SIGTERM exit {code}; {len(calls['tw2'])} tw2 refresh call(s) after the "
                       f"restart; tw2 sends in all: {sends}"])

    def check_contract(self, results):
        bad = distinct(list(self.platform.problems) + list(self.platform.unexpected))
        bad += self.stray_sends("loop")
        if not self.anfu.alive():
            bad.append(f"anfu exited early with code {self.anfu.proc.returncode}")
        panics = [line for path in self.logs + [self.anfu.log_path]
                  for line in self.read(path).splitlines() if "panicked" in line]
        bad += [f"panic: {short(line, 200)}" for line in panics[:3]]
        results.check("shopee-contract-and-process", bad,
                      ["stand-in saw no contract breach; anfu alive, no panic"])

    def secrets_in_logs(self):
        """config/default.toml: "Secrets, signatures and query strings are never logged" --
        Shopee puts the sign and the access token in the query string of every call."""
        named = {"partner_key": [self.platform.partner_key]}
        for acct in (self.tw1, self.tw2):
            named[f"{acct.key} refresh token"] = list(acct.issued)
            named[f"{acct.key} access token"] = list(acct.access_issued)
        found = {}
        for path in self.logs + [self.anfu.log_path]:
            for line in self.read(path).splitlines():
                kinds = [k for k, values in named.items() if any(v in line for v in values)]
                kinds += [f"`{q}=` in a URL" for q in ("sign", "access_token")
                          if f"?partner_id=" in line and f"{q}=" in line]
                for kind in kinds:
                    found.setdefault(kind, (0, line))
                    found[kind] = (found[kind][0] + 1, found[kind][1])
        return [f"{kind}: {n} log line(s), e.g. {short(masked(line, named), 160)}"
                for kind, (n, line) in found.items()]

    def check_log_secrets(self, results):
        results.check("shopee-log-keeps-secrets", self.secrets_in_logs(),
                      ["no partner_key, token or signed query string in anfu's log"])

    # --- teardown -------------------------------------------------------------------------
    @staticmethod
    def read(path):
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n):
        return [f"log: {line}" for line in self.anfu.log_text().splitlines()[-n:]]

    def close(self, results):
        failed = results.failed > self.failed_at_start or not self.done
        self.anfu.kill()
        self.platform.stop()
        if failed and self.deadline is not None:  # a failed start showed its log already
            tail = self.anfu.log_text().splitlines()[-20:]
            if tail:
                print("--- last lines of the Shopee anfu log ---")
                print("\n".join(tail), flush=True)
