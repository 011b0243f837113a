use chrono::Utc;
use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::OwnUserView;
use super::common::client_info;
use super::session::signed_in;
use super::uploads::{UploadView, media_files, upload_request};
use super::views::SignedInView;
use super::views::{PublicUserView, SubMerchantView, VerificationSummaryView, user_not_found};
use crate::app::avatar::{self, AvatarError};
use crate::app::merchants::{self, Application, MerchantError};
use crate::app::payments::PaymentError;
use crate::app::sessions::{self, PhoneProof, SessionsError};
use crate::app::users::{self, ProfileUpdateError};
use crate::app::verification::{self, Submission, VerificationError};
use crate::deps::Deps;
use crate::domain::file::MAX_DOCUMENTS;
use crate::domain::profile::{Education, Language, PatchError, ProfileFields, ProfilePatch};
use crate::domain::split::SubMerchantStatus;
use crate::domain::{IdNumber, Money, Phone, RealName, SessionId, UserId};
use crate::field::{Field, Others};
use crate::http::route as r;
use crate::http::{ApiError, FieldErrors, Reply, json_body, path_id};
use crate::i18n::Text;
use crate::media::MAX_AVATAR_BYTES;

/// `GET /users/profile` [user-profile-get]: the caller's own user and profile.
pub async fn profile_get(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, user) = signed_in(deps, &req).await?;
    let mut view = OwnUserView::from(&user);
    if user.is_seller() {
        view.sub_merchant = deps
            .store
            .get_sub_merchant(user.id)
            .await
            .map_err(ApiError::internal)?
            .as_ref()
            .map(SubMerchantView::from);
    }
    Ok(Reply::ok(Text::new("成功", "OK"), view))
}

impl From<ProfileUpdateError> for ApiError {
    fn from(e: ProfileUpdateError) -> ApiError {
        match e {
            ProfileUpdateError::Patch(PatchError::ReadOnly(fields)) => {
                let mut err = ApiError::bad_request(
                    "profile.read_only_field",
                    Text::new(
                        "包含不可修改的字段（评分、评价数、认证状态等由平台计算）",
                        "Some fields cannot be written (rating, review counts, verification and the like are computed by the platform)",
                    ),
                );
                for f in fields {
                    err =
                        err.with_field(&f, Text::new("此字段不可修改", "This field is read-only"));
                }
                err
            }
            ProfileUpdateError::Patch(PatchError::Unknown(fields)) => {
                let mut err = ApiError::bad_request(
                    "profile.unknown_field",
                    Text::new(
                        "包含该类型账号资料中不存在的字段",
                        "Some fields do not exist on this kind of profile",
                    ),
                );
                for f in fields {
                    err = err.with_field(&f, Text::new("未知字段", "Unknown field"));
                }
                err
            }
            ProfileUpdateError::Patch(PatchError::Invalid(fields)) => {
                let mut errors = FieldErrors::new();
                for (f, t) in fields {
                    errors.add(&f, t);
                }
                ApiError::validation(errors)
            }
            ProfileUpdateError::Patch(PatchError::Empty) => ApiError::bad_request(
                "profile.empty_patch",
                Text::new(
                    "请至少提供一个要修改的字段",
                    "Send at least one field to change",
                ),
            ),
            ProfileUpdateError::Conflict => ApiError::conflict(
                "profile.conflict",
                Text::new(
                    "资料已被其他请求修改，请刷新后重试",
                    "The profile changed meanwhile; reload and try again",
                ),
            ),
            ProfileUpdateError::AlreadySeller => ApiError::conflict(
                "profile.seller_already_open",
                Text::new("你已开通卖家资料", "You already have a seller profile"),
            ),
            ProfileUpdateError::AdminCannotSell => ApiError::forbidden(
                "profile.admin_cannot_sell",
                Text::new("运营账号不能开通卖家资料", "Operator accounts cannot sell"),
            ),
            ProfileUpdateError::Store(e) => ApiError::internal(e),
        }
    }
}

