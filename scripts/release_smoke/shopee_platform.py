"""Shopee (platforms.md §7), written from the contract: a stand-in for the Open Platform's shop
API (token refresh, seller chat send and lookup) that also plays Shopee's push side (buyers'
messages, notifications, and the echo of every message the shop sends). The scenario that
runs anfu against it is in shopee.py."""

import itertools
import secrets
import threading
import time

from . import signing
from .httpd import StandIn, call, reply
from .report import short

PARTNER_ID = 2001887
ACCESS_TTL_S = 14400
SKEW_S = 300  # Shopee refuses a `timestamp` more than 5 minutes away
AUTH_PATH = "/api/v2/auth/access_token/get"
SEND_PATH = "/api/v2/sellerchat/send_message"
LOOKUP_PATH = "/api/v2/sellerchat/get_message"

_message_ids = itertools.count(2302748948493200001)  # 19 digits, as Shopee's
_conversation_ids = itertools.count(709122092476700001)  # 18 digits
_buyer_ids = itertools.count(165105401)
_request_ids = itertools.count(1)


def _now():
    return int(time.time())


def _request_id():
    return f"{secrets.token_hex(8)}{next(_request_ids):06d}"


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


class Push:
    """One push sent to anfu: what went over the wire (to redeliver it byte for byte) and
    anfu's answer."""

    def __init__(self, path, raw, headers, answer, message=None):
        self.path, self.raw, self.headers, self.answer = path, raw, headers, answer
        self.message = message


class Buyer:
    def __init__(self, shop, buyer_id, conversation_id):
        self.shop, self.id, self.conversation_id = shop, buyer_id, conversation_id
        self.name = f"buyer_tw_{buyer_id % 100000}"


class ShopAccount:
    """One shop as Shopee knows it: ids, its seller account, its token chain, its chats."""

    def __init__(self, key, shop_id, seller_user_id, callback_url):
        self.key, self.shop_id, self.callback_url = key, shop_id, callback_url
        self.seller_user_id, self.seller_name = seller_user_id, f"seller_{key}"
        self.first_refresh_token = self.refresh_token = "rt" + secrets.token_hex(16)
        self.access_token = None  # anfu holds only the first refresh token: it must refresh
        self.issued = [self.refresh_token]  # every refresh token, oldest first
        self.access_issued = []  # every access token
        self.presented = []  # (refresh token, was it the live one, time) per refresh call
        self.refreshes = 0  # refreshes that worked
        self.buyers = {}  # buyer id -> conversation id
        self.real_buyers = set()  # the buyers the smoke made up (not a to_id anfu invented)
        self.conversations = {}  # conversation id -> [message], oldest first
        self.sent = []  # messages anfu's send_message delivered (+ "time")
        self.echoes = []  # {"message_id", "status", "body"}: anfu's answers to the echoes
        self.lookups = []  # conversation ids anfu looked up with get_message
        self.slow_next_send_s = 0.0  # answer the next send this late (anfu times out)


