"""Stand-ins for the six handoff sinks (platforms.md §4), written from the contract."""

import json
import time

from . import signing
from .httpd import StandIn, reply


def _json(req):
    try:
        return req.json()
    except ValueError:
        return None


class RobotSink(StandIn):
    """Common part: recorded cards (text searched for the buyer), 20 per minute per robot."""

    per_minute = None

    def __init__(self, kind):
        super().__init__()
        self.name = kind
        self.kind = kind
        self.cards = []  # (robot, text, body)
        self.sent = {}  # robot -> [times]

    def _record(self, robot, body, text):
        with self.lock:
            times = [t for t in self.sent.get(robot, []) if time.time() - t < 60]
            if self.per_minute and len(times) >= self.per_minute:
                self.problems.append(f"{self.kind}: robot {robot} got more than "
                                     f"{self.per_minute} messages in a minute")
                return False
            self.sent[robot] = times + [time.time()]
            self.cards.append((robot, text, body))
            return True

    def texts(self, robot=None):
        with self.lock:
            return [text for r, text, _ in self.cards if robot is None or r == robot]


class DingTalk(RobotSink):
    per_minute = 20

    def __init__(self):
        super().__init__("dingtalk")
        self.robots = {}  # access_token -> secret

    def handle(self, req):
        if req.method != "POST" or req.path != "/robot/send":
            return self.not_found(req)
        token = req.query.get("access_token", "")
        if token not in self.robots:
            self.problem(f"unknown access_token {token!r}")
            return reply(200, {"errcode": 300001, "errmsg": "token is not exist"})
        secret = self.robots[token]
        ts, sign = req.query.get("timestamp", ""), req.query.get("sign", "")
        if not ts.isdigit() or abs(time.time() * 1000 - int(ts)) > 3600_000:
            self.problem(f"timestamp {ts!r} is not unix milliseconds within the hour")
            return reply(200, {"errcode": 310000, "errmsg": "invalid timestamp"})
        if not signing.eq(sign, signing.dingtalk_sign(secret, ts)):
            self.problem("sign does not verify (base64 HMAC-SHA256 of ts\\nsecret, URL-encoded)")
            return reply(200, {"errcode": 310000, "errmsg": "sign not match"})
        body = _json(req)
        md = body.get("markdown") if isinstance(body, dict) else None
        if (not isinstance(md, dict) or body.get("msgtype") != "markdown"
                or not isinstance(md.get("title"), str) or not md.get("title")
                or not isinstance(md.get("text"), str) or not md.get("text")):
            self.problem(f"body is not a markdown message: {req.body[:200]!r}")
            return reply(200, {"errcode": 40035, "errmsg": "invalid parameter"})
        at = body.get("at")
        if at is not None and not isinstance(at, dict):
            self.problem(f"`at` is {at!r}")
        if not self._record(token, body, md["title"] + "\n" + md["text"]):
            return reply(200, {"errcode": 130101, "errmsg": "send too fast"})
        return reply(200, {"errcode": 0, "errmsg": "ok"})