/// `PATCH /users/profile` [user-profile-update]: the seed's profile fields; computed and
/// identity fields are refused with 400 `profile.read_only_field`.
pub async fn profile_update(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let patch: ProfilePatch = json_body(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let user = users::update_profile(&deps.store, user, patch, Utc::now()).await?;
    Ok(Reply::ok(
        Text::new("资料已更新", "Profile updated"),
        OwnUserView::from(&user),
    ))
}

/// `POST /users/profile/seller`: the seed's freelancer fields a seller profile opens with.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({
    "bio": "十年品牌设计经验，擅长 logo 与 VI 设计",
    "skills": ["logo-design", "vi-design"],
    "hourly_rate": "300.00",
    "location": "杭州",
    "experience_years": 10
}))]
pub(crate) struct SellerProfileRequest {
    /// What the seller does and their experience (1–2,000 characters).
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 2000)]
    bio: Field<String>,
    /// 1–30 skills, 1–50 characters each.
    #[serde(default)]
    #[schema(value_type = Vec<String>, required = true, min_items = 1, max_items = 30)]
    skills: Field<Vec<String>>,
    /// 1.00–10,000.00.
    #[serde(default)]
    #[schema(value_type = Option<Money>)]
    hourly_rate: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 200)]
    portfolio_url: Field<String>,
    /// A linkedin.com address.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 200)]
    linkedin_url: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    wechat_id: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 200)]
    location: Field<String>,
    /// At most 10.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Language>>, max_items = 10)]
    languages: Field<Vec<Language>>,
    /// At most 10.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Education>>, max_items = 10)]
    education: Field<Vec<Education>>,
    /// 0–60.
    #[serde(default)]
    #[schema(value_type = Option<u32>, minimum = 0, maximum = 60)]
    experience_years: Field<u64>,
    /// Names the body has that a seller profile does not (refused by name).
    #[serde(flatten)]
    #[schema(ignore)]
    other: Others,
}

impl From<SellerProfileRequest> for ProfilePatch {
    fn from(r: SellerProfileRequest) -> ProfilePatch {
        ProfilePatch {
            fields: ProfileFields {
                bio: r.bio,
                skills: r.skills,
                hourly_rate: r.hourly_rate,
                portfolio_url: r.portfolio_url,
                linkedin_url: r.linkedin_url,
                wechat_id: r.wechat_id,
                location: r.location,
                languages: r.languages,
                education: r.education,
                experience_years: r.experience_years,
                other: r.other,
                ..ProfileFields::default()
            },
            ..ProfilePatch::default()
        }
    }
}

/// `POST /users/profile/seller` [user-seller-enable]: a buyer opens a seller profile on the
/// same account → 201 with the account, now with the `seller` role (purchases, wallet and
/// reviews stay). 409 when it sells already.
pub async fn seller_enable(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let body: SellerProfileRequest = json_body(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let user = users::open_seller(&deps.store, user, body.into(), Utc::now()).await?;
    Ok(Reply::created(
        Text::new(
            "卖家资料已开通，可以发布服务了",
            "Seller profile opened; you can now sell services",
        ),
        OwnUserView::from(&user),
    ))
}

/// `GET /users/{user_id}` [user-get]: the public profile.
pub async fn get(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id: UserId = path_id(&req, "user_id", user_not_found)?;
    let user = users::public_profile(&deps.store, id)
        .await?
        .ok_or_else(user_not_found)?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        PublicUserView::from(&user),
    ))
}

impl From<AvatarError> for ApiError {
    fn from(e: AvatarError) -> ApiError {
        match e {
            AvatarError::ContentType => ApiError::validation({
                let mut f = FieldErrors::new();
                f.add(
                    "content_type",
                    Text::new(
                        "头像须为 JPEG、PNG、WebP 或 GIF 图片",
                        "The avatar must be a JPEG, PNG, WebP or GIF image",
                    ),
                );
                f
            }),
            AvatarError::TooLarge(_) => ApiError::new(
                lambda_http::http::StatusCode::PAYLOAD_TOO_LARGE,
                "upload.too_large",
                Text::new(
                    "头像图片不能超过 5 MB",
                    "The avatar image must be at most 5 MB",
                ),
            ),
            AvatarError::Empty => ApiError::validation({
                let mut f = FieldErrors::new();
                f.add(
                    "content_length",
                    Text::new("文件不能为空", "The file is empty"),
                );
                f
            }),
            AvatarError::RateLimited(s) => ApiError::rate_limited(s),
            AvatarError::Files(e) => ApiError::internal(e),
            AvatarError::Store(e) => ApiError::internal(e),
        }
    }
}

