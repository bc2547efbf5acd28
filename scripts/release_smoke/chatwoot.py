"""A Chatwoot stand-in (platforms.md §4 for the calls it names; the real Application API for
contacts and conversations, which the contract leaves to "what the real platform does")."""

import itertools
import re
import uuid

from . import signing
from .httpd import StandIn, reply

PRIORITIES = ("urgent", "high", "medium", "low")


class Chatwoot(StandIn):
    def __init__(self, token, account_id, inbox_id):
        super().__init__()
        self.name = "chatwoot"
        self.token, self.account_id, self.inbox_id = token, account_id, inbox_id
        self.contacts = {}  # id -> contact
        self.conversations = {}  # id -> conversation (+ "_notes", "_public", "_calls")
        self._ids = itertools.count(101)

    # --- objects -------------------------------------------------------------------------
    def _inbox(self):
        return {"id": self.inbox_id, "name": "marketplace", "channel_type": "Channel::Api"}

    def _contact_inbox(self, contact_id):
        ci = {"source_id": str(uuid.uuid4()), "inbox": self._inbox(), "_contact": contact_id}
        self.contacts[contact_id]["contact_inboxes"].append(ci)
        return ci

    @staticmethod
    def _public(obj):
        if isinstance(obj, dict):
            return {k: Chatwoot._public(v) for k, v in obj.items() if not k.startswith("_")}
        if isinstance(obj, list):
            return [Chatwoot._public(v) for v in obj]
        return obj

    def _conv(self, cid):
        conv = self.conversations[cid]
        out = self._public(conv)
        out["meta"] = {"sender": self._public(self.contacts[conv["_contact"]])}
        return out

    # --- routing ---------------------------------------------------------------------------
    def handle(self, req):
        prefix = f"/api/v1/accounts/{self.account_id}/"
        if not req.path.startswith(prefix):
            if req.path.startswith("/api/v1/accounts/"):
                self.problem(f"{req.method} {req.path}: not account {self.account_id}")
            return self.not_found(req)
        if not signing.eq(req.headers.get("api_access_token", ""), self.token):
            self.problem(f"{req.method} {req.path} without the api_access_token header")
            return reply(401, {"errors": ["You need to sign in or sign up before continuing."]})
        rest = req.path[len(prefix):].rstrip("/")
        body = {}
        if req.method in ("POST", "PUT", "PATCH") and req.body:
            try:
                body = req.json()
            except ValueError:
                self.problem(f"{req.method} {req.path}: body is not JSON")
                return reply(400, {"message": "bad json"})
        with self.lock:
            return self._route(req, rest, body if isinstance(body, dict) else {})

    def _route(self, req, rest, body):
        m, parts = req.method, rest.split("/")
        if rest == "inboxes" and m == "GET":  # Chatwoot's inbox list (a read)
            return reply(200, {"payload": [self._inbox()]})
        if rest == "contacts" and m == "POST":
            return self._create_contact(body)
        if rest == "contacts/search" and m == "GET":
            q = req.query.get("q", "").lower()
            found = [self._public(c) for c in self.contacts.values() if q and any(
                q in str(c.get(k) or "").lower() for k in ("identifier", "name", "email"))]
            return reply(200, {"meta": {"count": len(found), "current_page": 1},
                               "payload": found})
        if rest == "contacts/filter" and m == "POST":
            conds = body.get("payload") or []
            found = [self._public(c) for c in self.contacts.values() if conds and all(
                str(c.get(f.get("attribute_key"))) in [str(v) for v in f.get("values") or []]
                for f in conds)]
            return reply(200, {"meta": {"count": len(found), "current_page": 1},
                               "payload": found})
        if len(parts) >= 2 and parts[0] == "contacts" and parts[1].isdigit():
            contact = self.contacts.get(int(parts[1]))
            if contact is None:
                return reply(404, {"error": "Resource could not be found"})
            if len(parts) == 2 and m == "GET":
                return reply(200, {"payload": self._public(contact)})
            if parts[2:] == ["contact_inboxes"] and m == "POST":
                if str(body.get("inbox_id")) != str(self.inbox_id):
                    self.problem(f"contact_inboxes for inbox {body.get('inbox_id')!r}")
                ci = self._contact_inbox(contact["id"])
                if body.get("source_id"):
                    ci["source_id"] = str(body["source_id"])
                return reply(200, self._public(ci))
            if parts[2:] == ["conversations"] and m == "GET":
                convs = [self._conv(c) for c, v in self.conversations.items()
                         if v["_contact"] == contact["id"]]
                return reply(200, {"payload": convs})
        if rest == "conversations" and m == "POST":
            return self._create_conversation(body)
        if len(parts) >= 2 and parts[0] == "conversations" and parts[1].isdigit():
            cid = int(parts[1])
            if cid not in self.conversations:
                self.problem(f"{m} {req.path}: no conversation {cid}")
                return reply(404, {"error": "Resource could not be found"})
            return self._conversation_call(req, cid, parts[2:], body)
        return self.not_found(req)

    def _create_contact(self, body):
        ident = body.get("identifier")
        if ident and any(c.get("identifier") == ident for c in self.contacts.values()):
            return reply(422, {"message": "Identifier has already been taken",
                               "attributes": ["identifier"]})
        cid = next(self._ids)
        self.contacts[cid] = {
            "id": cid, "name": body.get("name") or "", "identifier": ident,
            "email": body.get("email"), "phone_number": body.get("phone_number"),
            "custom_attributes": body.get("custom_attributes") or {},
            "additional_attributes": body.get("additional_attributes") or {},
            "contact_inboxes": []}
        ci = None
        if body.get("inbox_id") is not None:
            if str(body["inbox_id"]) != str(self.inbox_id):
                self.problem(f"contact created in inbox {body['inbox_id']!r}")
            ci = self._contact_inbox(cid)
            if body.get("source_id"):  # Chatwoot's ContactInboxBuilder takes it as given
                ci["source_id"] = str(body["source_id"])
        return reply(200, {"payload": {
            "contact": self._public(self.contacts[cid]),
            "contact_inbox": {"inbox": self._inbox() if ci else None,
                              "source_id": ci["source_id"] if ci else None}}})

    def _create_conversation(self, body):
        if str(body.get("inbox_id")) != str(self.inbox_id):
            self.problem(f"conversation created in inbox {body.get('inbox_id')!r}, want "
                         f"{self.inbox_id}")
            return reply(422, {"message": "Inbox not found"})
        contact = None
        source = body.get("source_id")
        for c in self.contacts.values():
            if any(ci["source_id"] == str(source) for ci in c["contact_inboxes"]):
                contact = c
        if contact is None and str(body.get("contact_id", "")).isdigit():
            contact = self.contacts.get(int(body["contact_id"]))
        if contact is None:
            self.problem(f"conversation without a known source_id/contact_id: {body!r}"[:300])
            return reply(422, {"message": "Contact inbox not found"})
        cid = next(self._ids)
        self.conversations[cid] = {
            "id": cid, "account_id": self.account_id, "inbox_id": self.inbox_id,
            "status": body.get("status") or "open", "priority": None,
            "custom_attributes": dict(body.get("custom_attributes") or {}),
            "additional_attributes": body.get("additional_attributes") or {},
            "messages": [], "_contact": contact["id"], "_notes": [], "_public": [],
            "_calls": ["create"]}
        if isinstance(body.get("message"), dict) and body["message"].get("content"):
            self.conversations[cid]["_public"].append(body["message"]["content"])
        return reply(200, self._conv(cid))

    def _conversation_call(self, req, cid, tail, body):
        conv, m = self.conversations[cid], req.method
        if tail == [] and m == "GET":
            return reply(200, self._conv(cid))
        if tail == ["messages"] and m == "POST":
            content = body.get("content")
            if not isinstance(content, str) or not content:
                self.problem(f"message without content on conversation {cid}")
                return reply(422, {"message": "content is empty"})
            if body.get("message_type", "outgoing") != "outgoing":
                self.problem(f"message_type {body.get('message_type')!r} (want outgoing)")
            if body.get("private") is True:
                conv["_notes"].append(content)
            else:
                self.problem(f"a card was posted with private={body.get('private')!r}: agents' "
                             "notes must stay private")
                conv["_public"].append(content)
            conv["_calls"].append("note")
            mid = next(self._ids)
            return reply(200, {"id": mid, "content": content, "message_type": 1,
                               "private": body.get("private"), "conversation_id": cid})
        if tail == ["custom_attributes"] and m == "POST":
            attrs = body.get("custom_attributes")
            if not isinstance(attrs, dict):
                self.problem(f"custom_attributes body {body!r}"[:200])
                return reply(422, {"message": "custom_attributes missing"})
            conv["custom_attributes"].update(attrs)
            conv["_calls"].append("custom_attributes")
            return reply(200, {"custom_attributes": conv["custom_attributes"]})
        if tail == ["toggle_priority"] and m == "POST":
            if body.get("priority") not in PRIORITIES:
                self.problem(f"toggle_priority {body.get('priority')!r}")
                return reply(422, {"message": "invalid priority"})
            conv["priority"] = body["priority"]
            conv["_calls"].append("priority")
            return reply(200)
        if tail == ["toggle_status"] and m == "POST":
            status = body.get("status")
            if status not in ("open", "resolved", "pending", "snoozed"):
                self.problem(f"toggle_status {status!r}")
                return reply(422, {"message": "invalid status"})
            conv["status"] = status
            conv["_calls"].append("status:" + status)
            return reply(200, {"meta": {}, "payload": {
                "success": True, "current_status": status, "conversation_id": cid}})
        return self.not_found(req)

    # --- for the checks ----------------------------------------------------------------------
    def snapshot(self):
        """[(identifier, notes, custom_attributes, priority, status, calls)] per conversation."""
        with self.lock:
            return [(self.contacts[c["_contact"]].get("identifier") or "", list(c["_notes"]),
                     dict(c["custom_attributes"]), c["priority"], c["status"],
                     list(c["_calls"])) for c in self.conversations.values()]


def identifier_ok(identifier, shop):
    return re.fullmatch(rf"anfu:{re.escape(shop)}:.+", identifier or "") is not None