class WeCom(RobotSink):
    per_minute = 20

    def __init__(self):
        super().__init__("wecom")
        self.keys = set()

    def handle(self, req):
        if req.method != "POST" or req.path != "/cgi-bin/webhook/send":
            return self.not_found(req)
        key = req.query.get("key", "")
        if key not in self.keys:
            self.problem(f"unknown key {key!r}")
            return reply(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
        body = _json(req)
        md = body.get("markdown") if isinstance(body, dict) else None
        content = md.get("content") if isinstance(md, dict) else None
        if body is None or body.get("msgtype") != "markdown" or not isinstance(content, str) \
                or not content:
            self.problem(f"body is not a markdown message: {req.body[:200]!r}")
            return reply(200, {"errcode": 40008, "errmsg": "invalid message type"})
        if len(content.encode()) > 4096:
            self.problem(f"markdown content is {len(content.encode())} bytes (> 4096)")
            return reply(200, {"errcode": 40058, "errmsg": "content exceed max length"})
        if not self._record(key, body, content):
            return reply(200, {"errcode": 45009, "errmsg": "api freq out of limit"})
        return reply(200, {"errcode": 0, "errmsg": "ok"})


class Feishu(RobotSink):
    def __init__(self):
        super().__init__("feishu")
        self.hooks = {}  # hook token -> secret

    def handle(self, req):
        prefix = "/open-apis/bot/v2/hook/"
        if req.method != "POST" or not req.path.startswith(prefix):
            return self.not_found(req)
        hook = req.path[len(prefix):]
        if hook not in self.hooks:
            self.problem(f"unknown hook {hook!r}")
            return reply(200, {"code": 19001, "msg": "param invalid: incoming webhook access "
                                                     "token invalid"})
        body = _json(req)
        if not isinstance(body, dict):
            self.problem(f"body is not JSON: {req.body[:200]!r}")
            return reply(200, {"code": 9499, "msg": "Bad Request"})
        ts, sign = body.get("timestamp"), body.get("sign")
        ts = str(ts) if isinstance(ts, (str, int)) else ""
        if not ts.isdigit() or abs(time.time() - int(ts)) > 3600:
            self.problem(f"timestamp {body.get('timestamp')!r} is not unix seconds within the "
                         "hour")
            return reply(200, {"code": 19021, "msg": "sign match fail or timestamp is not "
                                                     "within one hour from current time"})
        if not isinstance(sign, str) or not signing.eq(sign,
                                                       signing.feishu_sign(self.hooks[hook], ts)):
            self.problem("sign does not verify (HMAC-SHA256 key ts\\nsecret over nothing)")
            return reply(200, {"code": 19021, "msg": "sign match fail or timestamp is not "
                                                     "within one hour from current time"})
        card = body.get("card")
        if body.get("msg_type") != "interactive" or not isinstance(card, dict) or not card:
            self.problem(f"want msg_type interactive and a card: {req.body[:200]!r}")
            return reply(200, {"code": 9499, "msg": "Bad Request"})
        self._record(hook, body, json.dumps(card, ensure_ascii=False))
        return reply(200, {"code": 0, "msg": "success", "data": {}})


class Slack(RobotSink):
    def __init__(self):
        super().__init__("slack")
        self.paths = set()

    def handle(self, req):
        if req.method != "POST" or req.path not in self.paths:
            if req.method == "POST" and req.path.startswith("/services/"):
                self.problem(f"unknown webhook path {req.path}")
                return reply(404, "no_service", "text/plain")
            return self.not_found(req)
        body = _json(req)
        text = body.get("text") if isinstance(body, dict) else None
        blocks = body.get("blocks") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text or not isinstance(blocks, list) or not blocks:
            self.problem(f"want text and blocks: {req.body[:200]!r}")
            return reply(400, "invalid_payload", "text/plain")
        self._record(req.path, body, text + "\n" + json.dumps(blocks, ensure_ascii=False))
        return reply(200, "ok", "text/plain")


class WebhookSink(RobotSink):
    def __init__(self, secret):
        super().__init__("webhook")
        self.secret = secret
        self.path = "/hooks/anfu"

    def handle(self, req):
        if req.method != "POST" or req.path != self.path:
            return self.not_found(req)
        why = signing.sw_verify(self.secret, req.headers, req.body)
        if why:
            self.problem(why)
            return reply(401, {"error": why})
        body = _json(req)
        if not isinstance(body, dict) or body.get("type") not in (
                "handoff.created", "handoff.updated") or not isinstance(body.get("ticket"), dict):
            self.problem(f"want {{type: handoff.created|updated, ticket}}: {req.body[:200]!r}")
            return reply(400, {"error": "bad body"})
        self._record(body["type"], body, json.dumps(body["ticket"], ensure_ascii=False))
        return reply(204)