/// `POST /users/profile/avatar` [user-avatar-upload]: `{content_type, content_length}` → a
/// presigned PUT for exactly that many bytes (≤ 5 MB) of that image type.
pub async fn avatar_upload(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (content_type, content_length) = upload_request(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let ticket = avatar::start_upload(
        &deps.store,
        &media_files(deps)?,
        &user,
        &content_type,
        content_length,
        Utc::now(),
    )
    .await?;
    Ok(Reply::created(
        Text::new(
            "请在 10 分钟内上传图片",
            "Upload the image within 10 minutes",
        ),
        UploadView::of(ticket, MAX_AVATAR_BYTES),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct VerificationRequest {
    #[schema(required = true, nullable = false)]
    real_name: Option<String>,
    #[schema(required = true, nullable = false)]
    id_number: Option<String>,
    #[serde(default)]
    document_keys: Vec<String>,
}

impl From<VerificationError> for ApiError {
    fn from(e: VerificationError) -> ApiError {
        match e {
            VerificationError::AlreadyVerified => ApiError::conflict(
                "verification.already_verified",
                Text::new("您已完成实名认证", "You are already verified"),
            ),
            VerificationError::Pending => ApiError::conflict(
                "verification.pending",
                Text::new(
                    "您的实名认证正在审核中",
                    "Your verification is already being reviewed",
                ),
            ),
            VerificationError::IdInUse => ApiError::conflict(
                "verification.id_number_in_use",
                Text::new(
                    "该身份证号已用于其他账号的实名认证",
                    "This ID number is already used to verify another account",
                ),
            ),
            VerificationError::RateLimited(s) => ApiError::rate_limited(s),
            VerificationError::NotFound => ApiError::not_found(
                "verification.not_found",
                Text::new("认证申请不存在", "No such verification"),
            ),
            VerificationError::AlreadyReviewed => ApiError::conflict(
                "verification.already_reviewed",
                Text::new(
                    "该申请已审核",
                    "This verification has already been reviewed",
                ),
            ),
            VerificationError::Conflict => ApiError::conflict(
                "verification.conflict",
                Text::new(
                    "数据已被其他请求修改，请重试",
                    "Changed by another request; try again",
                ),
            ),
            VerificationError::Store(e) => ApiError::internal(e),
            VerificationError::Files(e) => e.into(),
            VerificationError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// `POST /users/profile/verification` [user-verification-submit]: 实名认证 →
/// 201 with the masked summary.
pub async fn verification_submit(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let body: VerificationRequest = json_body(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let mut errors = FieldErrors::new();
    let real_name = errors
        .required("real_name", body.real_name.as_deref())
        .and_then(|n| errors.check("real_name", RealName::parse(n)));
    let id_number = errors
        .required("id_number", body.id_number.as_deref())
        .and_then(|n| errors.check("id_number", IdNumber::parse(n)));
    if body.document_keys.len() > MAX_DOCUMENTS {
        errors.add(
            "document_keys",
            Text::new(
                "证件文件最多 4 个，须先通过 /users/profile/verification/documents 上传",
                "At most 4 documents, each uploaded through /users/profile/verification/documents first",
            ),
        );
    }
    errors.finish()?;
    let (Some(real_name), Some(id_number)) = (real_name, id_number) else {
        return Err(ApiError::internal("required field vanished"));
    };
    let vault = deps
        .pii
        .as_ref()
        .ok_or_else(|| ApiError::internal("PII_SECRET_ID is not configured"))?;
    let summary = verification::submit(
        &deps.store,
        vault,
        user,
        Submission {
            real_name,
            id_number,
            document_keys: body.document_keys,
        },
        Utc::now(),
    )
    .await?;
    Ok(Reply::created(
        Text::new(
            "已提交实名认证，请等待审核",
            "Submitted; we will review it shortly",
        ),
        VerificationSummaryView::from(&summary),
    ))
}

/// This module's routes: what each of its handlers takes and answers (`api::openapi`
/// assembles them into the document).
pub(crate) fn routes() -> Vec<r::Route> {
    use r::Access::*;
    vec![
        r::route(
            "GET",
            "/users/profile",
            "user-profile-get",
            User,
            "users",
            "我的账号 / My account",
        )
        .ok(r::one::<crate::api::views::OwnUserView>),
        r::route(
            "PATCH",
            "/users/profile",
            "user-profile-update",
            User,
            "users",
            "修改资料 / Update my profile",
        )
        .body(r::one::<ProfilePatch>)
        .ok(r::one::<crate::api::views::OwnUserView>)
        .errors(&[409]),
        r::route(
            "POST",
            "/users/profile/avatar",
            "user-avatar-upload",
            User,
            "users",
            "上传头像 / Upload an avatar",
        )
        .body(r::one::<crate::api::uploads::UploadRequest>)
        .created(r::one::<crate::api::uploads::UploadView>),
        r::route(
            "POST",
            "/users/profile/verification",
            "user-verification-submit",
            User,
            "users",
            "提交实名认证 / Submit 实名认证",
        )
        .body(r::one::<VerificationRequest>)
        .created(r::one::<crate::api::views::VerificationSummaryView>)
        .errors(&[409]),
        r::route(
            "POST",
            "/users/profile/sub-merchant",
            "sub-merchant-apply",
            User,
            "users",
            "申请微信支付收款商户号（电商收付通）/ Apply for a WeChat Pay merchant account (split payments)",
        )
        .body(r::one::<SubMerchantRequest>)
        .created(r::one::<SubMerchantView>)
        .errors(&[403, 409, 503]),
        r::route(
            "POST",
            "/users/profile/seller",
            "user-seller-enable",
            User,
            "users",
            "开通卖家资料 / Open a seller profile",
        )
        .body(r::one::<SellerProfileRequest>)
        .created(r::one::<crate::api::views::OwnUserView>)
        .errors(&[403, 409]),
        r::route(
            "POST",
            "/users/profile/password",
            "user-password-change",
            User,
            "users",
            "修改密码 / Change my password",
        )
        .body(r::one::<PasswordChangeRequest>)
        .ok(r::one::<SignedInView>),
        r::route(
            "POST",
            "/users/profile/phone",
            "user-phone-change",
            User,
            "users",
            "更换手机号 / Change my phone number",
        )
        .body(r::one::<PhoneChangeRequest>)
        .ok(r::one::<crate::api::views::OwnUserView>)
        .errors(&[409]),
        r::route(
            "GET",
            "/users/profile/sessions",
            "user-sessions",
            User,
            "users",
            "我的登录设备 / My signed-in devices",
        )
        .ok(r::list::<SessionView>),
        r::route(
            "DELETE",
            "/users/profile/sessions/{session_id}",
            "user-session-revoke",
            User,
            "users",
            "退出某台设备 / Sign a device out",
        )
        .out(r::Out::NoContent),
        r::route(
            "GET",
            "/users/{user_id}",
            "user-get",
            Public,
            "users",
            "用户公开资料 / A public profile",
        )
        .ok(r::one::<crate::api::views::PublicUserView>),
    ]
}

/// A seller's application for a sub-merchant account at the split channel (微信支付 电商收付通,
/// as a 小微商户). The legal name and identity number come from the approved 实名认证.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({
    "id_card_front": "uploads/documents/01JDQ8T0B4M7Y9J3V8W2K5N6QF/01JDQ8T3ZC1V2B3N4M5K6J7H8G",
    "id_card_back": "uploads/documents/01JDQ8T0B4M7Y9J3V8W2K5N6QF/01JDQ8T4AB1C2D3E4F5G6H7J8K",
    "id_card_valid_from": "2019-06-01", "id_card_valid_until": "2039-06-01",
    "account_bank": "工商银行", "bank_address_code": "110000",
    "account_number": "6222020200112233445", "store_name": "小王设计工作室",
    "merchant_shortname": "小王设计"
}))]
pub(crate) struct SubMerchantRequest {
    /// The upload key of the identity card's front, one of the verification's documents.
    #[schema(required = true, nullable = false, min_length = 1, max_length = 200)]
    id_card_front: Option<String>,
    /// The upload key of the identity card's back (国徽面).
    #[schema(required = true, nullable = false, min_length = 1, max_length = 200)]
    id_card_back: Option<String>,
    /// `YYYY-MM-DD`.
    #[schema(required = true, nullable = false, pattern = r"^\d{4}-\d{2}-\d{2}$")]
    id_card_valid_from: Option<String>,
    /// `YYYY-MM-DD`, or `长期` for a card without an end date.
    #[schema(
        required = true,
        nullable = false,
        pattern = r"^(\d{4}-\d{2}-\d{2}|长期)$"
    )]
    id_card_valid_until: Option<String>,
    /// The bank as WeChat Pay names it (`工商银行`, `招商银行` …).
    #[schema(required = true, nullable = false, min_length = 2, max_length = 40)]
    account_bank: Option<String>,
    /// The 6-digit code of the account branch's province and city.
    #[schema(required = true, nullable = false, pattern = r"^\d{6}$")]
    bank_address_code: Option<String>,
    /// The seller's own bank card (in their legal name).
    #[schema(required = true, nullable = false, pattern = r"^\d{8,30}$")]
    account_number: Option<String>,
    #[schema(required = true, nullable = false, min_length = 1, max_length = 50)]
    store_name: Option<String>,
    /// What payers see on their WeChat Pay receipt.
    #[schema(required = true, nullable = false, min_length = 1, max_length = 20)]
    merchant_shortname: Option<String>,
}

/// Checks a field the request type bounds: `Some(value)` when present and within `ok`.
fn bounded<'a>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<&'a str>,
    ok: impl Fn(&str) -> bool,
    rule: Text,
) -> Option<&'a str> {
    let v = errors.required(field, value)?;
    if ok(v) {
        Some(v)
    } else {
        errors.add(field, rule);
        None
    }
}

