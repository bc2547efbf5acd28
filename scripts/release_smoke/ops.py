"""Checks 3-6: dead letters, panics and shutdown, /v1/analyze starvation, per-instance readiness."""

import http.client
import json
import threading
import time

from .report import items, short, wait_until

EXPIRED_SHOP = "rkexpired"
LOAD_SHOP = "tbload"

BIG_UNIT = ("快递一周了还没到，太慢了，我要退款。收到的杯子是碎的，要求退货退款，不然给差评！"
            "客服一直不回消息，什么破服务，再不处理我就投诉到消费者协会。")


def check_readiness(world, anfu, results):
    """6: a shop whose licenseKey is rejected raises its alert, but /readyz stays 200."""
    polled = wait_until(lambda: world.rakuten.polls.get(EXPIRED_SHOP, 0) >= 1, 15)
    if not polled:
        results.check("readyz-per-instance", [f"{EXPIRED_SHOP} was never polled within 15s"])
        results.check("alerts-list-expired-shop", [f"{EXPIRED_SHOP} was never polled"])
        return
    last = {}

    def named():
        last["a"] = anfu.get("/readyz")
        return EXPIRED_SHOP in last["a"].text()

    wait_until(named, 10, step=0.5)
    ready = last["a"]
    bad = []
    if EXPIRED_SHOP not in ready.text():
        bad.append(f"/readyz body does not name {EXPIRED_SHOP}'s alert within 10s of its "
                   f"first rejected poll: HTTP {ready.status} {short(ready.body)}")
    if ready.status != 200:
        bad.append(f"/readyz answered HTTP {ready.status} (want 200: one shop's rejected "
                   f"credentials must not take the instance out of the balancer): "
                   f"{short(ready.body)}")
    results.check("readyz-per-instance", bad,
                  [f"/readyz → HTTP {ready.status} {short(ready.body, 160)}"])
    alerts = anfu.get("/v1/alerts")
    bad = []
    if alerts.status != 200 or EXPIRED_SHOP not in alerts.text():
        bad.append(f"GET /v1/alerts does not list {EXPIRED_SHOP}: HTTP {alerts.status} "
                   f"{short(alerts.body)}")
    results.check("alerts-list-expired-shop", bad, [f"/v1/alerts → {short(alerts.body, 160)}"])


