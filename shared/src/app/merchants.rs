//! Sellers' sub-merchant accounts at the split channel (微信支付 电商收付通 二级商户进件). A verified
//! seller applies with their identity card images (two of their 实名认证 documents) and the bank
//! card their money settles to; their legal name and identity number come from the sealed
//! verification, opened only here. WeChat Pay decides; `order-timers` asks where the
//! application stands until it is settled, and from then on the seller's orders paid by WeChat
//! Pay go into their own account.

use chrono::{DateTime, Utc};
use tracing::instrument;

use crate::crypto::PiiVault;
use crate::domain::file::Purpose;
use crate::domain::identity::SealedIdentity;
use crate::domain::split::{APPLYMENT_CHECK_EVERY, SubMerchant, SubMerchantStatus};
use crate::domain::{User, VerificationStatus};
use crate::files::{Fetched, Files};
use crate::payments::{Applyment, GatewayError, Gateways, PaymentProvider};
use crate::store::{Store, StoreError};

/// WeChat Pay takes images of at most 2 MB.
const MAX_IMAGE_BYTES: u64 = 2 * 1024 * 1024;

/// What the seller sends.
#[derive(Debug, Clone)]
pub struct Application {
    /// Upload keys of two of the documents of the seller's approved verification.
    pub id_card_front: String,
    pub id_card_back: String,
    pub id_card_valid_from: String,
    pub id_card_valid_until: String,
    pub account_bank: String,
    pub bank_address_code: String,
    pub account_number: String,
    pub store_name: String,
    pub merchant_shortname: String,
    /// The seller's public page (`sales_scene_info.store_url`).
    pub store_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MerchantError {
    #[error("only sellers open a merchant account")]
    NotSeller,
    #[error("实名认证 first")]
    NotVerified,
    #[error("a phone number is needed")]
    NoPhone,
    #[error("the split channel is not available")]
    Unavailable,
    #[error("already a sub-merchant, or an application is under review")]
    Exists(SubMerchantStatus),
    #[error("not one of the documents of the approved verification: {0}")]
    NotADocument(String),
    #[error("WeChat Pay takes JPEG, PNG or BMP images of at most 2 MB: {0}")]
    Image(String),
    #[error("WeChat Pay refused the application: {0}")]
    Refused(String),
    #[error(transparent)]
    Gateway(GatewayError),
    #[error(transparent)]
    Files(#[from] super::files::FileError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl From<GatewayError> for MerchantError {
    fn from(e: GatewayError) -> MerchantError {
        match e {
            GatewayError::Rejected { code, message } => {
                MerchantError::Refused(format!("{code}: {message}"))
            }
            other => MerchantError::Gateway(other),
        }
    }
}

/// Reads one document image for WeChat Pay: `(bytes, filename, content type)`.
async fn image(
    files: &Files,
    f: &crate::domain::file::StoredFile,
    name: &str,
) -> Result<(Vec<u8>, String, String), MerchantError> {
    let ext = match f.content_type.as_str() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/bmp" => "bmp",
        _ => return Err(MerchantError::Image(f.name.clone())),
    };
    match files
        .get(&super::files::stored_key(f), MAX_IMAGE_BYTES)
        .await
        .map_err(|e| MerchantError::Internal(e.to_string()))?
    {
        Fetched::Bytes(bytes) => Ok((bytes, format!("{name}.{ext}"), f.content_type.clone())),
        Fetched::TooLarge(_) => Err(MerchantError::Image(f.name.clone())),
        Fetched::Missing => Err(MerchantError::NotADocument(f.name.clone())),
    }
}

/// `sub-merchant-apply`: submits (or corrects, after a rejection) the seller's application.
#[instrument(skip_all, fields(user_id = %user.id), err)]
pub async fn apply(
    store: &Store,
    vault: &PiiVault,
    (files, gateways): (&Files, &Gateways),
    user: &User,
    a: Application,
    now: DateTime<Utc>,
) -> Result<SubMerchant, MerchantError> {
    if !user.is_seller() {
        return Err(MerchantError::NotSeller);
    }
    let channel: &PaymentProvider = gateways
        .split_channel
        .as_ref()
        .ok_or(MerchantError::Unavailable)?;
    let verification = user
        .verification
        .as_ref()
        .filter(|v| user.is_verified && v.status == VerificationStatus::Approved)
        .ok_or(MerchantError::NotVerified)?;
    let phone = user.phone.as_ref().ok_or(MerchantError::NoPhone)?;
    let existing = store.get_sub_merchant(user.id).await?;
    if let Some(m) = &existing
        && m.status != SubMerchantStatus::Rejected
    {
        return Err(MerchantError::Exists(m.status));
    }
    let id = verification
        .id
        .parse()
        .map_err(|_| MerchantError::Internal("verification id".into()))?;
    let record = store
        .get_verification(id)
        .await?
        .ok_or(MerchantError::NotVerified)?;
    for key in [&a.id_card_front, &a.id_card_back] {
        if !record.document_keys.contains(key) {
            return Err(MerchantError::NotADocument(key.clone()));
        }
    }
    let identity = vault
        .open(&record.sealed_identity, &record.pk)
        .ok()
        .and_then(|json| SealedIdentity::from_json(&json))
        .ok_or_else(|| MerchantError::Internal("the verification does not open".into()))?;
    let docs = super::files::ready_files(
        store,
        user.id,
        None,
        Purpose::Document,
        &[a.id_card_front.clone(), a.id_card_back.clone()],
    )
    .await?;
    let (Some(front), Some(back)) = (docs.first(), docs.get(1)) else {
        return Err(MerchantError::NotADocument(a.id_card_back));
    };
    let mut media = Vec::with_capacity(2);
    for (f, name) in [(front, "id-card-front"), (back, "id-card-back")] {
        let (bytes, filename, content_type) = image(files, f, name).await?;
        media.push(
            channel
                .upload_image(&bytes, &filename, &content_type)
                .await?,
        );
    }
    let out_request_no = SubMerchant::request_no(user.id);
    let applyment_id = channel
        .apply(&Applyment {
            out_request_no: out_request_no.clone(),
            id_card_front_media: media.first().cloned().unwrap_or_default(),
            id_card_back_media: media.get(1).cloned().unwrap_or_default(),
            real_name: identity.real_name,
            id_number: identity.id_number,
            id_card_valid_from: a.id_card_valid_from,
            id_card_valid_until: a.id_card_valid_until,
            account_bank: a.account_bank,
            bank_address_code: a.bank_address_code,
            account_number: a.account_number,
            mobile_phone: phone.as_str().to_owned(),
            email: user.email.as_ref().map(|e| e.as_str().to_owned()),
            store_name: a.store_name,
            store_url: a.store_url,
            merchant_shortname: a.merchant_shortname.clone(),
        })
        .await?;
    let m = SubMerchant {
        user_id: user.id,
        out_request_no,
        applyment_id: Some(applyment_id),
        status: SubMerchantStatus::Reviewing,
        sub_mchid: None,
        sign_url: None,
        reason: None,
        shortname: a.merchant_shortname,
        submitted_at: now,
        updated_at: now,
        next_check_at: Some(now + APPLYMENT_CHECK_EVERY),
        version: existing.as_ref().map_or(1, |e| e.version + 1),
    };
    if !store
        .put_sub_merchant(&m, existing.as_ref().map(|e| e.version))
        .await?
    {
        // A twin request got there first; WeChat Pay holds one application under the number.
        return store
            .get_sub_merchant(user.id)
            .await?
            .ok_or(MerchantError::Exists(SubMerchantStatus::Reviewing));
    }
    tracing::info!("sub-merchant application submitted");
    Ok(m)
}

/// Asks WeChat Pay about `m` and records the answer; the record as it now stands.
pub async fn check(
    store: &Store,
    gateways: &Gateways,
    m: &SubMerchant,
    now: DateTime<Utc>,
) -> Result<SubMerchant, MerchantError> {
    let channel = gateways
        .split_channel
        .as_ref()
        .ok_or(MerchantError::Unavailable)?;
    let Some(state) = channel.applyment_state(&m.out_request_no).await? else {
        return Ok(m.clone());
    };
    let next = m.answered(state, now);
    if store.put_sub_merchant(&next, Some(m.version)).await? {
        tracing::info!(user_id = %m.user_id, status = ?next.status, "sub-merchant application answered");
        Ok(next)
    } else {
        Ok(store.get_sub_merchant(m.user_id).await?.unwrap_or(next))
    }
}

/// Asks about every application due at `now` (at most 20 a run); how many changed status.
pub async fn check_due(
    store: &Store,
    gateways: &Gateways,
    now: DateTime<Utc>,
) -> Result<u32, StoreError> {
    if gateways.split_channel.is_none() {
        return Ok(0);
    }
    let mut changed = 0;
    for m in store.due_sub_merchants(now, 20).await? {
        match check(store, gateways, &m, now).await {
            Ok(next) if next.status != m.status => changed += 1,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(user_id = %m.user_id, error = %e, "sub-merchant application not checked");
            }
        }
    }
    Ok(changed)
}