fn is_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() && s.len() == 10
}

fn digits(s: &str, lengths: std::ops::RangeInclusive<usize>) -> bool {
    lengths.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

fn chars(s: &str, lengths: std::ops::RangeInclusive<usize>) -> bool {
    !s.trim().is_empty() && lengths.contains(&s.chars().count())
}

impl From<MerchantError> for ApiError {
    fn from(e: MerchantError) -> ApiError {
        let unprocessable =
            |code, text| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, text);
        match e {
            MerchantError::NotSeller => ApiError::forbidden(
                "sub_merchant.sellers_only",
                Text::new(
                    "只有卖家可以开通收款商户号",
                    "Only sellers open a merchant account",
                ),
            ),
            MerchantError::NotVerified => unprocessable(
                "sub_merchant.not_verified",
                Text::new(
                    "请先完成实名认证",
                    "Complete identity verification (实名认证) first",
                ),
            ),
            MerchantError::NoPhone => unprocessable(
                "sub_merchant.phone_required",
                Text::new("请先绑定手机号", "Add a phone number to your account first"),
            ),
            MerchantError::Unavailable => unprocessable(
                "payment.split_unavailable",
                Text::new(
                    "本平台暂未开通微信支付分账收款",
                    "This platform does not take split payments through WeChat Pay",
                ),
            ),
            MerchantError::Exists(status) => ApiError::conflict(
                "sub_merchant.exists",
                match status {
                    SubMerchantStatus::Active => Text::new(
                        "你已开通收款商户号",
                        "Your merchant account is already active",
                    ),
                    _ => Text::new("你的申请正在处理中", "Your application is being processed"),
                },
            ),
            MerchantError::NotADocument(_) => unprocessable(
                "sub_merchant.not_a_document",
                Text::new(
                    "身份证照片须为已通过实名认证时上传的证件",
                    "The identity card images must be documents of your approved 实名认证",
                ),
            )
            .with_field(
                "id_card_front",
                Text::new(
                    "不是实名认证的证件",
                    "Not one of your verification documents",
                ),
            ),
            MerchantError::Image(_) => unprocessable(
                "sub_merchant.image",
                Text::new(
                    "身份证照片须为 2 MB 以内的 JPG、PNG 或 BMP 图片",
                    "Identity card images must be JPEG, PNG or BMP of at most 2 MB",
                ),
            ),
            MerchantError::Refused(reason) => unprocessable(
                "sub_merchant.refused",
                Text::owned(
                    format!("微信支付拒绝了申请：{reason}"),
                    format!("WeChat Pay refused the application: {reason}"),
                ),
            ),
            MerchantError::Gateway(g) => PaymentError::Gateway(g).into(),
            MerchantError::Files(e) => e.into(),
            MerchantError::Store(e) => ApiError::internal(e),
            MerchantError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// `POST /users/profile/sub-merchant` [sub-merchant-apply]: a seller applies for (or, after a
/// rejection, corrects) their merchant account at the split channel → 201 with its status.
pub async fn sub_merchant_apply(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let body: SubMerchantRequest = json_body(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let mut e = FieldErrors::new();
    let text = |n: usize| {
        Text::owned(
            format!("必填，最多 {n} 个字符"),
            format!("Required, at most {n} characters"),
        )
    };
    let front = bounded(
        &mut e,
        "id_card_front",
        body.id_card_front.as_deref(),
        |s| chars(s, 1..=200),
        text(200),
    );
    let back = bounded(
        &mut e,
        "id_card_back",
        body.id_card_back.as_deref(),
        |s| chars(s, 1..=200),
        text(200),
    );
    let date = || Text::new("日期格式为 YYYY-MM-DD", "A date as YYYY-MM-DD");
    let from = bounded(
        &mut e,
        "id_card_valid_from",
        body.id_card_valid_from.as_deref(),
        is_date,
        date(),
    );
    let until = bounded(
        &mut e,
        "id_card_valid_until",
        body.id_card_valid_until.as_deref(),
        |s| s == "长期" || is_date(s),
        Text::new("日期（YYYY-MM-DD）或“长期”", "A date (YYYY-MM-DD) or 长期"),
    );
    let bank = bounded(
        &mut e,
        "account_bank",
        body.account_bank.as_deref(),
        |s| chars(s, 2..=40),
        text(40),
    );
    let code = bounded(
        &mut e,
        "bank_address_code",
        body.bank_address_code.as_deref(),
        |s| digits(s, 6..=6),
        Text::new("6 位省市编码", "The 6-digit province and city code"),
    );
    let account = bounded(
        &mut e,
        "account_number",
        body.account_number.as_deref(),
        |s| digits(s, 8..=30),
        Text::new(
            "8 到 30 位数字的银行卡号",
            "A bank card number of 8 to 30 digits",
        ),
    );
    let store = bounded(
        &mut e,
        "store_name",
        body.store_name.as_deref(),
        |s| chars(s, 1..=50),
        text(50),
    );
    let short = bounded(
        &mut e,
        "merchant_shortname",
        body.merchant_shortname.as_deref(),
        |s| chars(s, 1..=20),
        text(20),
    );
    e.finish()?;
    let (
        Some(front),
        Some(back),
        Some(from),
        Some(until),
        Some(bank),
        Some(code),
        Some(account),
        Some(store),
        Some(short),
    ) = (front, back, from, until, bank, code, account, store, short)
    else {
        return Err(ApiError::internal("required field vanished"));
    };
    let vault = deps
        .pii
        .as_ref()
        .ok_or_else(|| ApiError::internal("PII_SECRET_ID is not configured"))?;
    let m = merchants::apply(
        &deps.store,
        vault,
        (&media_files(deps)?, &deps.gateways),
        &user,
        Application {
            id_card_front: front.to_owned(),
            id_card_back: back.to_owned(),
            id_card_valid_from: from.to_owned(),
            id_card_valid_until: until.to_owned(),
            account_bank: bank.trim().to_owned(),
            bank_address_code: code.to_owned(),
            account_number: account.to_owned(),
            store_name: store.trim().to_owned(),
            merchant_shortname: short.trim().to_owned(),
            store_url: format!(
                "{}/users/{}",
                deps.config.app_base_url.trim_end_matches('/'),
                user.id
            ),
        },
        Utc::now(),
    )
    .await?;
    Ok(Reply::created(
        Text::new(
            "已提交微信支付商户号申请，审核结果会显示在你的资料中",
            "Submitted to WeChat Pay; the outcome shows on your profile",
        ),
        SubMerchantView::from(&m),
    ))
}

// ---------------------------------------------------------------------------------------------
// Password and sessions

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"current_password": "Sheji-2026-safe", "new_password": "Xinmima-2026-anquan"}))]
pub(crate) struct PasswordChangeRequest {
    #[schema(required = true, nullable = false)]
    current_password: Option<String>,
    /// 8 to 128 characters, not the username, not a common password.
    #[schema(required = true, nullable = false)]
    new_password: Option<String>,
}

