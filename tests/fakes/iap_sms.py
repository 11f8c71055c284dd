"""A fake of Odoo's IAP SMS service, the one the ``sms`` module sends through.

Source: Odoo 18 ``addons/sms/tools/sms_api.py`` (``SmsApi._send_sms_batch``): a JSON-RPC
``call`` to ``<sms.endpoint>/api/sms/3/send`` whose params hold ``messages`` (each a
``content`` and its ``numbers`` with a ``uuid``); the result lists one ``{uuid, state}``
per number, ``state`` being ``success`` or an error such as ``server_error``.
"""
from fakes.server import FakeAggregator, route


class FakeIapSms(FakeAggregator):

    def __init__(self):
        super().__init__()
        self.sent = []  # (number, content)
        self.answer_state = "success"

    @route("POST", "/api/sms/3/send")
    def send(self, request):
        call = request.json()
        results = []
        for message in call["params"]["messages"]:
            for number in message["numbers"]:
                if self.answer_state == "success":
                    self.sent.append((number["number"], message["content"]))
                results.append({"uuid": number["uuid"], "state": self.answer_state, "credit": 1})
        return 200, {"jsonrpc": "2.0", "id": call.get("id"), "result": results}
