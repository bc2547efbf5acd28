"""Hot reload on the release binary: the service runs on data exported by `anfu export`;
an edited reply template is used after SIGHUP, a shop renamed in the config file is named in
the next reply after SIGHUP, and a broken dictionary is refused on SIGHUP while the previous
set keeps answering and the alert names the file and line."""

import json
import os
import re
import signal
import subprocess

from .e2e import replies_for
from .report import short, wait_until

WAIT_S = 15
COMPLAINT = "衣服洗了一次就起球了，质量太差，我要退货"


def export(binary, home, workdir):
    """Writes the built-in data into workdir/data; returns the config's [data] section."""
    out = os.path.join(workdir, "data")
    subprocess.run([binary, "export", out], cwd=home, check=True, capture_output=True,
                   timeout=60)
    return (f'\n[data]\nintents = {json.dumps(os.path.join(out, "intents"))}\n'
            f'replies = {json.dumps(os.path.join(out, "replies"))}\n')


def _reloads(anfu, result):
    text = anfu.get("/metrics", auth=False).text()
    found = re.search(r'anfu_data_reloads_total\{result="' + result + r'"\} (\d+)', text)
    return int(found.group(1)) if found else 0


def _hup_and_wait(anfu, result):
    before = _reloads(anfu, result)
    anfu.proc.send_signal(signal.SIGHUP)
    return wait_until(lambda: _reloads(anfu, result) > before, WAIT_S)


def _reply(world, anfu, problems, what):
    answer, conv = world.taobao_push(anfu, "tb1", "hmac-sha256", text=COMPLAINT)
    if answer.status != 200:
        problems.append(f"{what}: the push was answered {answer.status}")
        return None
    if not wait_until(lambda: replies_for(world, conv), WAIT_S):
        problems.append(f"{what}: no reply within {WAIT_S}s")
        return None
    return replies_for(world, conv)[0]["text"]


def check(world, anfu, results, workdir):
    bad, details = [], []
    data = os.path.join(workdir, "data")
    hans = os.path.join(data, "replies", "zh-Hans.toml")
    with open(hans, encoding="utf-8") as f:
        text = f.read()
    with open(hans, "w", encoding="utf-8") as f:
        f.write(text.replace("亲，", "{shop}的亲爱的顾客，"))
    if not _hup_and_wait(anfu, "ok"):
        bad.append("SIGHUP: no reload counted (anfu_data_reloads_total{result=\"ok\"})")
    reply = _reply(world, anfu, bad, "after the edit")
    if reply is not None and not reply.startswith("tb1的亲爱的顾客，"):
        bad.append(f"after SIGHUP the reply is not from the edited template: {short(reply)}")
    details.append(f"edited template in use: {short(reply or '-')}")

    with open(anfu.config, encoding="utf-8") as f:
        config = f.read()
    if 'id = "tb1"\n' not in config:
        bad.append("the smoke's config has no tb1 shop table to rename")
    with open(anfu.config, "w", encoding="utf-8") as f:
        f.write(config.replace('id = "tb1"\n', 'id = "tb1"\nname = "安抚小店"\n', 1))
    if not _hup_and_wait(anfu, "ok"):
        bad.append("SIGHUP after renaming the shop: no reload counted")
    reply = _reply(world, anfu, bad, "after renaming the shop")
    prefix = "安抚小店的亲爱的顾客，"
    if reply is not None and not reply.startswith(prefix):
        bad.append(f"after SIGHUP the reply does not use the shop's new name: {short(reply)}")
    details.append(f"shop renamed in anfu.toml: {short(reply or '-')}")

    quality = os.path.join(data, "intents", "issue_type", "quality.toml")
    with open(quality, "a", encoding="utf-8") as f:
        f.write("\n[[nonsense]]\n")
    if not _hup_and_wait(anfu, "refused"):
        bad.append("SIGHUP on a broken dictionary: no refusal counted")
    alerts = anfu.get("/v1/alerts").text()
    if "quality.toml:" not in alerts:
        bad.append(f"the alert does not name the file and line: {short(alerts)}")
    reply = _reply(world, anfu, bad, "with the broken file on disk")
    if reply is not None and not reply.startswith(prefix):
        bad.append(f"the previous set did not keep answering: {short(reply)}")
    details.append("a broken quality.toml refused; the alert names it; the previous set answers")
    results.check("reload-on-sighup", bad, details)