def _analysis(port, token, body, sent, out, idx):
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        try:
            conn.request("POST", "/v1/analyze", body=body, headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json; charset=utf-8"})
        except OSError as exc:  # the server may answer (413) and close before the body is in
            out[idx] = ("send", repr(exc))
        sent.set()
        resp = conn.getresponse()
        data = resp.read()
        out[idx] = (resp.status, time.monotonic() - start, data[:120])
    except OSError as exc:
        out[idx] = (0, time.monotonic() - start, repr(exc).encode())
    finally:
        sent.set()
        conn.close()


def check_analyze(world, anfu, results):
    """5: /v1/analyze needs the token and three huge analyses do not starve the service."""
    small = json.dumps({"text": "快递太慢了，我要退款"}, ensure_ascii=False).encode()
    ctype = {"Content-Type": "application/json; charset=utf-8"}
    no_token = anfu.post("/v1/analyze", small, ctype)
    wrong = anfu.post("/v1/analyze", small, dict(ctype, Authorization="Bearer not-the-token"))
    good = anfu.post("/v1/analyze", small, dict(ctype, Authorization=f"Bearer {world.agent_token}"))
    bad = []
    if no_token.status != 401:
        bad.append(f"without a token: HTTP {no_token.status} (want 401)")
    if wrong.status != 401:
        bad.append(f"with a wrong token: HTTP {wrong.status} (want 401)")
    if good.status != 200:
        bad.append(f"with the token, a short text: HTTP {good.status} {short(good.body)}")
    results.check("analyze-requires-token", bad,
                  [f"no token {no_token.status}, wrong token {wrong.status}, token {good.status}"])

    text = BIG_UNIT * (600_000 // len(BIG_UNIT.encode()) + 1)
    body = json.dumps({"text": text}, ensure_ascii=False).encode()
    out, events, threads = [None] * 3, [], []
    for i in range(3):
        ev = threading.Event()
        t = threading.Thread(target=_analysis, daemon=True,
                             args=(anfu.port, world.agent_token, body, ev, out, i))
        events.append(ev)
        threads.append(t)
        t.start()
    for ev in events:
        ev.wait(5)
    running = sum(1 for t in threads if t.is_alive())
    health = anfu.get("/healthz", auth=False, timeout=5)
    hook, conv = world.taobao_push(anfu, LOAD_SHOP, "md5")
    running_after = sum(1 for t in threads if t.is_alive())
    for t in threads:
        t.join(30)
    bad = []
    if health.status != 200 or health.seconds > 1.0:
        bad.append(f"/healthz: HTTP {health.status} in {health.seconds:.3f}s (want 200 within 1s)")
    try:
        hook_ok = hook.status == 200 and hook.json() == {"success": True}
    except ValueError:
        hook_ok = False
    if not hook_ok or hook.seconds > 1.0:
        bad.append(f"signed Taobao webhook: HTTP {hook.status} {short(hook.body, 80)} in "
                   f"{hook.seconds:.3f}s (want 200 {{success:true}} within 1s)")
    answers = []
    for i, o in enumerate(out):
        if o is None or o[0] == "send":
            o = (0, 0.0, b"no answer")
        status, secs, snippet = o
        answers.append(f"{status} in {secs:.2f}s")
        if threads[i].is_alive():
            bad.append(f"analysis {i + 1} still unanswered after 30s")
        elif not (status == 200 or 400 <= status < 500):
            bad.append(f"analysis {i + 1}: HTTP {status} {short(snippet, 80)} (want 200 or a 4xx)")
    results.check("analyze-no-starvation", bad, [
        f"{len(body) // 1000} KB each; analyses running when measured: {running} before, "
        f"{running_after} after",
        f"/healthz {health.seconds * 1000:.0f} ms, signed webhook {hook.seconds * 1000:.0f} ms",
        f"analyses answered: {', '.join(answers)}"])
    return conv


def check_dead_letters(anfu, results):
    answer = anfu.get("/v1/jobs?status=dead")
    jobs = items(answer)
    if answer.status != 200 or jobs is None:
        results.check("no-dead-letters", [f"GET /v1/jobs?status=dead: HTTP {answer.status} "
                                          f"{short(answer.body)}"])
        return
    results.check("no-dead-letters",
                  [f"{len(jobs)} dead jobs: {short(json.dumps(jobs, ensure_ascii=False), 600)}"]
                  if jobs else [])


def panic_lines(anfu):
    return [line for line in anfu.log_text().splitlines() if "panicked" in line]


def check_process(anfu, results):
    """4: alive at the end, no panic in the log, SIGTERM exits 0."""
    alive = anfu.alive()
    results.check("alive-at-end", [] if alive else
                  [f"anfu exited early with code {anfu.proc.returncode}"])
    start = time.monotonic()
    code = anfu.sigterm() if alive else None
    took = time.monotonic() - start
    if alive:
        results.check("sigterm-exit-0", [] if code == 0 else
                      [f"exit code {code} after SIGTERM" if code is not None
                       else "did not exit within 15s of SIGTERM (killed)"],
                      [f"exited in {took:.2f}s"])
    else:
        results.check("sigterm-exit-0", ["not running when SIGTERM was due"])
    panics = panic_lines(anfu)
    results.check("no-panic", [f"{len(panics)} 'panicked' lines in the log, first: "
                               f"{short(panics[0], 300)}"] if panics else [])


def check_load_reply(world, results, conv):
    """The webhook sent under load is answered too (its shop routes to no sink)."""
    gw = world.taobao[LOAD_SHOP]["gw"]
    ok = conv is not None and wait_until(
        lambda: any(r["conversation_id"] == conv["id"] for r in gw.replies()), 10)
    bad = [] if ok else ["no reply to the webhook sent during the analyses within 10s"]
    bad += gw.problems
    results.check("reply-under-load", bad)
