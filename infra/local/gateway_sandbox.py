"""A local sandbox that plays Alipay and WeChat Pay for the local stack, with the test keys in
payment-keys/. It is a second, independent implementation of both protocols (Python's
`cryptography`), so a payment completed through it shows that our signatures verify elsewhere
and that we accept what a gateway signs.

  GET  /alipay/gateway.do?…            the cashier: checks our RSA2 signature, "pays", and posts
                                        Alipay's signed notification to notify_url
  POST /alipay/gateway.do              alipay.fund.trans.uni.transfer (withdrawals),
                                        alipay.trade.refund and alipay.trade.fastpay.refund.query
                                        (refunds of trades paid here), alipay.system.oauth.token
                                        (Alipay sign-in), signed answers
  POST /sandbox/alipay-login/code      "the user agrees in Alipay": a one-use auth code
  POST /sandbox/alipay-login/phone-response
                                        the signed, encrypted answer of my.getPhoneNumber
  /wxlogin/…, /sandbox/wechat-login/…   WeChat sign-in (see WechatLoginStandIn)
  POST /wechat/v3/pay/transactions/native|jsapi
                                        checks our WECHATPAY2-SHA256-RSA2048 header, answers signed
  POST /wechat/sandbox/pay/{out_trade_no}
                                        "the payer scans and pays": posts the signed, encrypted
                                        notification to notify_url
  POST /wechat/v3/fund-app/mch-transfer/transfer-bills
  GET  /wechat/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{no}
  POST /wechat/v3/refund/domestic/refunds
                                        answers PROCESSING, then posts the signed, encrypted
                                        REFUND.SUCCESS notification to the refund's notify_url
  GET  /wechat/v3/refund/domestic/refunds/{out_refund_no}
  GET  /sandbox/refunds/{out_trade_no}  what was refunded of a trade, on either gateway

Accounts and openids starting with `refuse` are refused by the transfer APIs (to try that path).
Dev tooling only: nothing here runs in production.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as block_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEYS = Path(__file__).resolve().parent / "payment-keys"
CHINA = timezone(timedelta(hours=8))


def load_private(name: str):
    return serialization.load_pem_private_key((KEYS / f"{name}.pem").read_bytes(), None)


def load_public(name: str):
    return serialization.load_pem_public_key((KEYS / f"{name}.pub.pem").read_bytes())


def settings() -> dict:
    return json.loads((KEYS / "settings.json").read_text())


def pem(name: str) -> str:
    return (KEYS / f"{name}.pem").read_text()


def rsa2_sign(key, message: bytes) -> str:
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa2_verify(key, message: bytes, signature_b64: str) -> bool:
    try:
        key.verify(base64.b64decode(signature_b64), message, padding.PKCS1v15(), hashes.SHA256())
        return True
    except Exception:
        return False


def alipay_content(params: dict[str, str], notification: bool) -> str:
    skip = {"sign", "sign_type"} if notification else {"sign"}
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in skip and params[k] != "")


def aes_gcm_seal(key: bytes, nonce: str, aad: str, plaintext: bytes) -> str:
    return base64.b64encode(AESGCM(key).encrypt(nonce.encode(), plaintext, aad.encode())).decode()


def payment_settings(api_url: str, sandbox_url: str) -> dict:
    """The payment settings secret the functions read (see docs/payments.md)."""
    s = settings()
    out = {
        "alipay": {
            "app_id": s["alipay_app_id"],
            "private_key": pem("alipay-app"),
            "alipay_public_key": (KEYS / "alipay-platform.pub.pem").read_text(),
            "gateway_url": f"{sandbox_url}/alipay/gateway.do",
            "notify_url": f"{api_url}/payments/callbacks/alipay",
        },
        "wechat": {
            "mchid": s["wechat_mchid"],
            "appid": s["wechat_appid"],
            "merchant_serial": s["wechat_merchant_serial"],
            "private_key": pem("wechat-merchant"),
            "apiv3_key": s["wechat_apiv3_key"],
            "platform_keys": {
                s["wechat_platform_serial"]: (KEYS / "wechat-platform.pub.pem").read_text(),
            },
            "api_base": f"{sandbox_url}/wechat",
            "notify_url": f"{api_url}/payments/callbacks/wechat",
            "transfer_scene_id": s["wechat_transfer_scene_id"],
        },
    }
    # The split channel (电商收付通): our merchant as the platform, same keys and callbacks.
    out["wechat_ecommerce"] = dict(out["wechat"])
    return out


WECHAT_LOGIN_APPS = {
    "mini_program": {"appid": "wxsandboxmini00001", "secret": "sandbox-mini-program-secret"},
    "web": {"appid": "wxsandboxweb000001", "secret": "sandbox-website-app-secret"},
}


def wechat_login_settings(sandbox_url: str) -> dict:
    """The WeChat sign-in secret the functions read: both apps, pointed at this stand-in."""
    return {"api_base": f"{sandbox_url}/wxlogin", **WECHAT_LOGIN_APPS}


class WechatLoginStandIn:
    """Plays WeChat's sign-in servers (jscode2session, the website OAuth, userinfo,
    stable_token, getuserphonenumber) with their published formats. `POST
    /sandbox/wechat-login/code` stands for the user tapping "allow" in WeChat: it returns a
    one-use, five-minute code for that person; `/sandbox/wechat-login/phone-code` the same for
    the mini-program's phone-number button."""

    def __init__(self) -> None:
        self.codes: dict[str, dict] = {}
        self.used: set[str] = set()
        self.user_tokens: dict[str, dict] = {}
        self.app_token: str | None = None
        self.lock = threading.Lock()

    def issue(self, kind: str, who: dict) -> dict:
        code = secrets.token_hex(16)
        with self.lock:
            self.codes[code] = {"kind": kind, "who": who, "at": time.time()}
        return {"code": code}

    def take(self, code: str, kind: str) -> tuple[dict | None, dict | None]:
        """The person behind a code, or WeChat's error answer."""
        with self.lock:
            if code in self.used:
                return None, {"errcode": 40163, "errmsg": "code been used"}
            c = self.codes.pop(code, None)
            if c is None or c["kind"] != kind or time.time() - c["at"] > 300:
                return None, {"errcode": 40029, "errmsg": "invalid code"}
            self.used.add(code)
        return c["who"], None

    @staticmethod
    def openid(appid: str, who: dict) -> str:
        seed = who.get("openid") or f"{appid}:{who.get('unionid', '')}"
        return "o" + hashlib.sha256(seed.encode()).hexdigest()[:27]

    def app(self, kind: str, appid: str | None, secret: str | None) -> dict | None:
        a = WECHAT_LOGIN_APPS[kind]
        if appid != a["appid"]:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if secret != a["secret"]:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        return None

    def jscode2session(self, q: dict) -> dict:
        bad = self.app("mini_program", q.get("appid"), q.get("secret"))
        if bad:
            return bad
        who, err = self.take(q.get("js_code", ""), "login")
        if err:
            return err
        out = {"openid": self.openid(q["appid"], who), "session_key": secrets.token_urlsafe(18)}
        if who.get("unionid"):
            out["unionid"] = who["unionid"]
        return out

    def oauth_token(self, q: dict) -> dict:
        bad = self.app("web", q.get("appid"), q.get("secret"))
        if bad:
            return bad
        who, err = self.take(q.get("code", ""), "login")
        if err:
            return err
        token = secrets.token_urlsafe(32)
        openid = self.openid(q["appid"], who)
        with self.lock:
            self.user_tokens[token] = {"who": who, "openid": openid}
        out = {"access_token": token, "expires_in": 7200, "refresh_token": secrets.token_urlsafe(32),
               "openid": openid, "scope": "snsapi_login"}
        if who.get("unionid"):
            out["unionid"] = who["unionid"]
        return out

    def userinfo(self, q: dict) -> dict:
        t = self.user_tokens.get(q.get("access_token", ""))
        if t is None or t["openid"] != q.get("openid"):
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
        out = {"openid": t["openid"], "nickname": t["who"].get("nickname", "微信用户"), "sex": 0,
               "province": "", "city": "", "country": "CN", "headimgurl": "", "privilege": []}
        if t["who"].get("unionid"):
            out["unionid"] = t["who"]["unionid"]
        return out

    def stable_token(self, body: dict) -> dict:
        bad = self.app("mini_program", body.get("appid"), body.get("secret"))
        if bad:
            return bad
        with self.lock:
            if self.app_token is None or body.get("force_refresh"):
                self.app_token = secrets.token_urlsafe(40)
            return {"access_token": self.app_token, "expires_in": 7200}

    def phone_number(self, q: dict, body: dict) -> dict:
        if not self.app_token or q.get("access_token") != self.app_token:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
        who, err = self.take(body.get("code", ""), "phone")
        if err:
            return err
        phone = who["phone"]
        return {"errcode": 0, "errmsg": "ok", "phone_info": {
            "phoneNumber": phone, "purePhoneNumber": phone, "countryCode": "86",
            "watermark": {"timestamp": int(time.time()),
                          "appid": WECHAT_LOGIN_APPS["mini_program"]["appid"]}}}