impl From<SessionsError> for ApiError {
    fn from(e: SessionsError) -> ApiError {
        let unprocessable =
            |code, text| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, text);
        match e {
            SessionsError::RateLimited(s) => ApiError::rate_limited(s),
            SessionsError::NoPassword => unprocessable(
                "password.not_set",
                Text::new(
                    "你的账号还没有设置密码，请使用“忘记密码”设置",
                    "Your account has no password yet: set one through password reset",
                ),
            ),
            SessionsError::WrongPassword => unprocessable(
                "password.wrong",
                Text::new("当前密码不正确", "The current password is wrong"),
            )
            .with_field(
                "current_password",
                Text::new("当前密码不正确", "Wrong password"),
            ),
            SessionsError::Unchanged => unprocessable(
                "password.unchanged",
                Text::new(
                    "新密码不能与当前密码相同",
                    "The new password is the current one",
                ),
            )
            .with_field(
                "new_password",
                Text::new("与当前密码相同", "Same as the current password"),
            ),
            SessionsError::Weak(text) => {
                let mut errors = FieldErrors::new();
                errors.add("new_password", text);
                ApiError::validation(errors)
            }
            SessionsError::NotFound => session_not_found(),
            SessionsError::SamePhone => unprocessable(
                "phone.unchanged",
                Text::new(
                    "新手机号与当前手机号相同",
                    "The new number is your current one",
                ),
            )
            .with_field(
                "new_phone",
                Text::new("与当前手机号相同", "Same as the current number"),
            ),
            SessionsError::PhoneTaken => ApiError::conflict(
                "phone.taken",
                Text::new(
                    "该手机号已绑定其他账号",
                    "This number belongs to another account",
                ),
            )
            .with_field("new_phone", Text::new("已被占用", "Already taken")),
            SessionsError::Code(which, refused) => {
                let field = if which == "old" {
                    "old_code"
                } else {
                    "new_code"
                };
                let e = super::common::code_refused(refused, StatusCode::BAD_REQUEST);
                let text = e.message.clone();
                e.with_field(field, text)
            }
            SessionsError::Store(e) => ApiError::internal(e),
            SessionsError::Internal(e) => ApiError::internal(e),
        }
    }
}

