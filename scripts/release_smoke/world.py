"""The smoke's world: stand-ins, shops and sinks, the config, and the buyers' messages."""

import datetime as dt
import itertools
import json
import secrets

from . import signing
from .chatwoot import Chatwoot
from .platforms import GenericApi, RakutenApi, TaobaoGateway
from .sinks import DingTalk, Feishu, Slack, WebhookSink, WeCom
from .service import render_config

COMPLAINTS = [
    "快递一周了还没到，太慢了，我要退款",
    "收到的杯子是碎的，要求退货退款，不然给差评",
    "衣服才洗了一次就开线了，质量太差了，我要退货退款",
    "我买的是黑色的，你们发来的是白色的，发错货了，赶紧给我换货",
    "鞋子尺码发错了，根本穿不进去，要求换货，来回运费你们出",
    "面膜收到就已经过期了还卖给我，太过分了，不退款我就投诉到12315",
    "下单五天了还没发货，到底什么时候发？再不发我就申请退款",
    "收到的耳机左边没声音，根本用不了，我要退货退款",
    "包裹被压坏了，里面的碗碎了两个，请尽快补发",
    "床单掉色特别严重，洗一次全是颜色，质量太差，要求全额退款",
    "商品和图片完全不一样，货不对板，我要退货退款",
    "充电器用了一天就坏了，什么垃圾质量，马上给我退钱",
    "订单买了两件只收到一件，少发了一件，请马上补发",
    "收到的水果全都烂了，根本没法吃，要求退款",
    "保温杯一点都不保温，质量太差了，我要退货",
    "玩具少了零件装不起来，孩子哭了一晚上，太失望了，要求补发零件",
]
COMPLAINTS_HANT = [
    "收到的杯子破了一個，太失望了，請問可以補寄嗎？",
    "訂單一週了還沒寄出，太慢了，我要取消訂單退款",
    "收到的衣服顏色跟圖片完全不一樣，品質太差，我要退貨退款",
    "包裹被壓壞了，裡面的盤子碎了兩個，請盡快補寄",
]

_n = itertools.count(1)
_texts = itertools.cycle(COMPLAINTS)
_texts_hant = itertools.cycle(COMPLAINTS_HANT)


def token():
    """A buyer marker that must reach the card (buyer nick/id/name), unique per conversation."""
    return f"smk{next(_n):03d}x"