# Alipay sign-in: a mini-program and a website application (the test keys of the payment app).
ALIPAY_LOGIN_APPS = {"mini_program": "2021000000000101", "web": "2021000000000102"}
# The mini-program's content key (内容加密), base64 of 16 bytes.
ALIPAY_LOGIN_AES_KEY = "c2FuZGJveC1hZXMta2V5IQ=="


def alipay_login_settings(sandbox_url: str) -> dict:
    """The Alipay sign-in secret the functions read: both applications, pointed at this
    sandbox's gateway."""
    app = {"private_key": pem("alipay-app"),
           "alipay_public_key": (KEYS / "alipay-platform.pub.pem").read_text()}
    return {"gateway_url": f"{sandbox_url}/alipay/gateway.do",
            "mini_program": {"app_id": ALIPAY_LOGIN_APPS["mini_program"],
                             "aes_key": ALIPAY_LOGIN_AES_KEY, **app},
            "web": {"app_id": ALIPAY_LOGIN_APPS["web"], **app}}


class AlipayLoginStandIn:
    """Plays Alipay's side of the sign-in: `alipay.system.oauth.token` through the gateway, and
    the mini-program's `my.getPhoneNumber` answer. `POST /sandbox/alipay-login/code` stands for
    the user agreeing in Alipay (`{"user_id": "2088…"}`, or `{"union_id": …}` / nothing for the
    OpenID model): a one-use auth code; `/sandbox/alipay-login/phone-response` (`{"phone"}`)
    returns the answer `my.getPhoneNumber` gives the client, encrypted and signed."""

    def __init__(self, platform_key) -> None:
        self.key = platform_key
        self.codes: dict[str, dict] = {}
        self.used: set[str] = set()
        self.lock = threading.Lock()

    def issue(self, who: dict) -> dict:
        code = secrets.token_hex(16)
        with self.lock:
            self.codes[code] = {"who": who, "at": time.time()}
        return {"code": code}

    def token(self, params: dict[str, str]) -> tuple[str, dict]:
        """The member name and node of the answer to `alipay.system.oauth.token`."""
        app_id = params.get("app_id", "")
        if app_id not in ALIPAY_LOGIN_APPS.values():
            return "error_response", {"code": "40002", "msg": "Invalid Arguments",
                                      "sub_code": "isv.invalid-app-id", "sub_msg": "无效的AppID参数"}
        code = params.get("code", "")
        with self.lock:
            c = None if code in self.used else self.codes.pop(code, None)
            if c is not None:
                self.used.add(code)
        if c is None or params.get("grant_type") != "authorization_code" or \
                time.time() - c["at"] > 300:
            return "error_response", {"code": "40002", "msg": "Invalid Arguments",
                                      "sub_code": "isv.code-invalid", "sub_msg": "授权码code无效"}
        who = c["who"]
        node = {"access_token": "authusrB" + secrets.token_hex(16), "expires_in": 1296000,
                "refresh_token": "authusrB" + secrets.token_hex(16), "re_expires_in": 2592000,
                "auth_start": datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S")}
        if who.get("user_id"):
            node["user_id"] = who["user_id"]
        else:
            seed = f"{app_id}:{who.get('union_id') or who.get('open_id') or ''}"
            node["open_id"] = "074a" + hashlib.sha256(seed.encode()).hexdigest()[:40]
            if who.get("union_id"):
                node["union_id"] = who["union_id"]
        return "alipay_system_oauth_token_response", node

    def phone_response(self, phone: str) -> dict:
        plain = json.dumps({"code": "10000", "msg": "Success", "mobile": phone}).encode()
        padder = block_padding.PKCS7(128).padder()
        padded = padder.update(plain) + padder.finalize()
        enc = Cipher(algorithms.AES(base64.b64decode(ALIPAY_LOGIN_AES_KEY)),
                     modes.CBC(bytes(16))).encryptor()
        response = base64.b64encode(enc.update(padded) + enc.finalize()).decode()
        answer = {"response": response,
                  "sign": rsa2_sign(self.key, f'"{response}"'.encode()),
                  "sign_type": "RSA2", "encrypt_type": "AES", "charset": "UTF-8"}
        return {"phone_response": json.dumps(answer)}


class Sandbox:
    def __init__(self) -> None:
        self.s = settings()
        self.alipay_app_pub = load_public("alipay-app")
        self.alipay_key = load_private("alipay-platform")
        self.merchant_pub = load_public("wechat-merchant")
        self.wechat_key = load_private("wechat-platform")
        self.wechat_trades: dict[str, dict] = {}
        self.alipay_trades: dict[str, dict] = {}
        # Refunds by gateway and our refund number; each one refunds once.
        self.refunds: dict[tuple[str, str], dict] = {}
        self.bills: dict[str, dict] = {}
        # 电商收付通: applications by out_request_no, uploaded media, splits by out_order_no.
        self.applyments: dict[str, dict] = {}
        self.media: set[str] = set()
        self.splits: dict[str, dict] = {}
        self.wechat_login = WechatLoginStandIn()
        self.alipay_login = AlipayLoginStandIn(self.alipay_key)
        self.lock = threading.Lock()

    # ------------------------------------------------------------------ Alipay
    def alipay_pay(self, params: dict[str, str]) -> tuple[int, dict]:
        if not rsa2_verify(self.alipay_app_pub, alipay_content(params, False).encode(),
                           params.get("sign", "")):
            return 400, {"error": "INVALID_SIGNATURE", "detail": "our RSA2 check of the request failed"}
        if params.get("app_id") != self.s["alipay_app_id"]:
            return 400, {"error": "INVALID_APP_ID"}
        biz = json.loads(params["biz_content"])
        now = datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S")
        trade_no = datetime.now(CHINA).strftime("%Y%m%d") + "2200" + "".join(
            secrets.choice("0123456789") for _ in range(16))
        notice = {
            "notify_time": now, "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(16), "app_id": self.s["alipay_app_id"],
            "charset": "utf-8", "version": "1.0", "sign_type": "RSA2",
            "trade_no": trade_no, "out_trade_no": biz["out_trade_no"],
            "total_amount": biz["total_amount"], "receipt_amount": biz["total_amount"],
            "buyer_pay_amount": biz["total_amount"], "trade_status": "TRADE_SUCCESS",
            "subject": biz.get("subject", ""), "gmt_create": now, "gmt_payment": now,
            "seller_id": self.s["alipay_seller_id"], "buyer_logon_id": "sandbox***@example.cn",
        }
        notice["sign"] = rsa2_sign(self.alipay_key, alipay_content(notice, True).encode())
        with self.lock:
            self.alipay_trades[biz["out_trade_no"]] = {
                "trade_no": trade_no, "total_fen": fen(biz["total_amount"]), "refunded_fen": 0}
        status, answer = post(params["notify_url"], urllib.parse.urlencode(notice).encode(),
                              {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        return 200, {"paid": answer == "success", "trade_no": trade_no,
                     "out_trade_no": biz["out_trade_no"], "notify_status": status,
                     "notify_answer": answer}

    def alipay_api(self, params: dict[str, str]) -> tuple[int, str]:
        method = params.get("method", "")
        name = method.replace(".", "_") + "_response"
        if not rsa2_verify(self.alipay_app_pub, alipay_content(params, False).encode(),
                           params.get("sign", "")):
            node = {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature",
                    "sub_msg": "验签出错"}
            return 200, json.dumps({name: node}, ensure_ascii=False)
        if method == "alipay.system.oauth.token":
            name, node = self.alipay_login.token(params)
            text = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
            sign = rsa2_sign(self.alipay_key, text.encode())
            return 200, '{"' + name + '":' + text + ',"sign":"' + sign + '"}'
        biz = json.loads(params.get("biz_content") or "{}")
        if method == "alipay.trade.refund":
            node = self.alipay_refund(biz)
        elif method == "alipay.trade.fastpay.refund.query":
            node = self.alipay_refund_query(biz)
        elif method != "alipay.fund.trans.uni.transfer":
            node = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.INVALID_METHOD"}
        elif biz["payee_info"]["identity"].startswith("refuse"):
            node = {"code": "40004", "msg": "Business Failed", "sub_code": "PAYEE_NOT_EXIST",
                    "sub_msg": "收款账号不存在"}
        else:
            with self.lock:
                bill = self.bills.setdefault(biz["out_biz_no"], {
                    "order_id": "20261124" + "".join(secrets.choice("0123456789") for _ in range(24)),
                    "trans_date": datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S")})
            node = {"code": "10000", "msg": "Success", "out_biz_no": biz["out_biz_no"],
                    "order_id": bill["order_id"], "pay_fund_order_id": bill["order_id"],
                    "status": "SUCCESS", "trans_date": bill["trans_date"]}
        text = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
        sign = rsa2_sign(self.alipay_key, text.encode())
        return 200, '{"' + name + '":' + text + ',"sign":"' + sign + '"}'

    def alipay_refund(self, biz: dict) -> dict:
        out_trade_no, no = biz.get("out_trade_no", ""), biz.get("out_request_no") or biz.get("out_trade_no", "")
        with self.lock:
            trade = self.alipay_trades.get(out_trade_no)
            if trade is None:
                return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST",
                        "sub_msg": "交易不存在"}
            done = self.refunds.get(("alipay", no))
            amount = fen(biz["refund_amount"])
            if done is None:
                if amount <= 0 or trade["refunded_fen"] + amount > trade["total_fen"]:
                    return {"code": "40004", "msg": "Business Failed",
                            "sub_code": "ACQ.REASON_TRADE_REFUND_FEE_ERR", "sub_msg": "退款金额无效"}
                trade["refunded_fen"] += amount
                done = self.refunds[("alipay", no)] = {
                    "gateway": "alipay", "refund_no": no, "out_trade_no": out_trade_no,
                    "trade_no": trade["trade_no"], "amount": yuan(amount), "status": "SUCCESS",
                    "at": datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S")}
                changed = "Y"
            else:
                changed = "N"
        return {"code": "10000", "msg": "Success", "trade_no": trade["trade_no"],
                "out_trade_no": out_trade_no, "buyer_logon_id": "sandbox***@example.cn",
                "fund_change": changed, "refund_fee": yuan(trade["refunded_fen"]),
                "gmt_refund_pay": done["at"]}

    def alipay_refund_query(self, biz: dict) -> dict:
        out_trade_no, no = biz.get("out_trade_no", ""), biz.get("out_request_no", "")
        trade = self.alipay_trades.get(out_trade_no)
        if trade is None:
            return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST",
                    "sub_msg": "交易不存在"}
        node = {"code": "10000", "msg": "Success", "out_trade_no": out_trade_no,
                "out_request_no": no, "trade_no": trade["trade_no"],
                "total_amount": yuan(trade["total_fen"])}
        done = self.refunds.get(("alipay", no))
        if done is not None:
            node.update({"refund_amount": done["amount"], "refund_status": "REFUND_SUCCESS"})
        return node

    # ------------------------------------------------------------------ WeChat Pay
    def wechat_authorized(self, method: str, path: str, body: str, auth: str) -> bool:
        if not auth.startswith("WECHATPAY2-SHA256-RSA2048 "):
            return False
        fields = dict(p.split("=", 1) for p in auth[len("WECHATPAY2-SHA256-RSA2048 "):].split(","))
        fields = {k: v.strip('"') for k, v in fields.items()}
        if fields.get("mchid") != self.s["wechat_mchid"] or \
                fields.get("serial_no") != self.s["wechat_merchant_serial"]:
            return False
        message = f"{method}\n{path}\n{fields['timestamp']}\n{fields['nonce_str']}\n{body}\n"
        return rsa2_verify(self.merchant_pub, message.encode(), fields.get("signature", ""))

    def wechat_signed(self, body: str) -> dict[str, str]:
        ts, nonce = str(int(time.time())), secrets.token_hex(16)
        return {
            "Wechatpay-Timestamp": ts, "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": self.s["wechat_platform_serial"],
            "Wechatpay-Signature": rsa2_sign(self.wechat_key, f"{ts}\n{nonce}\n{body}\n".encode()),
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }

    def wechat_prepay(self, kind: str, body: dict) -> tuple[int, dict]:
        if body.get("mchid") != self.s["wechat_mchid"] or body.get("appid") != self.s["wechat_appid"]:
            return 400, {"code": "PARAM_ERROR", "message": "mchid 与 appid 不匹配"}
        with self.lock:
            self.wechat_trades[body["out_trade_no"]] = body
        if kind == "jsapi":
            return 200, {"prepay_id": "wx" + secrets.token_hex(15)}
        return 200, {"code_url": "weixin://wxpay/bizpayurl?pr=" + secrets.token_urlsafe(6)}

    def partner_prepay(self, kind: str, body: dict) -> tuple[int, dict]:
        """普通支付 of 电商收付通: into a finished sub-merchant's account, frozen for the split."""
        if body.get("sp_mchid") != self.s["wechat_mchid"] or body.get("sp_appid") != self.s["wechat_appid"]:
            return 400, {"code": "PARAM_ERROR", "message": "sp_mchid 与 sp_appid 不匹配"}
        subs = {a.get("sub_mchid") for a in self.applyments.values() if a["state"] == "FINISH"}
        if body.get("sub_mchid") not in subs:
            return 400, {"code": "PARAM_ERROR", "message": "二级商户号不存在或未完成进件"}
        if not body.get("settle_info", {}).get("profit_sharing"):
            return 400, {"code": "PARAM_ERROR", "message": "电商平台须指定分账"}
        with self.lock:
            self.wechat_trades[body["out_trade_no"]] = {**body, "partner": True}
        if kind == "jsapi":
            return 200, {"prepay_id": "wx" + secrets.token_hex(15)}
        return 200, {"code_url": "weixin://wxpay/bizpayurl?pr=" + secrets.token_urlsafe(6)}

    def wechat_pay(self, out_trade_no: str) -> tuple[int, dict]:
        trade = self.wechat_trades.get(out_trade_no)
        if trade is None:
            return 404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}
        now = datetime.now(CHINA).isoformat(timespec="seconds")
        merchant = ({"sp_mchid": trade["sp_mchid"], "sp_appid": trade["sp_appid"],
                     "sub_mchid": trade["sub_mchid"]} if trade.get("partner")
                    else {"mchid": trade["mchid"], "appid": trade["appid"]})
        transaction = {
            **merchant, "out_trade_no": out_trade_no,
            "transaction_id": "4200" + "".join(secrets.choice("0123456789") for _ in range(24)),
            "trade_type": "JSAPI" if "payer" in trade else "NATIVE", "trade_state": "SUCCESS",
            "trade_state_desc": "支付成功", "bank_type": "OTHERS", "attach": "",
            "success_time": now,
            "payer": trade.get("payer", {"openid": "oSandboxPayer0000000000000"}),
            "amount": {"total": trade["amount"]["total"], "payer_total": trade["amount"]["total"],
                       "currency": "CNY", "payer_currency": "CNY"},
        }
        nonce = secrets.token_hex(6)
        notice = {
            "id": "EV-" + secrets.token_hex(8), "create_time": now,
            "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {
                "original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": aes_gcm_seal(self.s["wechat_apiv3_key"].encode(), nonce, "transaction",
                                           json.dumps(transaction, ensure_ascii=False).encode()),
                "associated_data": "transaction", "nonce": nonce,
            },
        }
        body = json.dumps(notice, ensure_ascii=False)
        headers = {"Content-Type": "application/json", **self.wechat_signed(body)}
        with self.lock:
            trade["transaction_id"] = transaction["transaction_id"]
            trade["refunded_fen"] = 0
        status, answer = post(trade["notify_url"], body.encode(), headers)
        return 200, {"paid": status == 204, "transaction_id": transaction["transaction_id"],
                     "notify_status": status, "notify_answer": answer}

    def ecommerce_refund(self, body: dict) -> tuple[int, dict]:
        """退款申请 of 电商收付通: out of the sub-merchant's frozen money; the answer has no status."""
        trade = self.wechat_trades.get(body.get("out_trade_no", ""))
        if trade is None or not trade.get("partner") or trade["sub_mchid"] != body.get("sub_mchid"):
            return 404, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在"}
        status, answer = self.wechat_refund(body, partner=True)
        if status != 200:
            return status, answer
        return 200, {k: answer[k] for k in ("refund_id", "out_refund_no", "create_time", "amount")}

    def wechat_refund(self, body: dict, partner: bool = False) -> tuple[int, dict]:
        no = body.get("out_refund_no", "")
        with self.lock:
            done = self.refunds.get(("wechat", no))
            if done is not None:
                return 200, done["answer"]
            trade = self.wechat_trades.get(body.get("out_trade_no", ""))
            if trade is None or "transaction_id" not in trade:
                return 404, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在"}
            amount = body.get("amount", {})
            refund, total = int(amount.get("refund", 0)), int(amount.get("total", 0))
            if total != trade["amount"]["total"]:
                return 400, {"code": "PARAM_ERROR", "message": "订单金额与原订单不符"}
            if refund <= 0 or trade["refunded_fen"] + refund > total:
                return 400, {"code": "INVALID_REQUEST", "message": "退款金额超过可退金额"}
            trade["refunded_fen"] += refund
            answer = {
                "refund_id": "5030" + "".join(secrets.choice("0123456789") for _ in range(24)),
                "out_refund_no": no, "transaction_id": trade["transaction_id"],
                "out_trade_no": body["out_trade_no"], "channel": "ORIGINAL",
                "user_received_account": "支付用户零钱",
                "create_time": datetime.now(CHINA).isoformat(timespec="seconds"),
                "status": "PROCESSING",
                "amount": {"total": total, "refund": refund, "payer_total": total,
                           "payer_refund": refund, "settlement_total": total,
                           "settlement_refund": refund, "discount_refund": 0, "currency": "CNY"},
            }
            self.refunds[("wechat", no)] = {
                "gateway": "wechat", "refund_no": no, "out_trade_no": body["out_trade_no"],
                "amount": yuan(refund), "status": "PROCESSING", "answer": answer,
                "notify_url": body.get("notify_url", ""),
                **({"sub_mchid": trade["sub_mchid"]} if partner else {})}
        # The money "arrives" a moment later, and WeChat Pay says so.
        threading.Timer(0.3, self.wechat_refund_arrives, args=(no,)).start()
        return 200, answer

    def wechat_refund_arrives(self, no: str) -> None:
        with self.lock:
            done = self.refunds[("wechat", no)]
            answer = done["answer"]
            answer["status"] = done["status"] = "SUCCESS"
            answer["success_time"] = datetime.now(CHINA).isoformat(timespec="seconds")
        merchant = ({"sp_mchid": self.s["wechat_mchid"], "sub_mchid": done["sub_mchid"]}
                    if "sub_mchid" in done else {"mchid": self.s["wechat_mchid"]})
        resource = {
            **merchant, "out_trade_no": answer["out_trade_no"],
            "transaction_id": answer["transaction_id"], "out_refund_no": no,
            "refund_id": answer["refund_id"], "refund_status": "SUCCESS",
            "success_time": answer["success_time"],
            "user_received_account": answer["user_received_account"],
            "amount": {k: answer["amount"][k] for k in ("total", "refund", "payer_total", "payer_refund")},
        }
        nonce = secrets.token_hex(6)
        notice = {
            "id": "EV-" + secrets.token_hex(8), "create_time": answer["success_time"],
            "resource_type": "encrypt-resource", "event_type": "REFUND.SUCCESS", "summary": "退款成功",
            "resource": {
                "original_type": "refund", "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": aes_gcm_seal(self.s["wechat_apiv3_key"].encode(), nonce, "refund",
                                           json.dumps(resource, ensure_ascii=False).encode()),
                "associated_data": "refund", "nonce": nonce,
            },
        }
        body = json.dumps(notice, ensure_ascii=False)
        status, answer_text = post(done["notify_url"], body.encode(),
                                   {"Content-Type": "application/json", **self.wechat_signed(body)})
        with self.lock:
            done["notify_status"] = status
            done["notify_answer"] = answer_text

    # ------------------------------------------------------------ 电商收付通 onboarding, splits
    def applyment(self, body: dict) -> tuple[int, dict]:
        for field in ("id_card_copy", "id_card_national"):
            if body.get("id_card_info", {}).get(field) not in self.media:
                return 400, {"code": "PARAM_ERROR", "message": f"{field} 不是已上传的图片"}
        for field in ("id_card_name", "id_card_number"):
            if not body.get("id_card_info", {}).get(field):
                return 400, {"code": "PARAM_ERROR", "message": f"缺少 {field}"}
        no = body.get("out_request_no", "")
        with self.lock:
            a = self.applyments.setdefault(no, {
                "out_request_no": no, "queries": 0,
                "applyment_id": int("2000002" + "".join(secrets.choice("0123456789") for _ in range(9))),
            })
            # A corrected application starts over.
            a.update({"state": "AUDITING", "queries": 0, "body": body})
        return 200, {"applyment_id": a["applyment_id"], "out_request_no": no}

    def applyment_state(self, no: str) -> tuple[int, dict]:
        """Each query moves a application on: NEED_SIGN (sign the agreement), then FINISH."""
        with self.lock:
            a = self.applyments.get(no)
            if a is None:
                return 404, {"code": "RESOURCE_NOT_EXISTS", "message": "申请单不存在"}
            a["queries"] += 1
            if a["state"] == "AUDITING":
                a["state"] = "NEED_SIGN"
            elif a["state"] == "NEED_SIGN":
                a["state"] = "FINISH"
                a["sub_mchid"] = "1900" + "".join(secrets.choice("0123456789") for _ in range(6))
        answer = {"applyment_id": a["applyment_id"], "out_request_no": no,
                  "applyment_state": a["state"], "applyment_state_desc": {
                      "NEED_SIGN": "待签约", "FINISH": "完成"}.get(a["state"], "审核中"),
                  "sign_state": "SIGNED" if a["state"] == "FINISH" else "UNSIGNED",
                  "audit_detail": []}
        if a["state"] == "NEED_SIGN":
            answer["sign_url"] = f"https://pay.weixin.qq.com/public/apply4ec_sign/s?applymentId={a['applyment_id']}"
        if a["state"] == "FINISH":
            answer["sub_mchid"] = a["sub_mchid"]
        return 200, answer

    def split(self, body: dict, finish_only: bool) -> tuple[int, dict]:
        no = body.get("out_order_no", "")
        with self.lock:
            done = self.splits.get(no)
            if done is not None:
                return 200, done
            trade = next((t for t in self.wechat_trades.values()
                          if t.get("transaction_id") == body.get("transaction_id")), None)
            if trade is None or not trade.get("partner") or trade["sub_mchid"] != body.get("sub_mchid"):
                return 404, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在"}
            left = trade["amount"]["total"] - trade.get("refunded_fen", 0)
            receivers = [] if finish_only else body.get("receivers", [])
            if sum(int(r.get("amount", 0)) for r in receivers) > left:
                return 400, {"code": "NOT_ENOUGH", "message": "分账金额超过可分金额"}
            done = {
                "sub_mchid": body["sub_mchid"], "transaction_id": body["transaction_id"],
                "out_order_no": no,
                "order_id": "3008" + "".join(secrets.choice("0123456789") for _ in range(24)),
                "status": "FINISHED",
                "receivers": [{**r, "result": "SUCCESS",
                               "finish_time": datetime.now(CHINA).isoformat(timespec="seconds"),
                               "detail_id": "3601" + secrets.token_hex(10)} for r in receivers],
            }
            if finish_only:
                done["finish_amount"] = left
            self.splits[no] = done
            trade["split"] = done
        return 200, done

    def refunds_of(self, out_trade_no: str) -> list[dict]:
        with self.lock:
            return [{k: v for k, v in r.items() if k not in ("answer", "notify_url")}
                    for r in self.refunds.values() if r["out_trade_no"] == out_trade_no]

    def wechat_transfer(self, body: dict) -> tuple[int, dict]:
        if body.get("appid") != self.s["wechat_appid"]:
            return 400, {"code": "PARAM_ERROR", "message": "appid 不正确"}
        refused = body["openid"].startswith("refuse")
        with self.lock:
            bill = self.bills.setdefault(body["out_bill_no"], {
                "out_bill_no": body["out_bill_no"],
                "transfer_bill_no": "1330000" + "".join(secrets.choice("0123456789") for _ in range(20)),
                "create_time": datetime.now(CHINA).isoformat(timespec="seconds"),
                "state": "FAIL" if refused else "SUCCESS",
                **({"fail_reason": "PAYEE_ACCOUNT_ABNORMAL"} if refused else {}),
            })
        return 200, bill


def fen(amount: str) -> int:
    """"399.00" → 39900 (the gateways' yuan strings, exactly)."""
    whole, _, cents = amount.partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


def yuan(n: int) -> str:
    return f"{n // 100}.{n % 100:02d}"


def post(url: str, data: bytes, headers: dict[str, str]) -> tuple[int, str]:
    req = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def handler_for(sandbox: Sandbox):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):  # quiet
            pass

        def reply(self, status: int, body, headers: dict[str, str] | None = None,
                  content_type: str = "application/json; charset=utf-8") -> None:
            text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def body(self) -> str:
            n = int(self.headers.get("Content-Length") or 0)
            # Media uploads carry image bytes; only their JSON part is read.
            return self.rfile.read(n).decode("utf-8", errors="replace") if n else ""

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/health":
                return self.reply(200, {"ok": True})
            if url.path == "/alipay/gateway.do":
                params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
                return self.reply(*sandbox.alipay_pay(params))
            if url.path.startswith("/sandbox/refunds/"):
                return self.reply(200, sandbox.refunds_of(url.path.rsplit("/", 1)[1]))
            if url.path.startswith("/wxlogin/"):
                q = dict(urllib.parse.parse_qsl(url.query))
                wl = sandbox.wechat_login
                answer = {
                    "/wxlogin/sns/jscode2session": wl.jscode2session,
                    "/wxlogin/sns/oauth2/access_token": wl.oauth_token,
                    "/wxlogin/sns/userinfo": wl.userinfo,
                }.get(url.path, lambda _q: {"errcode": 40066, "errmsg": "invalid url"})(q)
                return self.reply(200, answer)
            if url.path.startswith("/sandbox/splits/"):
                done = sandbox.splits.get(url.path.rsplit("/", 1)[1])
                return self.reply(200 if done else 404, done or {"code": "NOT_FOUND"})
            if url.path.startswith("/wechat/v3/ecommerce/"):
                signed_path = url.path[len("/wechat"):] + (f"?{url.query}" if url.query else "")
                if not sandbox.wechat_authorized("GET", signed_path, "",
                                                 self.headers.get("Authorization", "")):
                    return self.reply(401, {"code": "SIGN_ERROR", "message": "签名错误"})
                query = dict(urllib.parse.parse_qsl(url.query))
                applyments = "/wechat/v3/ecommerce/applyments/out-request-no/"
                ec_refunds = "/wechat/v3/ecommerce/refunds/out-refund-no/"
                if url.path.startswith(applyments):
                    status, answer = sandbox.applyment_state(url.path[len(applyments):])
                elif url.path == "/wechat/v3/ecommerce/profitsharing/orders":
                    done = sandbox.splits.get(query.get("out_order_no", ""))
                    status, answer = (200, done) if done else \
                        (404, {"code": "RESOURCE_NOT_EXISTS", "message": "分账单不存在"})
                elif url.path.startswith(ec_refunds):
                    done = sandbox.refunds.get(("wechat", url.path[len(ec_refunds):]))
                    if done is None or done.get("sub_mchid") != query.get("sub_mchid"):
                        status, answer = 404, {"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"}
                    else:
                        status, answer = 200, done["answer"]
                else:
                    status, answer = 404, {"code": "NOT_FOUND", "message": "接口不存在"}
                text = json.dumps(answer, ensure_ascii=False)
                return self.reply(status, text, sandbox.wechat_signed(text) if status == 200 else None)
            refunds = "/wechat/v3/refund/domestic/refunds/"
            if url.path.startswith(refunds):
                if not sandbox.wechat_authorized("GET", url.path[len("/wechat"):], "",
                                                 self.headers.get("Authorization", "")):
                    return self.reply(401, {"code": "SIGN_ERROR", "message": "签名错误"})
                done = sandbox.refunds.get(("wechat", url.path[len(refunds):]))
                if done is None:
                    return self.reply(404, {"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"})
                text = json.dumps(done["answer"], ensure_ascii=False)
                return self.reply(200, text, sandbox.wechat_signed(text))
            prefix = "/wechat/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/"
            if url.path.startswith(prefix):
                if not sandbox.wechat_authorized("GET", url.path[len("/wechat"):], "",
                                                 self.headers.get("Authorization", "")):
                    return self.reply(401, {"code": "SIGN_ERROR", "message": "签名错误"})
                bill = sandbox.bills.get(url.path[len(prefix):])
                if bill is None:
                    return self.reply(404, {"code": "NOT_FOUND", "message": "记录不存在"})
                text = json.dumps(bill, ensure_ascii=False)
                return self.reply(200, text, sandbox.wechat_signed(text))
            self.reply(404, {"code": "NOT_FOUND"})

        def do_POST(self):
            url = urllib.parse.urlsplit(self.path)
            raw = self.body()
            if url.path == "/alipay/gateway.do":
                params = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
                return self.reply(*sandbox.alipay_api(params))
            if url.path.startswith("/wxlogin/"):
                q = dict(urllib.parse.parse_qsl(url.query))
                body = json.loads(raw or "{}")
                wl = sandbox.wechat_login
                if url.path == "/wxlogin/cgi-bin/stable_token":
                    return self.reply(200, wl.stable_token(body))
                if url.path == "/wxlogin/wxa/business/getuserphonenumber":
                    return self.reply(200, wl.phone_number(q, body))
                return self.reply(200, {"errcode": 40066, "errmsg": "invalid url"})
            if url.path == "/sandbox/alipay-login/code":
                return self.reply(200, sandbox.alipay_login.issue(json.loads(raw or "{}")))
            if url.path == "/sandbox/alipay-login/phone-response":
                phone = json.loads(raw or "{}").get("phone", "")
                return self.reply(200, sandbox.alipay_login.phone_response(phone))
            if url.path == "/sandbox/wechat-login/code":
                return self.reply(200, sandbox.wechat_login.issue("login", json.loads(raw or "{}")))
            if url.path == "/sandbox/wechat-login/phone-code":
                return self.reply(200, sandbox.wechat_login.issue("phone", json.loads(raw or "{}")))
            if url.path.startswith("/wechat/sandbox/pay/"):
                return self.reply(*sandbox.wechat_pay(url.path.rsplit("/", 1)[1]))
            if url.path == "/wechat/v3/merchant/media/upload":
                # Only the `meta` part is signed.
                meta = re.search(r'name="meta";?\r\nContent-Type: application/json\r\n\r\n(.*?)\r\n--',
                                 raw, re.S)
                if meta is None or not sandbox.wechat_authorized(
                        "POST", "/v3/merchant/media/upload", meta.group(1),
                        self.headers.get("Authorization", "")):
                    return self.reply(401, {"code": "SIGN_ERROR", "message": "签名错误"})
                media_id = "sandbox-media-" + secrets.token_urlsafe(24)
                with sandbox.lock:
                    sandbox.media.add(media_id)
                text = json.dumps({"media_id": media_id})
                return self.reply(200, text, sandbox.wechat_signed(text))
            if url.path.startswith("/wechat/v3/"):
                path = url.path[len("/wechat"):]
                if not sandbox.wechat_authorized("POST", path, raw, self.headers.get("Authorization", "")):
                    return self.reply(401, {"code": "SIGN_ERROR", "message": "签名错误"})
                body = json.loads(raw)
                if path in ("/v3/pay/transactions/native", "/v3/pay/transactions/jsapi"):
                    status, answer = sandbox.wechat_prepay(path.rsplit("/", 1)[1], body)
                elif path == "/v3/fund-app/mch-transfer/transfer-bills":
                    status, answer = sandbox.wechat_transfer(body)
                elif path == "/v3/refund/domestic/refunds":
                    status, answer = sandbox.wechat_refund(body)
                elif path in ("/v3/pay/partner/transactions/native", "/v3/pay/partner/transactions/jsapi"):
                    status, answer = sandbox.partner_prepay(path.rsplit("/", 1)[1], body)
                elif path == "/v3/ecommerce/applyments/":
                    status, answer = sandbox.applyment(body)
                elif path == "/v3/ecommerce/profitsharing/orders":
                    status, answer = sandbox.split(body, finish_only=False)
                elif path == "/v3/ecommerce/profitsharing/finish-order":
                    status, answer = sandbox.split(body, finish_only=True)
                elif path == "/v3/ecommerce/refunds/apply":
                    status, answer = sandbox.ecommerce_refund(body)
                else:
                    status, answer = 404, {"code": "NOT_FOUND", "message": "接口不存在"}
                text = json.dumps(answer, ensure_ascii=False)
                return self.reply(status, text, sandbox.wechat_signed(text) if status == 200 else None)
            self.reply(404, {"code": "NOT_FOUND"})

    return Handler


def serve(port: int) -> ThreadingHTTPServer:
    """Starts the sandbox on 127.0.0.1:port in a background thread."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler_for(Sandbox()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    port = int(os.environ.get("GATEWAY_SANDBOX_PORT", "9100"))
    serve(port)
    print(f"gateway sandbox on http://127.0.0.1:{port}")
    threading.Event().wait()