fn session_not_found() -> ApiError {
    ApiError::not_found(
        "session.not_found",
        Text::new("没有这个登录设备", "No such session"),
    )
}

/// `POST /users/profile/password` [user-password-change]: the current password and a new one →
/// 200 with a new token pair for this device; every other device is signed out at once.
pub async fn password_change(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let body: PasswordChangeRequest = json_body(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let mut errors = FieldErrors::new();
    let current = errors.required("current_password", body.current_password.as_deref());
    let new = errors.required("new_password", body.new_password.as_deref());
    errors.finish()?;
    let (Some(current), Some(new)) = (current, new) else {
        return Err(ApiError::internal("required field vanished"));
    };
    let signed = sessions::change_password(
        &deps.store,
        &deps.keys,
        user,
        (current, new),
        &client_info(deps, &req),
        Utc::now(),
    )
    .await?;
    Ok(Reply::ok(
        Text::new(
            "密码已修改，其他设备已退出登录",
            "Password changed; every other device was signed out",
        ),
        SignedInView::from(signed),
    ))
}

/// One signed-in device as its owner sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SessionView {
    id: String,
    /// What the device is, read from its browser or app (`iPhone · 微信`, `Windows · Chrome`).
    device: String,
    user_agent: String,
    /// The address it signed in from, its last part hidden (`203.0.113.*`).
    ip: String,
    created_at: String,
    last_used_at: String,
    /// The session this request was made with.
    current: bool,
}

