"""Stand-ins for the platforms' send APIs (platforms.md §1-§3), written from the contract."""

import datetime as dt
import itertools
import re
import urllib.parse

from . import signing
from .httpd import StandIn, reply

_ids = itertools.count(9_100_000_000_001)


# What each TOP method needs besides the common parameters. taobao.user.seller.get is TOP's
# read of the session's seller (anfu check --probe); the send is §1's.
_TOP_METHODS = {
    "taobao.im.message.send": ("conversation_id", "to_nick", "text", "request_id"),
    "taobao.user.seller.get": ("fields",),
}


class TaobaoGateway(StandIn):
    """`POST {api_base}/router/rest`: taobao.im.message.send (§1) and the seller read."""

    def __init__(self, shop, app_key, secret, session):
        super().__init__()
        self.name = f"taobao-gateway[{shop}]"
        self.shop, self.app_key, self.secret, self.session = shop, app_key, secret, session
        self.seller_reads = 0
        self.messages = {}  # request_id -> params (the platform dedupes on request_id)
        self.repeats = 0

    def _error(self, code, msg, sub_code):
        self.problem(f"{msg} ({sub_code})")
        return reply(200, {"error_response": {"code": code, "msg": msg, "sub_code": sub_code,
                                              "sub_msg": msg}})

    def handle(self, req):
        if req.method != "POST" or req.path != "/router/rest":
            return self.not_found(req)
        ctype = req.headers.get("content-type", "")
        if not ctype.startswith("application/x-www-form-urlencoded"):
            return self._error(40, f"content type {ctype!r} is not form-encoded",
                               "isv.invalid-parameter")
        if req.query:
            self.problem(f"parameters in the query string ({sorted(req.query)}); the "
                         "contract puts them in the form body")
        params = dict(urllib.parse.parse_qsl(req.body.decode("utf-8"), keep_blank_values=True))
        own = _TOP_METHODS.get(params.get("method"))
        if own is None:
            return self._error(22, f"method {params.get('method')!r}", "isv.invalid-method")
        for key in ("app_key", "session", "timestamp", "v", "format", "sign_method", "sign",
                    *own):
            if not params.get(key):
                return self._error(41, f"missing parameter {key}", "isv.missing-parameter:" + key)
        if params["app_key"] != self.app_key:
            return self._error(29, "Invalid app Key", "isv.appkey-not-exists")
        if params["v"] != "2.0" or params["format"] != "json":
            return self._error(40, f"v={params['v']} format={params['format']}",
                               "isv.invalid-parameter")
        if params["sign_method"] not in ("md5", "hmac", "hmac-sha256"):
            return self._error(40, f"sign_method {params['sign_method']!r}",
                               "isv.invalid-parameter")
        if not signing.eq(params["sign"],
                          signing.top_sign(params, self.secret, params["sign_method"])):
            return self._error(25, "Invalid signature", "isv.invalid-signature")
        if not signing.eq(params["session"], self.session):
            return self._error(27, "Invalid session", "isv.invalid-session")
        try:
            sent = signing.parse_china_time(params["timestamp"])
        except ValueError:
            return self._error(31, f"timestamp {params['timestamp']!r} is not "
                                   "YYYY-MM-DD HH:MM:SS", "isv.invalid-timestamp")
        skew = abs((dt.datetime.now(signing.CHINA) - sent).total_seconds())
        if skew > 600:
            return self._error(31, f"timestamp {params['timestamp']} is {skew:.0f}s away from "
                                   "China time now", "isv.invalid-timestamp")
        if params["method"] == "taobao.user.seller.get":
            with self.lock:
                self.seller_reads += 1
            return reply(200, {"user_seller_get_response": {"user": {"nick": self.shop}}})
        with self.lock:
            known = self.messages.get(params["request_id"])
            if known is None:
                params["msg_id"] = str(next(_ids))
                self.messages[params["request_id"]] = params
            else:
                self.repeats += 1
                params = known
        return reply(200, {"im_message_send_response": {"msg_id": params["msg_id"],
                                                        "request_id": params["request_id"]}})

    def replies(self):
        with self.lock:
            return list(self.messages.values())


_RAKUTEN_LINK = re.compile(r"https?://[^\s<>\"'）)]+", re.I)
_RAKUTEN_HOSTS = ("rakuten.co.jp", "rakuten.ne.jp", "rakuten.com")


def _jst_param(text):
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=signing.JAPAN)


