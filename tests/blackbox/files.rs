//! Private files end to end: an upload URL per purpose, the PUT, the worker's check, the
//! attachment, and downloads for exactly those who may read them.

use std::time::Duration;

use serde_json::{Value, json};

use super::orders::{Party, act, buyer, order, pay, seller, service};
use crate::{Api, admin_session, is_chinese};
use gigbao_tests::{png, put_upload as put};

fn sha256(bytes: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Asks for an upload URL of `purpose` on `order`.
async fn ticket(
    api: &Api,
    who: &Party,
    order: &str,
    purpose: &str,
    name: &str,
    content_type: &str,
    len: usize,
) -> crate::Answer {
    api.post_auth(
        &format!("/orders/{order}/files"),
        &who.access,
        json!({"purpose": purpose, "file_name": name, "content_type": content_type, "content_length": len}),
    )
    .await
}

/// Uploads `bytes` and waits for the worker's verdict; (key, file id, the file as finally seen).
async fn upload(
    api: &Api,
    who: &Party,
    order: &str,
    purpose: &str,
    name: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> (String, String, Value) {
    let t = ticket(api, who, order, purpose, name, content_type, bytes.len()).await;
    assert_eq!(t.status, 201, "{}", t.body);
    let data = t.body["data"].clone();
    assert_eq!(data["file"]["status"], "pending");
    let key = data["key"].as_str().unwrap().to_owned();
    assert!(
        key.starts_with(&format!("uploads/orders/{order}/")),
        "{key}"
    );
    let id = data["file"]["id"].as_str().unwrap().to_owned();
    assert_eq!(put(&data, bytes).await, 200);
    (key, id.clone(), checked(api, &who.access, &id).await)
}

/// The file once the worker has checked it (within a minute, through the real queue).
async fn checked(api: &Api, access: &str, id: &str) -> Value {
    for _ in 0..120 {
        let f = api.get_auth(&format!("/files/{id}"), access).await;
        assert_eq!(f.status, 200, "{}", f.body);
        if f.body["data"]["status"] != "pending" {
            return f.body["data"].clone();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("file {id} was never checked");
}

async fn download(url: &str) -> (u16, Vec<u8>, Option<String>) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    let disposition = r
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, r.bytes().await.unwrap().to_vec(), disposition)
}

/// An order paid and in progress: (client, freelancer, order id).
async fn order_in_progress(api: &Api) -> (Party, Party, String) {
    let s = seller(api).await;
    let c = buyer(api, "500.00").await;
    let svc = service(api, &s).await;
    let o = order(api, &c, &svc, "basic").await;
    let id = o["id"].as_str().unwrap().to_owned();
    pay(api, &c, &id).await;
    (c, s, id)
}

#[tokio::test]
async fn two_delivered_files_download_byte_for_byte_and_only_for_the_parties() {
    let api = Api::connect();
    let (c, s, id) = order_in_progress(&api).await;
    let logo = png(320, 200);
    let notes = "交付说明：Logo 两个版本，源文件见压缩包。\n"
        .repeat(20)
        .into_bytes();
    // GIVEN the freelancer uploads two files and both pass the check
    let (k1, f1, v1) = upload(
        &api,
        &s,
        &id,
        "delivery",
        "logo 终稿.png",
        "image/png",
        logo.clone(),
    )
    .await;
    let (k2, f2, v2) = upload(
        &api,
        &s,
        &id,
        "delivery",
        "交付说明.txt",
        "text/plain",
        notes.clone(),
    )
    .await;
    assert_eq!(v1["status"], "ready", "{v1}");
    assert_eq!(v1["checksum_sha256"], sha256(&logo));
    assert_eq!(v1["size"], logo.len());
    assert_eq!(v2["status"], "ready", "{v2}");
    // Not delivered yet: the client cannot see them.
    let early = api.get_auth(&format!("/files/{f1}"), &c.access).await;
    assert_eq!(early.status, 404, "{}", early.body);
    // WHEN they are delivered
    let d = act(
        &api,
        &s,
        &id,
        "deliveries",
        json!({"message": "终稿已完成，请查收两个附件", "file_keys": [k1, k2]}),
    )
    .await;
    assert_eq!(d.status, 201, "{}", d.body);
    let files = d.body["data"]["delivery"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["name"], "logo 终稿.png");
    // THEN the client downloads both from the deliveries list and gets the exact bytes
    let list = api
        .get_auth(&format!("/orders/{id}/deliveries"), &c.access)
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    let delivery = &list.body["data"]["items"][0];
    assert_eq!(delivery["is_final"], false);
    for (f, bytes) in delivery["files"]
        .as_array()
        .unwrap()
        .iter()
        .zip([&logo, &notes])
    {
        let (status, got, disposition) = download(f["download_url"].as_str().unwrap()).await;
        assert_eq!(status, 200);
        assert_eq!(sha256(&got), sha256(bytes));
        assert_eq!(f["checksum_sha256"], sha256(bytes));
        assert!(disposition.unwrap_or_default().starts_with("attachment"));
    }
    // The picture has a small preview; the text file has none.
    let files = delivery["files"].as_array().unwrap();
    let (status, preview, _) = download(files[0]["preview_url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let preview = image::load_from_memory(&preview).unwrap();
    assert_eq!((preview.width(), preview.height()), (320, 200));
    assert!(files[1]["preview_url"].is_null());
    // AND through the file itself, with a fresh link
    let mine = api.get_auth(&format!("/files/{f2}"), &c.access).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    let (status, got, _) = download(mine.body["data"]["download_url"].as_str().unwrap()).await;
    assert_eq!((status, sha256(&got)), (200, sha256(&notes)));
    // AND nobody else: a stranger, an operator with no dispute to handle, no one signed out
    let (_, _, stranger) = api.register("waiyuan").await;
    let stranger = stranger["access"].as_str().unwrap();
    for f in [&f1, &f2] {
        let a = api.get_auth(&format!("/files/{f}"), stranger).await;
        assert_eq!(a.status, 404, "{}", a.body);
        assert_eq!(a.body["code"], "file.not_found");
        assert!(is_chinese(a.body["message"].as_str().unwrap()));
    }
    let list = api
        .get_auth(&format!("/orders/{id}/deliveries"), stranger)
        .await;
    assert_eq!(list.status, 404);
    let (admin, _) = admin_session(&api).await;
    assert_eq!(
        api.get_auth(&format!("/files/{f1}"), &admin).await.status,
        404
    );
    let anonymous = api.get(&format!("/files/{f1}")).await;
    assert_eq!(anonymous.status, 404, "{}", anonymous.body);
    assert_eq!(anonymous.body["code"], "file.not_found");
    let unknown = api
        .get_auth(&format!("/files/{}", ulid::Ulid::new()), &c.access)
        .await;
    assert_eq!(unknown.status, 404);

    // AND a file of this order cannot be delivered on another order of the same parties
    let svc2 = service(&api, &s).await;
    let o2 = order(&api, &c, &svc2, "basic").await;
    let id2 = o2["id"].as_str().unwrap().to_owned();
    pay(&api, &c, &id2).await;
    let cross = act(
        &api,
        &s,
        &id2,
        "deliveries",
        json!({"message": "见附件", "file_keys": [format!("uploads/orders/{id2}/{f1}")]}),
    )
    .await;
    assert_eq!(cross.status, 422, "{}", cross.body);
    assert_eq!(cross.body["code"], "file.unknown");
    let none = api
        .get_auth(&format!("/orders/{id2}/deliveries"), &c.access)
        .await;
    assert_eq!(none.body["data"]["items"].as_array().unwrap().len(), 0);

    // Once the client accepts, the delivery is the final one.
    let a = act(&api, &c, &id, "accept", json!({})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let list = api
        .get_auth(&format!("/orders/{id}/deliveries"), &c.access)
        .await;
    assert_eq!(list.body["data"]["items"][0]["is_final"], true);
}

#[tokio::test]
async fn an_exe_renamed_png_is_rejected_and_its_uploader_told() {
    let api = Api::connect();
    let (_, s, id) = order_in_progress(&api).await;
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    exe.extend_from_slice(&[0u8; 48]);
    exe[0x3c] = 0x40;
    exe.extend_from_slice(b"PE\0\0");
    exe.extend_from_slice(&[0u8; 200]);
    let (key, file, seen) = upload(&api, &s, &id, "delivery", "logo.png", "image/png", exe).await;
    assert_eq!(seen["status"], "rejected", "{seen}");
    assert!(seen["download_url"].is_null());
    // The uploader is told, in both languages.
    let mut told = Value::Null;
    for _ in 0..40 {
        let n = api.get_auth("/messaging/notifications", &s.access).await;
        if let Some(hit) = n.body["data"]["items"].as_array().and_then(|items| {
            items
                .iter()
                .find(|n| n["notification_type"] == "file_rejected")
        }) {
            told = hit.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(told["title_zh"], "文件未通过检查", "{told}");
    assert_eq!(told["related_id"], file.as_str());
    // It cannot be delivered.
    let d = act(
        &api,
        &s,
        &id,
        "deliveries",
        json!({"message": "见附件", "file_keys": [key]}),
    )
    .await;
    assert_eq!(d.status, 422, "{}", d.body);
    assert_eq!(d.body["code"], "file.rejected");
}

#[tokio::test]
async fn uploads_are_refused_to_the_wrong_party_type_size_and_stage() {
    let api = Api::connect();
    let (c, s, id) = order_in_progress(&api).await;
    let path = format!("/orders/{id}/files");
    // Deliveries are the freelancer's; requirements the client's.
    let t = ticket(&api, &c, &id, "delivery", "a.png", "image/png", 10).await;
    assert_eq!(t.status, 404, "{}", t.body);
    assert_eq!(t.body["code"], "file.wrong_party");
    let t = ticket(&api, &s, &id, "requirements", "a.png", "image/png", 10).await;
    assert_eq!(t.status, 404);
    let t = ticket(
        &api,
        &c,
        &id,
        "requirements",
        "brief.pdf",
        "application/pdf",
        10,
    )
    .await;
    assert_eq!(t.status, 201, "{}", t.body);
    // Types, sizes and names per purpose; every broken field at once.
    let t = ticket(
        &api,
        &s,
        &id,
        "delivery",
        "setup.exe",
        "application/x-msdownload",
        10,
    )
    .await;
    assert_eq!(t.status, 422, "{}", t.body);
    assert!(t.body["errors"]["content_type"].is_array());
    let t = ticket(
        &api,
        &s,
        &id,
        "delivery",
        "huge.zip",
        "application/zip",
        101 * 1024 * 1024,
    )
    .await;
    assert_eq!(t.status, 413, "{}", t.body);
    assert_eq!(t.body["code"], "upload.too_large");
    let t = ticket(
        &api,
        &c,
        &id,
        "evidence",
        "chat.png",
        "image/png",
        21 * 1024 * 1024,
    )
    .await;
    assert_eq!(t.status, 413);
    let bad = api
        .post_auth(
            &path,
            &s.access,
            json!({"purpose": "document", "file_name": 7, "content_length": "10", "colour": "red"}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    for field in [
        "purpose",
        "file_name",
        "content_type",
        "content_length",
        "colour",
    ] {
        assert!(
            bad.body["errors"][field].is_array(),
            "{field}: {}",
            bad.body
        );
    }
    // A stranger is told the order does not exist.
    let (_, _, stranger) = api.register("waiyuan").await;
    let stranger = Party {
        access: stranger["access"].as_str().unwrap().to_owned(),
        id: String::new(),
    };
    let t = ticket(&api, &stranger, &id, "evidence", "a.png", "image/png", 10).await;
    assert_eq!(t.status, 404);
    assert_eq!(t.body["code"], "order.not_found");
    // A URL for 1 000 bytes does not take 2 000: the length is signed, so S3 refuses it.
    let t = ticket(&api, &s, &id, "delivery", "a.png", "image/png", 1000).await;
    let status = reqwest::Client::new()
        .put(t.body["data"]["upload_url"].as_str().unwrap())
        .header("content-type", "image/png")
        .body(vec![0u8; 2000])
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 403);
    // Delivered: no more delivery files, but evidence still.
    let d = act(&api, &s, &id, "deliveries", json!({"message": "初稿"})).await;
    assert_eq!(d.status, 201);
    let t = ticket(&api, &s, &id, "delivery", "v2.png", "image/png", 10).await;
    assert_eq!(t.status, 409, "{}", t.body);
    assert_eq!(t.body["code"], "file.invalid_state");
    let t = ticket(&api, &s, &id, "evidence", "chat.png", "image/png", 10).await;
    assert_eq!(t.status, 201);
}

#[tokio::test]
async fn an_operator_reads_evidence_only_while_handling_the_dispute() {
    let api = Api::connect();
    let (c, s, id) = order_in_progress(&api).await;
    let d = act(&api, &s, &id, "deliveries", json!({"message": "初稿"})).await;
    assert_eq!(d.status, 201);
    let shot = png(200, 120);
    let (key, file, seen) = upload(
        &api,
        &c,
        &id,
        "evidence",
        "聊天记录.png",
        "image/png",
        shot.clone(),
    )
    .await;
    assert_eq!(seen["status"], "ready");
    let (admin, _) = admin_session(&api).await;
    let path = format!("/files/{file}");
    assert_eq!(api.get_auth(&path, &admin).await.status, 404);
    // WHEN the client opens a dispute with it
    let d = act(
        &api,
        &c,
        &id,
        "dispute",
        json!({"reason": "交付内容与描述不符", "evidence_keys": [key]}),
    )
    .await;
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(
        d.body["data"]["dispute"]["evidence"][0]["checksum_sha256"],
        sha256(&shot)
    );
    // THEN the operator and the other party can download it
    for access in [&admin, &s.access] {
        let a = api.get_auth(&path, access).await;
        assert_eq!(a.status, 200, "{}", a.body);
        let (status, got, _) = download(a.body["data"]["download_url"].as_str().unwrap()).await;
        assert_eq!((status, sha256(&got)), (200, sha256(&shot)));
    }
    // AND once it is settled, the operator no longer can
    let r = api
        .post_auth(
            &format!("/admin/orders/{id}/resolve"),
            &admin,
            json!({"resolution": "refund", "note": "卖家未按要求交付"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(api.get_auth(&path, &admin).await.status, 404);
    assert_eq!(api.get_auth(&path, &s.access).await.status, 200);
}

#[tokio::test]
async fn identity_documents_are_read_by_their_owner_and_the_reviewing_operator() {
    let api = Api::connect();
    let (_, _, me) = api.register("zhengjian").await;
    let access = me["access"].as_str().unwrap().to_owned();
    let scan = png(300, 190);
    let t = api
        .post_auth(
            "/users/profile/verification/documents",
            &access,
            json!({"file_name": "身份证正面.png", "content_type": "image/png", "content_length": scan.len()}),
        )
        .await;
    assert_eq!(t.status, 201, "{}", t.body);
    let key = t.body["data"]["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("uploads/documents/"), "{key}");
    let file = t.body["data"]["file"]["id"].as_str().unwrap().to_owned();
    assert_eq!(put(&t.body["data"], scan.clone()).await, 200);
    assert_eq!(checked(&api, &access, &file).await["status"], "ready");
    let (admin, _) = admin_session(&api).await;
    let path = format!("/files/{file}");
    assert_eq!(api.get_auth(&path, &admin).await.status, 404);
    // A key that is not the caller's document is refused.
    let sub = api
        .post_auth(
            "/users/profile/verification",
            &access,
            json!({"real_name": "张三丰", "id_number": gigbao_tests::fresh_id_number(), "document_keys": [format!("uploads/documents/{}/x", ulid::Ulid::new())]}),
        )
        .await;
    assert_eq!(sub.status, 422, "{}", sub.body);
    assert_eq!(sub.body["code"], "file.unknown");
    let sub = api
        .post_auth(
            "/users/profile/verification",
            &access,
            json!({"real_name": "张三丰", "id_number": gigbao_tests::fresh_id_number(), "document_keys": [key]}),
        )
        .await;
    assert_eq!(sub.status, 201, "{}", sub.body);
    // The operator reviewing it can open the document; a stranger cannot.
    let a = api.get_auth(&path, &admin).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let (status, got, _) = download(a.body["data"]["download_url"].as_str().unwrap()).await;
    assert_eq!((status, sha256(&got)), (200, sha256(&scan)));
    let (_, _, other) = api.register("waiyuan").await;
    assert_eq!(
        api.get_auth(&path, other["access"].as_str().unwrap())
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn a_chat_attachment_opens_for_the_other_participant_only() {
    let api = Api::connect();
    let c = buyer(&api, "0").await;
    let f = crate::messaging::freelancer(&api).await;
    let conv = crate::messaging::open(&api, &c, &f).await;
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
        .to_vec();
    let t = api
        .post_auth(
            &format!("/messaging/conversations/{conv}/attachments"),
            &c.access,
            json!({"content_type": "application/pdf", "content_length": pdf.len()}),
        )
        .await;
    assert_eq!(t.status, 201, "{}", t.body);
    assert_eq!(put(&t.body["data"], pdf.clone()).await, 200);
    let sent = api
        .post_auth(
            &format!("/messaging/conversations/{conv}/messages"),
            &c.access,
            json!({"message_type": "file", "content": "需求文档", "file_key": t.body["data"]["key"], "file_name": "需求说明.pdf"}),
        )
        .await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    // The freelancer opens it from the conversation.
    let page = api
        .get_auth(
            &format!("/messaging/conversations/{conv}/messages"),
            &f.access,
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let item = page.body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["message_type"] == "file")
        .cloned()
        .expect("the file message");
    assert_eq!(item["file_size"], pdf.len());
    assert_eq!(item["checksum_sha256"], sha256(&pdf));
    let (status, got, disposition) = download(item["file_url"].as_str().unwrap()).await;
    assert_eq!((status, sha256(&got)), (200, sha256(&pdf)));
    assert!(
        disposition
            .unwrap_or_default()
            .contains("filename*=UTF-8''")
    );
    // An executable uploaded as a PDF is refused when it is sent.
    let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00rest of it".to_vec();
    let t = api
        .post_auth(
            &format!("/messaging/conversations/{conv}/attachments"),
            &c.access,
            json!({"content_type": "application/pdf", "content_length": exe.len()}),
        )
        .await;
    assert_eq!(put(&t.body["data"], exe).await, 200);
    let refused = api
        .post_auth(
            &format!("/messaging/conversations/{conv}/messages"),
            &c.access,
            json!({"message_type": "file", "content": "合同", "file_key": t.body["data"]["key"], "file_name": "合同.pdf"}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.body["code"], "message.file_mismatch");
    assert!(is_chinese(refused.body["message"].as_str().unwrap()));
    // A stranger cannot list the conversation to get a link.
    let (_, _, stranger) = api.register("waiyuan").await;
    let nope = api
        .get_auth(
            &format!("/messaging/conversations/{conv}/messages"),
            stranger["access"].as_str().unwrap(),
        )
        .await;
    assert_eq!(nope.status, 404);
}

#[tokio::test]
async fn erasure_deletes_the_files_a_user_uploaded() {
    let api = Api::connect();
    let (_, password, me) = api.register("shanchu").await;
    let access = me["access"].as_str().unwrap().to_owned();
    let scan = png(200, 120);
    let t = api
        .post_auth(
            "/users/profile/verification/documents",
            &access,
            json!({"file_name": "营业执照.png", "content_type": "image/png", "content_length": scan.len()}),
        )
        .await;
    assert_eq!(t.status, 201, "{}", t.body);
    let file: shared::domain::FileId = t.body["data"]["file"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(put(&t.body["data"], scan).await, 200);
    assert_eq!(
        checked(&api, &access, &file.to_string()).await["status"],
        "ready"
    );
    let store = gigbao_tests::stack_store().await;
    let stored = store.get_file(file).await.unwrap().expect("the file item");
    let key = shared::app::files::stored_key(&stored);
    let conf = aws_sdk_s3::config::Builder::from(&gigbao_tests::aws_config().await)
        .force_path_style(true)
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(conf);
    let bucket = gigbao_tests::env("GIGBAO_MEDIA_BUCKET");
    let exists = |k: String| {
        let (s3, bucket) = (s3.clone(), bucket.clone());
        async move { s3.head_object().bucket(bucket).key(k).send().await.is_ok() }
    };
    assert!(exists(key.clone()).await);
    // WHEN the account is deleted
    let gone = api
        .send(
            api.request(reqwest::Method::DELETE, "/users/profile")
                .bearer_auth(&access)
                .json(&json!({"password": password})),
        )
        .await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    // THEN its files and their items are gone
    assert!(!exists(key.clone()).await);
    assert!(!exists(shared::app::files::preview_key(&key)).await);
    assert!(store.get_file(file).await.unwrap().is_none());
}
