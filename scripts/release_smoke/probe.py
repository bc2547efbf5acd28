"""`anfu check --config FILE --probe`: one harmless authenticated call per shop and per sink,
against stand-ins of its own (so its test lines reach no other check's robots). Good
credentials work, a wrong session / an expired licenseKey / a wrong robot secret are named as
failing, and the exit status says whether all work."""

import os
import re
import subprocess

from .world import World

LINE = re.compile(r"^probe (shop|sink) (\S+) \((\w+)\): (works|FAILS|not probed)\b(.*)$")


def _world(broken):
    world = World(public_url="http://127.0.0.1:9")
    world.add_taobao("tbok", "hmac-sha256")
    world.add_rakuten("rkok", 338290, "poll")
    world.add_generic("genok")
    world.add_sinks(["tbok"])
    if broken:
        world.add_taobao("tbbad", "md5")
        world.shops[-1]["session"] = "sess-revoked"  # the gateway knows another session
        world.add_rakuten("rkold", 338291, "poll", expired=True)
        token = world.add_dingtalk(["tbok"])
        world.dingtalk.robots[token] = "SEC-rotated-in-the-console"
        world.sinks[-1]["name"] = "ding-rotated"
    for sink in world.sinks:
        sink.setdefault("name", sink["kind"])
    return world


def _probe(binary, folder, workdir, world, name):
    config = os.path.join(workdir, f"{name}.toml")
    with open(config, "w", encoding="utf-8") as f:
        f.write(world.config(9, os.path.join(workdir, f"{name}.db")))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANFU_")}
    done = subprocess.run([binary, "check", "--config", config, "--probe"], cwd=folder, env=env,
                          capture_output=True, timeout=60)
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    found = {}
    for line in lines:
        m = LINE.match(line)
        if m:
            found[m.group(2)] = (m.group(4), line)
    return done.returncode, found, done.stderr.decode("utf-8", "replace")


def check(results, binary, folder, workdir):
    bad, details = [], []
    for broken in (False, True):
        world = _world(broken)
        world.start_standins()
        try:
            code, found, stderr = _probe(binary, folder, workdir, world,
                                         "probe-broken" if broken else "probe")
            want = {"tbok": "works", "rkok": "works", "genok": "not probed",
                    "dingtalk": "works", "wecom": "works", "feishu": "works",
                    "slack": "works", "chatwoot": "works", "webhook": "not probed"}
            if broken:
                want.update({"tbbad": "FAILS", "rkold": "FAILS", "ding-rotated": "FAILS"})
            for what, verdict in want.items():
                got = found.get(what)
                if got is None or got[0] != verdict:
                    bad.append(f"{what}: {got[1] if got else 'no probe line'} (want {verdict})")
            if broken:
                details += [v[1] for k, v in sorted(found.items()) if v[0] == "FAILS"]
            want_code = 2 if broken else 0
            if code != want_code:
                bad.append(f"exit {code} (want {want_code}): {stderr[:300]}")
            gateway = world.taobao["tbok"]["gw"]
            if gateway.seller_reads != 1 or gateway.replies():
                bad.append(f"taobao gateway: {gateway.seller_reads} seller reads, "
                           f"{len(gateway.replies())} messages sent (want 1 read, nothing sent)")
            if world.rakuten.replies:
                bad.append(f"rakuten: replies posted by a probe: {world.rakuten.replies}")
            for robot in (world.dingtalk, world.wecom, world.feishu, world.slack):
                texts = robot.texts()
                if not broken and (len(texts) != 1 or "anfu check --probe" not in texts[0]):
                    bad.append(f"{robot.kind}: got {texts!r} (want the one test line)")
            if world.webhook.texts():
                bad.append("the webhook sink got a ticket from a probe")
            if not broken:
                unexpected = [p for s in world.standins for p in s.problems + s.unexpected]
                bad += unexpected
        finally:
            world.stop_standins()
    results.check("check-probe", bad, details)
