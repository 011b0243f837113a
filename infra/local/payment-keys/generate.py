#!/usr/bin/env python3
"""Generates the local stack's and the tests' payment keys (test only, never production):

  alipay-app          our application key: we sign Alipay requests with it
  alipay-platform     plays Alipay's key: the sandbox signs notifications and responses
  wechat-merchant     our merchant API key: we sign WeChat Pay v3 requests with it
  wechat-platform     plays WeChat Pay's key (the "WeChat Pay public key"): the sandbox signs
                      notifications and responses with it
  settings.json       ids, serial numbers and the APIv3 key that go with them

Run once; the files are committed so the known-answer vectors in vectors.json stay valid.
"""

import json
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

HERE = Path(__file__).resolve().parent

for name in ["alipay-app", "alipay-platform", "wechat-merchant", "wechat-platform"]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (HERE / f"{name}.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (HERE / f"{name}.pub.pem").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

settings = {
    "alipay_app_id": "2021000000000001",
    "alipay_seller_id": "2088000000000001",
    "wechat_mchid": "1900000001",
    "wechat_appid": "wx00000000000000a1",
    "wechat_merchant_serial": secrets.token_hex(20).upper(),
    "wechat_platform_serial": "PUB_KEY_ID_0119000000012026112400000000000001",
    "wechat_apiv3_key": secrets.token_hex(16),
    "wechat_transfer_scene_id": "1005",
}
(HERE / "settings.json").write_text(json.dumps(settings, indent=2) + "\n")