class World:
    def __init__(self, public_url):
        self.public_url = public_url
        self.agent_token = secrets.token_hex(16)
        self.taobao = {}  # shop -> {"app_key", "secret", "session", "sign_method", "gw"}
        self.rakuten = RakutenApi()
        self.rk_shops = {}  # shop -> {"service_secret", "license_key", "shop_id", "mode"}
        self.generic = {}  # shop -> {"secret", "api"}
        self.dingtalk, self.wecom, self.feishu = DingTalk(), WeCom(), Feishu()
        self.slack = Slack()
        self.webhook = WebhookSink("whsec_" + _b64(secrets.token_bytes(24)))
        self.chatwoot = Chatwoot(secrets.token_hex(12), 7, 4)
        self.shops, self.sinks = [], []
        self.standins = [self.rakuten, self.dingtalk, self.wecom, self.feishu, self.slack,
                         self.webhook, self.chatwoot]

    # --- shops ----------------------------------------------------------------------------
    def add_taobao(self, shop, sign_method):
        app_key, secret, session = str(21000000 + len(self.taobao)), secrets.token_hex(16), \
            "sess-" + secrets.token_hex(12)
        gw = TaobaoGateway(shop, app_key, secret, session)
        self.standins.append(gw)
        self.taobao[shop] = {"app_key": app_key, "secret": secret, "session": session, "gw": gw}
        self.shops.append({"id": shop, "platform": "taobao", "api_base": None, "app_key": app_key,
                           "secret": secret, "session": session, "sign_method": sign_method,
                           "lang": "zh-Hans"})

    def add_rakuten(self, shop, shop_id, mode, expired=False):
        ss, lk = "SP" + secrets.token_hex(8), "SL" + secrets.token_hex(8)
        self.rakuten.account(shop, ss, lk, shop_id, expired)
        self.rk_shops[shop] = {"service_secret": ss, "license_key": lk, "shop_id": shop_id}
        entry = {"id": shop, "platform": "rakuten", "api_base": None, "service_secret": ss,
                 "license_key": lk, "mode": mode, "lang": "zh-Hant"}
        if mode == "poll":
            entry["poll_interval"] = "1s"
        self.shops.append(entry)

    def add_generic(self, shop):
        secret = "whsec_" + _b64(secrets.token_bytes(24))
        api = GenericApi(shop, secret)
        self.standins.append(api)
        self.generic[shop] = {"secret": secret, "api": api}
        self.shops.append({"id": shop, "platform": "generic", "api_base": None,
                           "secret": secret, "lang": "zh-Hans"})

    # --- sinks ----------------------------------------------------------------------------
    def add_sinks(self, shops):
        """One sink of each kind, routed to `shops`."""
        ding_token, ding_secret = "tok" + secrets.token_hex(8), "SEC" + secrets.token_hex(24)
        self.dingtalk.robots[ding_token] = ding_secret
        self.sinks.append({"kind": "dingtalk", "url": f"@dingtalk/robot/send?access_token="
                                                      f"{ding_token}",
                           "secret": ding_secret, "shops": shops})
        key = secrets.token_hex(8) + "-smoke"
        self.wecom.keys.add(key)
        self.sinks.append({"kind": "wecom", "url": f"@wecom/cgi-bin/webhook/send?key={key}",
                           "shops": shops})
        hook, fs_secret = secrets.token_hex(8) + "-fs", secrets.token_hex(10)
        self.feishu.hooks[hook] = fs_secret
        self.sinks.append({"kind": "feishu", "url": f"@feishu/open-apis/bot/v2/hook/{hook}",
                           "secret": fs_secret, "shops": shops})
        path = "/services/T0SMOKE/B0SMOKE/" + secrets.token_hex(12)
        self.slack.paths.add(path)
        self.sinks.append({"kind": "slack", "url": f"@slack{path}", "shops": shops})
        self.sinks.append({"kind": "chatwoot", "url": "@chatwoot", "token": self.chatwoot.token,
                           "account_id": self.chatwoot.account_id,
                           "inbox_id": self.chatwoot.inbox_id, "shops": shops})
        self.sinks.append({"kind": "webhook", "url": f"@webhook{self.webhook.path}",
                           "secret": self.webhook.secret, "shops": shops})
        return ding_token

    def add_dingtalk(self, shops):
        token, secret = "acc" + secrets.token_hex(8), "SEC" + secrets.token_hex(24)
        self.dingtalk.robots[token] = secret
        self.sinks.append({"kind": "dingtalk", "url": f"@dingtalk/robot/send?access_token={token}",
                           "secret": secret, "shops": shops})
        return token

    # --- config ---------------------------------------------------------------------------
    def start_standins(self):
        for s in self.standins:
            s.start()

    def stop_standins(self):
        for s in self.standins:
            try:
                s.stop()
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass

    def config(self, listen_port, db_path):
        bases = {"dingtalk": self.dingtalk.base, "wecom": self.wecom.base,
                 "feishu": self.feishu.base, "slack": self.slack.base,
                 "chatwoot": self.chatwoot.base, "webhook": self.webhook.base}
        shops = []
        for shop in self.shops:
            shop = dict(shop)
            if shop["platform"] == "taobao":
                shop["api_base"] = self.taobao[shop["id"]]["gw"].base
            elif shop["platform"] == "generic":
                shop["api_base"] = self.generic[shop["id"]]["api"].base
            else:
                shop["api_base"] = self.rakuten.base
            shops.append(shop)
        sinks = []
        for sink in self.sinks:
            sink = dict(sink)
            kind = sink["url"][1:].split("/")[0]
            sink["url"] = bases[kind] + sink["url"][1 + len(kind):]
            sinks.append(sink)
        sections = {
            "server": {"listen": f"127.0.0.1:{listen_port}", "agent_token": self.agent_token,
                       "public_url": self.public_url},
            "storage": {"url": f"sqlite://{db_path}"},
            "http_client": {"timeout": "5s"},
        }
        return render_config(sections, shops, sinks)

    # --- buyers' messages -------------------------------------------------------------------
    def taobao_push(self, anfu, shop, sign_method, text=None, raw=None):
        """Sends one buyer message (or the raw fixture bytes); returns (answer, conversation)."""
        cfg = self.taobao[shop]
        conv = None
        if raw is None:
            tok = token()
            conv = {"shop": shop, "platform": "taobao", "token": tok,
                    "id": f"cnv_{tok}", "buyer": f"tb_{tok}", "text": text or next(_texts)}
            content = {"conversation_id": conv["id"], "buyer_nick": conv["buyer"],
                       "buyer_id": f"b_{tok}", "seller_nick": "棉小舍家居旗舰店",
                       "text": conv["text"], "sent_at": signing.china_now_str()}
            if next(_n) % 2:
                content["tid"] = str(4108273659012847000 + next(_n))
            raw = json.dumps({"topic": "taobao_im_BuyerMessage", "msg_id": str(next(_ids)),
                              "user_id": 2209871654, "pub_time": signing.china_now_str(),
                              "content": json.dumps(content, ensure_ascii=False)},
                             ensure_ascii=False).encode()
        query = signing.taobao_push_query(cfg["app_key"], cfg["secret"], sign_method, raw)
        answer = anfu.post(f"/webhooks/taobao/{shop}?{query}", raw,
                           {"Content-Type": "application/json"})
        return answer, conv

    def rakuten_inquiry(self, shop):
        tok = token()
        cfg = self.rk_shops[shop]
        now = signing.japan_now()
        number = f"{cfg['shop_id']}-{now:%Y%m%d}-{tok}"
        inq = {"inquiryNumber": number, "shopId": cfg["shop_id"], "userName": f"陳小姐{tok}",
               "type": "受注問い合わせ", "category": "送料・商品配送",
               "orderNumber": f"{cfg['shop_id']}-{now:%Y%m%d}-00{next(_ids) % 10**6:06d}",
               "message": next(_texts_hant), "regDate": now.isoformat(), "isCompleted": False,
               "replies": [], "lastUpdateDate": now.isoformat(), "_shop_id": cfg["shop_id"]}
        conv = {"shop": shop, "platform": "rakuten", "token": tok, "id": number,
                "buyer": inq["userName"], "text": inq["message"]}
        return inq, conv

    def rakuten_push(self, anfu, shop):
        inq, conv = self.rakuten_inquiry(shop)
        self.rakuten.add_inquiry(inq)  # the platform knows it: anfu's reply must find it
        cfg = self.rk_shops[shop]
        body = json.dumps({k: v for k, v in inq.items() if not k.startswith("_")},
                          ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Authorization": signing.esa(cfg["service_secret"], cfg["license_key"])}
        return anfu.post(f"/webhooks/rakuten/{shop}", body, headers), conv

    def generic_push(self, anfu, shop):
        tok = token()
        conv = {"shop": shop, "platform": "generic", "token": tok, "id": f"c-{tok}",
                "buyer": tok, "text": next(_texts)}
        body = json.dumps({"message_id": f"m-{tok}", "conversation_id": conv["id"],
                           "buyer": {"id": f"u-{tok}", "nick": tok}, "text": conv["text"],
                           "order_id": None,
                           "sent_at": dt.datetime.now(dt.timezone.utc).strftime(
                               "%Y-%m-%dT%H:%M:%SZ")}, ensure_ascii=False).encode()
        headers = signing.sw_headers(self.generic[shop]["secret"], f"msg_{tok}", body)
        headers["Content-Type"] = "application/json"
        return anfu.post(f"/webhooks/generic/{shop}", body, headers), conv


_ids = itertools.count(2841093376900)


def _b64(raw):
    import base64
    return base64.b64encode(raw).decode()
