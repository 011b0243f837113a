//! The avatar pipeline end to end: presigned PUT → S3 event → media queue → file-processor.

use std::time::Duration;

use serde_json::{Value, json};

use crate::Api;
use gigbao_tests::{png, put_upload as upload};

async fn ticket(api: &Api, access: &str, content_type: &str, len: usize) -> crate::Answer {
    api.post_auth(
        "/users/profile/avatar",
        access,
        json!({"content_type": content_type, "content_length": len}),
    )
    .await
}

async fn object_exists(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> bool {
    s3.head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .is_ok()
}

async fn s3() -> (aws_sdk_s3::Client, String) {
    let conf = aws_sdk_s3::config::Builder::from(&gigbao_tests::aws_config().await)
        .force_path_style(true)
        .build();
    (
        aws_sdk_s3::Client::from_conf(conf),
        gigbao_tests::env("GIGBAO_MEDIA_BUCKET"),
    )
}

#[tokio::test]
async fn an_uploaded_photo_becomes_a_500px_jpeg_avatar() {
    let api = Api::connect();
    let (_, _, data) = api.register("avatar").await;
    let access = data["access"].as_str().unwrap();
    let id = data["user"]["id"].as_str().unwrap();
    let bytes = png(900, 600);
    // GIVEN an upload ticket for exactly these bytes
    let t = ticket(&api, access, "image/png", bytes.len()).await;
    assert_eq!(t.status, 201, "{}", t.body);
    let key = t.body["data"]["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with(&format!("uploads/avatars/{id}/")));
    // WHEN the client PUTs them
    assert_eq!(upload(&t.body["data"], bytes).await, 200);
    // THEN the worker sets the avatar (within a minute, through the real queue)
    let mut avatar = Value::Null;
    for _ in 0..120 {
        avatar = api.get_auth("/users/profile", access).await.body["data"]["avatar"].clone();
        if avatar.is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let avatar = avatar
        .as_str()
        .expect("avatar set by the worker")
        .to_owned();
    assert!(
        avatar.starts_with(&format!("avatars/{id}/")) && avatar.ends_with(".jpg"),
        "{avatar}"
    );
    // AND the thumbnail is a 500×500 JPEG, and the original upload is gone
    let (s3, bucket) = s3().await;
    let got = s3
        .get_object()
        .bucket(&bucket)
        .key(&avatar)
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("image/jpeg"));
    let jpeg = got.body.collect().await.unwrap().into_bytes();
    let img = image::load_from_memory(&jpeg).unwrap();
    assert_eq!((img.width(), img.height()), (500, 500));
    assert!(!object_exists(&s3, &bucket, &key).await, "original removed");
    // AND the public profile shows it, with a URL that answers the picture to anyone
    let public = api.get(&format!("/users/{id}")).await.body["data"].clone();
    assert_eq!(public["avatar"], avatar.as_str());
    let url = public["avatar_url"]
        .as_str()
        .expect("avatar_url")
        .to_owned();
    assert!(url.ends_with(&avatar), "{url}");
    let served = reqwest::get(&url).await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(
        image::load_from_memory(&served.bytes().await.unwrap())
            .unwrap()
            .width(),
        500
    );
    // AND a second avatar replaces the first, which is deleted
    let t = ticket(&api, access, "image/png", png(300, 300).len()).await;
    assert_eq!(upload(&t.body["data"], png(300, 300)).await, 200);
    let mut replaced = false;
    for _ in 0..120 {
        let now = api.get_auth("/users/profile", access).await.body["data"]["avatar"].clone();
        if now.as_str().is_some_and(|a| a != avatar) && !object_exists(&s3, &bucket, &avatar).await
        {
            replaced = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(replaced, "the new avatar is set and the old one deleted");
}

#[tokio::test]
async fn a_file_that_is_not_an_image_is_rejected_and_removed() {
    let api = Api::connect();
    let (_, _, data) = api.register("notimg").await;
    let access = data["access"].as_str().unwrap();
    let id: shared::domain::UserId = data["user"]["id"].as_str().unwrap().parse().unwrap();
    // The settings page is open: the rejection is pushed to it like every other notice.
    let mut page = super::messaging::socket(access).await;
    let bytes = b"<?php system($_GET['c']); ?> pretending to be a PNG".to_vec();
    let t = ticket(&api, access, "image/png", bytes.len()).await;
    assert_eq!(upload(&t.body["data"], bytes).await, 200);
    let key = t.body["data"]["key"].as_str().unwrap().to_owned();
    let (s3, bucket) = s3().await;
    let store = gigbao_tests::stack_store().await;
    let mut notified = false;
    for _ in 0..120 {
        let notes = store.list_notifications(id, 10).await.unwrap();
        notified = notes
            .iter()
            .any(|n| n.notification_type == "avatar_rejected");
        if notified && !object_exists(&s3, &bucket, &key).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(notified, "the owner is told");
    let pushed =
        super::messaging::next_push(&mut page, "notification", Duration::from_secs(10), |n| {
            n["notification_type"] == "avatar_rejected"
        })
        .await
        .expect("the rejection is pushed to the open page");
    assert_eq!(pushed["title_zh"], "头像未通过");
    assert!(
        !object_exists(&s3, &bucket, &key).await,
        "the upload is deleted"
    );
    let profile = api.get_auth("/users/profile", access).await;
    assert!(profile.body["data"]["avatar"].is_null());
}

#[tokio::test]
async fn oversized_wrong_type_and_mismatched_uploads_are_refused() {
    let api = Api::connect();
    let (_, _, data) = api.register("bigimg").await;
    let access = data["access"].as_str().unwrap();
    let big = ticket(&api, access, "image/jpeg", 5 * 1024 * 1024 + 1).await;
    assert_eq!(big.status, 413, "{}", big.body);
    assert_eq!(big.body["code"], "upload.too_large");
    let svg = ticket(&api, access, "image/svg+xml", 1000).await;
    assert_eq!(svg.status, 422);
    assert!(svg.body["errors"]["content_type"].is_array());
    // A ticket for 1 000 bytes does not take 2 000: the length is signed, so S3 refuses it.
    let t = ticket(&api, access, "image/png", 1000).await;
    assert_eq!(t.status, 201);
    let status = reqwest::Client::new()
        .put(t.body["data"]["upload_url"].as_str().unwrap())
        .header("content-type", "image/png")
        .body(vec![0u8; 2000])
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 403);
    let no_auth = api
        .post(
            "/users/profile/avatar",
            json!({"content_type": "image/png", "content_length": 10}),
        )
        .await;
    assert_eq!(no_auth.status, 401);
}
