#!/usr/bin/env python3
"""Known-answer vectors for our gateway code, computed with a second implementation (Python's
`cryptography`, through the sandbox's helpers) from the test keys here. PKCS#1 v1.5 signatures
are deterministic, so our Rust signer must produce these exact bytes; AES-GCM with a fixed nonce
likewise. Re-run after regenerating the keys: `.venv/bin/python infra/local/payment-keys/vectors.py`.
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import gateway_sandbox as g  # noqa: E402

s = g.settings()
app_key, alipay_key = g.load_private("alipay-app"), g.load_private("alipay-platform")
merchant_key, wechat_key = g.load_private("wechat-merchant"), g.load_private("wechat-platform")

# Alipay page pay as our adapter builds it for this charge at 2026-11-24T08:00:00Z.
biz = json.dumps({
    "out_trade_no": "GB20261124160000ABCDEFGHIJ", "product_code": "FAST_INSTANT_TRADE_PAY",
    "subject": "Gigbao 钱包充值", "time_expire": "2026-11-24 16:30:00", "total_amount": "199.00",
}, ensure_ascii=False, separators=(",", ":"))
request = {
    "app_id": s["alipay_app_id"], "method": "alipay.trade.page.pay", "format": "JSON",
    "charset": "utf-8", "sign_type": "RSA2", "timestamp": "2026-11-24 16:00:00", "version": "1.0",
    "biz_content": biz, "notify_url": "https://api.gigbao.cn/api/v1/payments/callbacks/alipay",
}
request_content = g.alipay_content(request, False)
request_sign = g.rsa2_sign(app_key, request_content.encode())

notification = {
    "gmt_create": "2026-11-24 16:00:01", "charset": "utf-8", "seller_email": "pay@gigbao.cn",
    "subject": "Gigbao 订单 ORD20261124155900ABC123", "buyer_id": "2088102177846875",
    "invoice_amount": "199.00", "notify_id": "2026112400222160002012345678901234",
    "fund_bill_list": '[{"amount":"199.00","fundChannel":"ALIPAYACCOUNT"}]',
    "notify_type": "trade_status_sync", "trade_status": "TRADE_SUCCESS",
    "receipt_amount": "199.00", "app_id": s["alipay_app_id"], "buyer_pay_amount": "199.00",
    "sign_type": "RSA2", "seller_id": s["alipay_seller_id"], "gmt_payment": "2026-11-24 16:00:02",
    "notify_time": "2026-11-24 16:00:03", "version": "1.0",
    "out_trade_no": "GB20261124160000ABCDEFGHIJ", "total_amount": "199.00",
    "trade_no": "2026112422001446870501234567", "auth_app_id": s["alipay_app_id"],
    "buyer_logon_id": "lin***@example.cn", "point_amount": "0.00",
}
notification_content = g.alipay_content(notification, True)
notification["sign"] = g.rsa2_sign(alipay_key, notification_content.encode())

transfer_node = json.dumps({
    "code": "10000", "msg": "Success", "order_id": "20261124110070000006040050105202",
    "out_biz_no": "01JDEMO0000000000000000000", "pay_fund_order_id": "20261124110070001506040049801906",
    "status": "SUCCESS", "trans_date": "2026-11-24 16:10:00",
}, separators=(",", ":"))
transfer_response = ('{"alipay_fund_trans_uni_transfer_response":' + transfer_node
                     + ',"sign":"' + g.rsa2_sign(alipay_key, transfer_node.encode()) + '"}')

# WeChat Pay: a request's Authorization, JSAPI client parameters, a notification.
req_body = ('{"appid":"' + s["wechat_appid"] + '","mchid":"' + s["wechat_mchid"]
            + '","description":"Gigbao 钱包充值","out_trade_no":"GB20261124160000ABCDEFGHIJ"}')
req_message = f"POST\n/v3/pay/transactions/native\n1795507200\n593BEC0C930BF1AFEB40B4A08C8FB242\n{req_body}\n"
jsapi_message = f"{s['wechat_appid']}\n1795507200\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n"
transaction = json.dumps({
    "mchid": s["wechat_mchid"], "appid": s["wechat_appid"],
    "out_trade_no": "GB20261124160000ABCDEFGHIJ", "transaction_id": "4200000985202611240000000001",
    "trade_type": "NATIVE", "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
    "bank_type": "CMC", "attach": "", "success_time": "2026-11-24T16:00:02+08:00",
    "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
    "amount": {"total": 19900, "payer_total": 19900, "currency": "CNY", "payer_currency": "CNY"},
}, ensure_ascii=False)
ciphertext = g.aes_gcm_seal(s["wechat_apiv3_key"].encode(), "fdasflkja484", "transaction",
                            transaction.encode())
notify_body = json.dumps({
    "id": "EV-2018022511223320873", "create_time": "2026-11-24T16:00:03+08:00",
    "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
    "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                 "ciphertext": ciphertext, "associated_data": "transaction", "nonce": "fdasflkja484"},
}, ensure_ascii=False)
notify_ts, notify_nonce = "1795507203", "b7d4a7b1c2e84f6f9a3c5d6e7f809102"

vectors = {
    "alipay_request": {"params": request, "content": request_content, "sign": request_sign},
    "alipay_notification": {"params": notification, "content": notification_content},
    "alipay_transfer_response": transfer_response,
    "wechat_request": {"body": req_body, "message": req_message,
                       "signature": g.rsa2_sign(merchant_key, req_message.encode())},
    "wechat_jsapi": {"message": jsapi_message, "pay_sign": g.rsa2_sign(merchant_key, jsapi_message.encode())},
    "wechat_notification": {
        "timestamp": notify_ts, "nonce": notify_nonce, "serial": s["wechat_platform_serial"],
        "body": notify_body, "plaintext": transaction, "ciphertext": ciphertext,
        "signature": g.rsa2_sign(wechat_key, f"{notify_ts}\n{notify_nonce}\n{notify_body}\n".encode()),
    },
}
(HERE / "vectors.json").write_text(json.dumps(vectors, ensure_ascii=False, indent=2) + "\n")