class RakutenApi(StandIn):
    """RMS inquiry API: poll (`GET …/inquiries`) and `POST …/inquiry/reply` (§2)."""

    PREFIX = "/es/1.0/inquirymng-api"

    def __init__(self):
        super().__init__()
        self.name = "rakuten-api"
        self.accounts = {}  # ESA header -> {"shop", "shop_id", "expired"}
        self.inquiries = {}  # inquiryNumber -> inquiry (with "_shop_id")
        self.replies = {}  # inquiryNumber -> [body, ...] accepted replies
        self.repeats = []
        self.polls = {}  # shop -> number of polls seen (rejected ones too)

    def account(self, shop, service_secret, license_key, shop_id, expired=False):
        self.accounts[signing.esa(service_secret, license_key)] = {
            "shop": shop, "shop_id": shop_id, "expired": expired}

    def add_inquiry(self, inquiry):
        with self.lock:
            self.inquiries[inquiry["inquiryNumber"]] = inquiry

    def _auth(self, req):
        got = req.headers.get("authorization", "")
        for header, acct in self.accounts.items():
            if signing.eq(got, header):
                return acct
        return None

    def _err(self, status, code, message):
        return reply(status, {"error": {"code": code, "message": message}})

    def handle(self, req):
        if not req.path.startswith(self.PREFIX):
            return self.not_found(req)
        acct = self._auth(req)
        if acct is not None and req.method == "GET":
            with self.lock:
                self.polls[acct["shop"]] = self.polls.get(acct["shop"], 0) + 1
        if acct is None:
            self.problem(f"{req.method} {req.path} with an Authorization that is no shop's ESA "
                         "pair")
            return self._err(401, "ES04-01", "Unauthorized")
        if acct["expired"]:
            return self._err(401, "ES04-02", "licenseKey expired")
        rest = req.path[len(self.PREFIX):]
        if req.method == "GET" and rest == "/inquiries":
            return self._poll(req, acct)
        if req.method == "POST" and rest == "/inquiry/reply":
            return self._reply(req, acct)
        return self.not_found(req)

    def _poll(self, req, acct):
        q = req.query
        try:
            start, end = _jst_param(q["fromDate"]), _jst_param(q["toDate"])
            page = int(q["page"])
        except (KeyError, ValueError) as exc:
            self.problem(f"poll query {req.raw_query!r}: {exc!r}")
            return self._err(400, "IE001", "bad parameter")
        now = signing.japan_now()
        if end < start or end - start > dt.timedelta(days=31):
            self.problem(f"poll range {q['fromDate']}..{q['toDate']} is not 0..31 days")
            return self._err(400, "IE001", "bad parameter")
        if abs((end - now).total_seconds()) > 600:
            self.problem(f"poll toDate {q['toDate']} is not Japan time now ({now:%H:%M:%S})")
        if q.get("noMerchantReply") != "true" or q.get("limit") != "100" or page < 1:
            self.problem(f"poll query {req.raw_query!r}: want noMerchantReply=true, limit=100, "
                         "page>=1")
        with self.lock:
            found = []
            for inq in self.inquiries.values():
                if inq["_shop_id"] != acct["shop_id"]:
                    continue
                stamp = dt.datetime.fromisoformat(inq["lastUpdateDate"])
                if not start <= stamp <= end:
                    continue
                if q.get("noMerchantReply") == "true" and inq["inquiryNumber"] in self.replies:
                    continue
                found.append({k: v for k, v in inq.items() if not k.startswith("_")})
        found.sort(key=lambda i: i["regDate"])
        pages = max(1, -(-len(found) // 100))
        return reply(200, {"totalCount": len(found), "totalPageCount": pages, "page": page,
                           "list": found[(page - 1) * 100:page * 100]})

    def _reply(self, req, acct):
        ctype = req.headers.get("content-type", "").replace(" ", "").lower()
        if ctype != "application/json;charset=utf-8":
            self.problem(f"reply Content-Type {req.headers.get('content-type')!r}")
        try:
            body = req.json()
            number, shop_id, message = body["inquiryNumber"], body["shopId"], body["message"]
        except (ValueError, KeyError, TypeError) as exc:
            self.problem(f"reply body {req.body[:200]!r}: {exc!r}")
            return self._err(400, "IE001", "bad parameter")
        bad = []
        inq = self.inquiries.get(number)
        if inq is None or inq["_shop_id"] != acct["shop_id"]:
            bad.append(f"inquiryNumber {number!r} is not one of this shop's")
        if shop_id != str(acct["shop_id"]):
            bad.append(f"shopId {shop_id!r} (want the string {str(acct['shop_id'])!r})")
        if not isinstance(message, str) or not 1 <= len(message) <= 2000:
            bad.append(f"message length {len(message) if isinstance(message, str) else '?'}")
        else:
            for line in message.splitlines():
                if len(line) > 300:
                    bad.append(f"a line of {len(line)} characters")
            for link in _RAKUTEN_LINK.findall(message):
                host = urllib.parse.urlsplit(link).hostname or ""
                if not (link.lower().startswith("https://") and any(
                        host == h or host.endswith("." + h) for h in _RAKUTEN_HOSTS)):
                    bad.append(f"foreign link {link}")
        if bad:
            self.problem(f"reply to {number}: " + "; ".join(bad))
            return self._err(400, "IE001", "bad parameter")
        # The same message twice is "already posted" (anfu retrying a send whose answer it
        # lost); a different message is a new reply (an agent answering after the bot).
        with self.lock:
            posted = self.replies.setdefault(number, [])
            if any(b["message"] == message for b in posted):
                self.repeats.append(number)
                return self._err(409, "IE409", "already posted")
            posted.append(body)
        reg = signing.japan_now().isoformat()
        return reply(201, {"result": {"message": message, "regDate": reg,
                                      "replyFrom": "merchant"}})


class GenericApi(StandIn):
    """`POST {api_base}/messages`, Standard Webhooks-signed with the shop's secret (§3)."""

    def __init__(self, shop, secret):
        super().__init__()
        self.name = f"generic-api[{shop}]"
        self.secret = secret
        self.messages = {}  # idempotency_key -> body
        self.repeats = 0

    def handle(self, req):
        if req.method != "POST" or req.path != "/messages":
            return self.not_found(req)
        why = signing.sw_verify(self.secret, req.headers, req.body)
        if why:
            self.problem(why)
            return reply(401, {"error": why})
        try:
            body = req.json()
            ok = all(isinstance(body.get(k), str) and body[k]
                     for k in ("conversation_id", "text", "idempotency_key"))
        except (ValueError, AttributeError):
            ok = False
        if not ok:
            self.problem(f"body {req.body[:200]!r}: want conversation_id, text, idempotency_key")
            return reply(400, {"error": "bad body"})
        with self.lock:
            if body["idempotency_key"] in self.messages:
                self.repeats += 1
            else:
                self.messages[body["idempotency_key"]] = body
        return reply(200, {"id": body["idempotency_key"]})

    def replies(self):
        with self.lock:
            return list(self.messages.values())