/// A short name for the device behind `user_agent`.
fn device_of(user_agent: &str) -> String {
    let ua = user_agent.to_ascii_lowercase();
    let system = [
        ("iphone", "iPhone"),
        ("ipad", "iPad"),
        ("android", "Android"),
        ("harmonyos", "HarmonyOS"),
        ("windows", "Windows"),
        ("macintosh", "Mac"),
        ("linux", "Linux"),
    ]
    .iter()
    .find(|(k, _)| ua.contains(k))
    .map(|(_, v)| *v);
    let app = [
        ("miniprogram", "微信小程序"),
        ("micromessenger", "微信"),
        ("alipayclient", "支付宝"),
        ("edg/", "Edge"),
        ("chrome/", "Chrome"),
        ("firefox/", "Firefox"),
        ("safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .iter()
    .find(|(k, _)| ua.contains(k))
    .map(|(_, v)| *v);
    match (system, app) {
        (Some(s), Some(a)) => format!("{s} · {a}"),
        (Some(one), None) | (None, Some(one)) => one.to_owned(),
        (None, None) => "未知设备 / Unknown device".to_owned(),
    }
}

/// `203.0.113.7` → `203.0.113.*`; `2001:db8::1` → `2001:db8:*`.
fn masked_ip(ip: &str) -> String {
    if let Some((head, _)) = ip.rsplit_once('.') {
        format!("{head}.*")
    } else if ip.contains(':') {
        let parts: Vec<&str> = ip.split(':').take(2).collect();
        format!("{}:*", parts.join(":"))
    } else {
        "*".to_owned()
    }
}

/// `GET /users/profile/sessions` [user-sessions]: the caller's signed-in devices.
pub async fn sessions_list(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (caller, user) = signed_in(deps, &req).await?;
    let live = sessions::sessions(&deps.store, &user, Utc::now()).await?;
    let views: Vec<SessionView> = live
        .iter()
        .map(|s| SessionView {
            id: s.id.to_string(),
            device: device_of(&s.user_agent),
            user_agent: s.user_agent.clone(),
            ip: masked_ip(&s.ip),
            created_at: crate::domain::rfc3339(&s.created_at),
            last_used_at: crate::domain::rfc3339(&s.last_used_at),
            current: s.id == caller.session_id,
        })
        .collect();
    Ok(Reply::ok(Text::new("成功", "OK"), views))
}

/// `DELETE /users/profile/sessions/{session_id}` [user-session-revoke]: signs one of the
/// caller's devices out (its refresh token stops working now, its access token within 15
/// minutes).
pub async fn session_revoke(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, user) = signed_in(deps, &req).await?;
    let id: SessionId = path_id(&req, "session_id", session_not_found)?;
    sessions::revoke(&deps.store, &user, id, Utc::now()).await?;
    Ok(Reply::no_content())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"new_phone": "13912345678", "new_code": "246810", "old_code": "135790"}))]