class ShopeeOpenPlatform(StandIn):
    """`/api/v2/auth/access_token/get`, `/api/v2/sellerchat/send_message` and
    `/api/v2/sellerchat/get_message` of one partner app (§7), plus its pushes to anfu."""

    def __init__(self, partner_id, partner_key):
        super().__init__()
        self.name = "shopee-open-platform"
        self.partner_id, self.partner_key = partner_id, partner_key
        self.shops = {}  # key (anfu's shop id) -> ShopAccount
        self.anfu_port = None  # where pushes and echoes go

    def start(self):
        super().start()
        # anfu giving up on a deliberately slow answer cuts the connection: not worth a trace
        self.server.handle_error = lambda *_: None
        return self

    def add_shop(self, key, shop_id, seller_user_id, callback_url):
        self.shops[key] = ShopAccount(key, shop_id, seller_user_id, callback_url)
        return self.shops[key]

    def by_shop_id(self, shop_id):
        return next((a for a in self.shops.values() if str(a.shop_id) == str(shop_id)), None)

    # --- switches and views for the checks -------------------------------------------------
    def expire_access_token(self, key):
        """The next send with the token anfu holds answers invalid_access_token."""
        with self.lock:
            self.shops[key].access_token = None

    def sent_to(self, buyer):
        acct = self.shops[buyer.shop]
        with self.lock:
            return [m for m in acct.sent if m["to_id"] == buyer.id]

    def sends(self, key):
        with self.lock:
            return list(self.shops[key].sent)

    def echoes_done(self):
        with self.lock:
            return all(len(a.echoes) >= len(a.sent) for a in self.shops.values())

    # --- the API ------------------------------------------------------------------------------
    def handle(self, req):
        if req.method == "POST" and req.path == AUTH_PATH:
            return self._refresh(req)
        if req.method == "POST" and req.path == SEND_PATH:
            return self._send(req)
        if req.method == "GET" and req.path == LOOKUP_PATH:
            return self._lookup(req)
        return self.not_found(req)

    def _error(self, status, error, message, complain=True):
        """Shopee's error shape; complain: it is anfu breaking the contract, not a test switch."""
        if complain:
            self.problem(f"{error}: {message}")
        return reply(status, {"error": error, "message": message, "request_id": _request_id()})

    def _common(self, req, path, shop_api):
        """Checks partner_id, timestamp and sign; returns (account or None, error reply)."""
        q = req.query
        missing = [k for k in ("partner_id", "timestamp", "sign") +
                   (("access_token", "shop_id") if shop_api else ()) if not q.get(k)]
        if missing:
            return None, self._error(400, "error_param", f"{path}: missing query {missing}")
        if q["partner_id"] != str(self.partner_id):
            return None, self._error(400, "error_param", f"{path}: partner_id {q['partner_id']!r}")
        try:
            skew = abs(time.time() - int(q["timestamp"]))
        except ValueError:
            return None, self._error(400, "error_param", f"{path}: timestamp {q['timestamp']!r}")
        if skew > SKEW_S:
            return None, self._error(400, "error_param", f"{path}: timestamp {skew:.0f}s off")
        if shop_api:
            base = signing.shopee_base(q["partner_id"], path, q["timestamp"], q["access_token"],
                                       q["shop_id"])
        else:
            base = signing.shopee_base(q["partner_id"], path, q["timestamp"])
        if not signing.eq(q["sign"], signing.shopee_sign(self.partner_key, base)):
            return None, self._error(403, "error_sign", f"{path}: wrong sign (base {base!r})")
        if not shop_api:
            return None, None
        acct = self.by_shop_id(q["shop_id"])
        if acct is None:
            return None, self._error(400, "error_param", f"{path}: shop_id {q['shop_id']!r}")
        with self.lock:
            live = acct.access_token is not None and q["access_token"] == acct.access_token
        if not live:
            return None, self._error(200, "invalid_access_token", "Invalid access_token.",
                                     complain=False)
        return acct, None

    def _refresh(self, req):
        _, err = self._common(req, AUTH_PATH, shop_api=False)
        if err:
            return err
        try:
            body = req.json()
            token, partner_id, shop_id = body["refresh_token"], body["partner_id"], body["shop_id"]
        except (ValueError, KeyError, TypeError) as exc:
            return self._error(400, "error_param", f"refresh body {short(req.body)}: {exc!r}")
        if not (_is_int(partner_id) and _is_int(shop_id)):
            self.problem(f"refresh body {short(req.body)}: partner_id and shop_id must be JSON "
                         "integers")
        acct = self.by_shop_id(shop_id)
        if acct is None or str(partner_id) != str(self.partner_id):
            return self._error(400, "error_param", f"refresh for partner {partner_id!r} shop "
                                                   f"{shop_id!r}")
        with self.lock:
            live = token == acct.refresh_token
            acct.presented.append((token, live, time.time()))
            if live:
                acct.refreshes += 1
                acct.refresh_token = "rt" + secrets.token_hex(16)
                acct.access_token = "at" + secrets.token_hex(16)
                acct.issued.append(acct.refresh_token)
                acct.access_issued.append(acct.access_token)
                pair = acct.access_token, acct.refresh_token
        if not live:
            spent = "a spent" if token in acct.issued else "an unknown"
            self.problem(f"{acct.key}: refresh with {spent} refresh token (each works once; "
                         "anfu must keep the rotated pair)")
            return self._error(200, "error_param", "refresh_token is invalid", complain=False)
        return reply(200, {"access_token": pair[0], "refresh_token": pair[1],
                           "expire_in": ACCESS_TTL_S, "error": "", "message": "",
                           "request_id": _request_id(), "partner_id": self.partner_id,
                           "shop_id": acct.shop_id})

    def _send(self, req):
        acct, err = self._common(req, SEND_PATH, shop_api=True)
        if err:
            return err
        try:
            body = req.json()
            to_id, mtype, text = body["to_id"], body["message_type"], body["content"]["text"]
        except (ValueError, KeyError, TypeError) as exc:
            return self._error(400, "error_param", f"send body {short(req.body)}: {exc!r}")
        if not _is_int(to_id):
            return self._error(400, "error_param", f"send to_id {to_id!r} is a JSON "
                                                   f"{type(to_id).__name__}, not an integer")
        if mtype != "text" or not isinstance(text, str) or not text.strip():
            return self._error(400, "error_param", f"send body {short(req.body)}: want "
                                                   "message_type text and a non-empty text")
        with self.lock:
            conv = acct.buyers.get(to_id)
            if conv is None:  # Shopee would open a conversation; the smoke has no such buyer
                conv = acct.buyers[to_id] = str(next(_conversation_ids))
                acct.conversations[conv] = []
                if len(self.problems) < 40:  # self.problem() would take the lock again
                    self.problems.append(f"{self.name}: {acct.key}: send to to_id {to_id}, who "
                                         "never wrote to the shop")
            msg = {"message_id": str(next(_message_ids)), "from_id": acct.seller_user_id,
                   "to_id": to_id, "message_type": "text", "content": {"text": text},
                   "conversation_id": conv, "created_timestamp": _now()}
            acct.conversations[conv].append(msg)
            acct.sent.append(dict(msg, time=time.time()))
            delay, acct.slow_next_send_s = acct.slow_next_send_s, 0.0
        echo = threading.Timer(0.05, self._echo, args=(acct, msg))
        echo.daemon = True
        echo.start()
        if delay:
            time.sleep(delay)
        return reply(200, {"error": "", "message": "", "request_id": _request_id(),
                           "response": {k: msg[k] for k in (
                               "message_id", "to_id", "message_type", "content",
                               "conversation_id", "created_timestamp")}})

    def _lookup(self, req):
        acct, err = self._common(req, LOOKUP_PATH, shop_api=True)
        if err:
            return err
        conv = req.query.get("conversation_id", "")
        with self.lock:
            known = acct.conversations.get(conv)
            acct.lookups.append(conv)
            messages = [dict(m) for m in reversed(known or [])]  # newest first
        if known is None:
            return self._error(400, "error_param", f"get_message: conversation_id {conv!r} is "
                                                   f"not one of {acct.key}'s")
        return reply(200, {"error": "", "message": "", "request_id": _request_id(),
                           "response": {"messages": messages}})

    # --- pushes -------------------------------------------------------------------------------
    def new_buyer(self, key, buyer_id=None):
        acct = self.shops[key]
        buyer = Buyer(key, buyer_id or next(_buyer_ids), str(next(_conversation_ids)))
        with self.lock:
            acct.buyers[buyer.id] = buyer.conversation_id
            acct.real_buyers.add(buyer.id)
            acct.conversations[buyer.conversation_id] = []
        return buyer

    def chat(self, buyer, message_type, content, from_seller=False, message_id=None):
        """A chat message in the buyer's conversation, as §7's data.content; Shopee keeps it."""
        acct = self.shops[buyer.shop]
        seller, person = (acct.seller_user_id, acct.seller_name), (buyer.id, buyer.name)
        (from_id, from_name), (to_id, to_name) = (seller, person) if from_seller else \
            (person, seller)
        msg = {"message_id": message_id or str(next(_message_ids)), "shop_id": acct.shop_id,
               "from_id": from_id, "from_user_name": from_name, "to_id": to_id,
               "to_user_name": to_name, "message_type": message_type, "content": content,
               "conversation_id": buyer.conversation_id, "created_timestamp": _now(),
               "region": "TW"}
        with self.lock:
            if message_id is None:
                acct.conversations[buyer.conversation_id].append(msg)
        return msg

    def envelope(self, key, data_type, content, shop_id=None):
        return {"msg_id": secrets.token_hex(8), "shop_id": shop_id or self.shops[key].shop_id,
                "code": 10, "timestamp": _now(), "data": {"type": data_type, "content": content}}

    def push(self, key, envelope, message=None, sign_url=None, key_override=None, path_shop=None,
             authorization=True):
        """POST the envelope to anfu, signed as Shopee signs (callback_url as registered)."""
        acct = self.shops[key]
        raw = signing.compact_json(envelope)
        headers = {"Content-Type": "application/json"}
        if authorization:
            headers["Authorization"] = signing.shopee_push_signature(
                key_override or self.partner_key, sign_url or acct.callback_url, raw)
        path = f"/webhooks/shopee/{path_shop or key}"
        return Push(path, raw, headers, call(self.anfu_port, "POST", path, raw, headers), message)

    def redeliver(self, push):
        """Shopee's retry: the same bytes, the same signature."""
        return call(self.anfu_port, "POST", push.path, push.raw, push.headers)

    def buyer_says(self, buyer, text=None, message_type="text", content=None, **how):
        msg = self.chat(buyer, message_type, {"text": text} if content is None else content)
        return self.push(buyer.shop, self.envelope(buyer.shop, "message", msg), msg, **how)

    def seller_says(self, buyer, text, message_id=None):
        msg = self.chat(buyer, "text", {"text": text}, from_seller=True, message_id=message_id)
        return self.push(buyer.shop, self.envelope(buyer.shop, "message", msg), msg)

    def notify(self, buyer):
        """A `data.type = notification` push (§7 names it, not its content: this is a guess)."""
        acct = self.shops[buyer.shop]
        content = {"shop_id": acct.shop_id, "conversation_id": buyer.conversation_id,
                   "from_id": buyer.id, "to_id": acct.seller_user_id, "unread_count": 1,
                   "region": "TW"}
        return self.push(buyer.shop, self.envelope(buyer.shop, "notification", content))

    def _echo(self, acct, sent):
        """Shopee pushes the shop's own messages back, anfu's replies included."""
        if self.anfu_port is None:
            return
        buyer = Buyer(acct.key, sent["to_id"], sent["conversation_id"])
        push = self.seller_says(buyer, sent["content"]["text"], message_id=sent["message_id"])
        with self.lock:
            acct.echoes.append({"message_id": sent["message_id"], "status": push.answer.status,
                                "body": push.answer.body})