pub(crate) struct PhoneChangeRequest {
    /// The number to move to; a `change_phone` code was sent to it (`POST /auth/sms-code`).
    #[schema(required = true, nullable = false)]
    new_phone: Option<String>,
    #[schema(required = true, nullable = false)]
    new_code: Option<String>,
    /// A `change_phone` code sent to the current number; or, if that number is lost,
    /// `password` instead.
    old_code: Option<String>,
    password: Option<String>,
}

/// `POST /users/profile/phone` [user-phone-change]: moves the account to another number → 200
/// with the account; the old number is free for another account at once.
pub async fn phone_change(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let body: PhoneChangeRequest = json_body(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let mut errors = FieldErrors::new();
    let phone = errors
        .required("new_phone", body.new_phone.as_deref())
        .and_then(|p| errors.check("new_phone", Phone::parse(p)));
    let code = errors.required("new_code", body.new_code.as_deref());
    let proof = match (body.old_code.as_deref(), body.password.as_deref()) {
        (Some(code), None) if !code.trim().is_empty() => {
            Some(PhoneProof::OldCode(code.trim().to_owned()))
        }
        (None, Some(pw)) if !pw.is_empty() => Some(PhoneProof::Password(pw.to_owned())),
        // An account without a number proves nothing more than the new code.
        (None, None) if user.phone.is_none() => Some(PhoneProof::OldCode(String::new())),
        _ => {
            errors.add(
                "old_code",
                Text::new(
                    "请提供原手机号收到的验证码，或账号密码（二选一）",
                    "Give the code sent to your current number, or your password (one of them)",
                ),
            );
            None
        }
    };
    errors.finish()?;
    let (Some(phone), Some(code), Some(proof)) = (phone, code, proof) else {
        return Err(ApiError::internal("required field vanished"));
    };
    let user = sessions::change_phone(
        &deps.store,
        &deps.keys,
        user,
        (&phone, code.trim()),
        &proof,
        &client_info(deps, &req),
        Utc::now(),
    )
    .await?;
    Ok(Reply::ok(
        Text::new("手机号已更换", "Your phone number was changed"),
        OwnUserView::from(&user),
    ))
}

#[cfg(test)]
mod device_tests {
    use super::*;

    #[test]
    fn devices_are_named_and_addresses_masked() {
        assert_eq!(
            device_of(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN miniProgram"
            ),
            "iPhone · 微信小程序"
        );
        assert_eq!(
            device_of(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
            ),
            "Windows · Chrome"
        );
        assert_eq!(device_of("curl/8.5.0"), "curl");
        assert_eq!(device_of(""), "未知设备 / Unknown device");
        assert_eq!(masked_ip("203.0.113.7"), "203.0.113.*");
        assert_eq!(masked_ip("2001:db8::1"), "2001:db8:*");
    }
}
