//! SMS codes, code sign-in, email verification and password reset.

use chrono::Utc;
use lambda_http::Request;
use serde::Deserialize;

use super::OwnUserView;
use super::common::{client_info, code_refused};
use super::session::{account_disabled, signed_in};
use super::views::SignedInView;
use crate::app::account::{self, AccountError, ResetConfirmError, ResetProof, ResetTarget};
use crate::app::sms::{self, SmsCodeError, SmsLoginError, SmsPurpose};
use crate::deps::Deps;
use crate::domain::{Email, Phone};
use crate::http::route as r;
use crate::http::{ApiError, FieldErrors, Reply, json_body};
use crate::i18n::Text;

fn send_failed() -> ApiError {
    ApiError::new(
        lambda_http::http::StatusCode::SERVICE_UNAVAILABLE,
        "notify.send_failed",
        Text::new(
            "消息发送失败，请稍后再试",
            "We could not send the message; please try again shortly",
        ),
    )
}

fn code_limited(secs: u64) -> ApiError {
    ApiError {
        code: "auth.code_rate_limited",
        message: Text::new(
            "验证码发送过于频繁，请稍后再试（每个手机号每分钟 1 条、每天 10 条）",
            "Too many codes requested; try again later (1 a minute and 10 a day per phone number)",
        ),
        ..ApiError::rate_limited(secs)
    }
}

impl From<SmsCodeError> for ApiError {
    fn from(e: SmsCodeError) -> ApiError {
        match e {
            SmsCodeError::RateLimited(s) => code_limited(s),
            SmsCodeError::Send(cause) => ApiError {
                cause: Some(cause.into()),
                ..send_failed()
            },
            SmsCodeError::Store(e) => ApiError::internal(e),
            SmsCodeError::Internal(e) => ApiError::internal(e),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct SmsCodeRequest {
    #[schema(required = true, nullable = false)]
    phone: Option<String>,
    #[schema(required = true, nullable = false)]
    purpose: Option<String>,
}

/// `POST /auth/sms-code` [auth-sms-code]: `{phone, purpose: login|register|reset|change_phone}`
/// → 202.
pub async fn sms_code(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let body: SmsCodeRequest = json_body(&req)?;
    let mut errors = FieldErrors::new();
    let phone = errors
        .required("phone", body.phone.as_deref())
        .and_then(|p| errors.check("phone", Phone::parse(p)));
    let purpose = errors
        .required("purpose", body.purpose.as_deref())
        .and_then(|p| {
            let parsed = SmsPurpose::parse(p.trim());
            if parsed.is_none() {
                errors.add(
                    "purpose",
                    Text::new(
                        "用途须为 login、register、reset 或 change_phone",
                        "purpose must be login, register, reset or change_phone",
                    ),
                );
            }
            parsed
        });
    errors.finish()?;
    let (Some(phone), Some(purpose)) = (phone, purpose) else {
        return Err(ApiError::internal("required field vanished"));
    };
    sms::issue_code(
        &deps.store,
        &deps.keys,
        &deps.sms,
        &phone,
        purpose,
        &client_info(deps, &req),
        Utc::now(),
    )
    .await?;
    Ok(Reply::accepted(Text::new(
        "验证码已发送，5 分钟内有效",
        "Code sent; it is valid for 5 minutes",
    )))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct SmsLoginRequest {
    #[schema(required = true, nullable = false)]
    phone: Option<String>,
    #[schema(required = true, nullable = false)]
    code: Option<String>,
}

fn parse_code(errors: &mut FieldErrors, code: Option<&str>) -> Option<String> {
    errors.required("code", code).and_then(|c| {
        let c = c.trim();
        if c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()) {
            Some(c.to_owned())
        } else {
            errors.add(
                "code",
                Text::new("验证码为 6 位数字", "The code is 6 digits"),
            );
            None
        }
    })
}

impl From<SmsLoginError> for ApiError {
    fn from(e: SmsLoginError) -> ApiError {
        match e {
            SmsLoginError::RateLimited(secs) => ApiError {
                code: "auth.too_many_attempts",
                message: Text::new(
                    "登录尝试次数过多，请稍后再试",
                    "Too many sign-in attempts; please try again later",
                ),
                ..ApiError::rate_limited(secs)
            },
            SmsLoginError::Code(c) => code_refused(c, lambda_http::http::StatusCode::UNAUTHORIZED),
            SmsLoginError::Disabled => account_disabled(),
            SmsLoginError::Store(e) => ApiError::internal(e),
            SmsLoginError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// `POST /auth/login/sms` [auth-login-sms]: `{phone, code}` → tokens; the first sign-in of a
/// number creates a client account.
pub async fn login_sms(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let body: SmsLoginRequest = json_body(&req)?;
    let mut errors = FieldErrors::new();
    let phone = errors
        .required("phone", body.phone.as_deref())
        .and_then(|p| errors.check("phone", Phone::parse(p)));
    let code = parse_code(&mut errors, body.code.as_deref());
    errors.finish()?;
    let (Some(phone), Some(code)) = (phone, code) else {
        return Err(ApiError::internal("required field vanished"));
    };
    let signed = sms::login(
        &deps.store,
        &deps.keys,
        &phone,
        &code,
        &client_info(deps, &req),
        Utc::now(),
    )
    .await?;
    Ok(Reply::ok(
        Text::new("登录成功", "Signed in"),
        SignedInView::from(signed),
    ))
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> ApiError {
        match e {
            AccountError::RateLimited(s) => ApiError::rate_limited(s),
            AccountError::NoEmail => ApiError::new(
                lambda_http::http::StatusCode::UNPROCESSABLE_ENTITY,
                "auth.no_email",
                Text::new("账号未绑定邮箱", "This account has no email address"),
            ),
            AccountError::AlreadyVerified => ApiError::conflict(
                "auth.email_already_verified",
                Text::new("邮箱已验证", "This email address is already verified"),
            ),
            AccountError::InvalidToken => ApiError::bad_request(
                "auth.invalid_token",
                Text::new(
                    "链接无效、已使用或已过期，请重新获取",
                    "This link is invalid, used or expired; request a new one",
                ),
            ),
            AccountError::EmailTaken => ApiError::conflict(
                "email.taken",
                Text::new(
                    "该邮箱已绑定其他账号",
                    "This address belongs to another account",
                ),
            )
            .with_field("new_email", Text::new("已被占用", "Already taken")),
            AccountError::SameEmail => ApiError::new(
                lambda_http::http::StatusCode::UNPROCESSABLE_ENTITY,
                "email.unchanged",
                Text::new(
                    "新邮箱与当前邮箱相同",
                    "The new address is your current one",
                ),
            )
            .with_field(
                "new_email",
                Text::new("与当前邮箱相同", "Same as the current address"),
            ),
            AccountError::WrongPassword => ApiError::new(
                lambda_http::http::StatusCode::UNPROCESSABLE_ENTITY,
                "password.wrong",
                Text::new("密码不正确", "The password is wrong"),
            )
            .with_field("password", Text::new("密码不正确", "Wrong password")),
            AccountError::Code(c) => code_refused(c, lambda_http::http::StatusCode::BAD_REQUEST),
            AccountError::Send(cause) => ApiError {
                cause: Some(cause.into()),
                ..send_failed()
            },
            AccountError::Store(e) => ApiError::internal(e),
            AccountError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// `POST /auth/verify-email/send` [auth-verify-email-send]: emails the caller a link → 202.
pub async fn verify_email_send(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, user) = signed_in(deps, &req).await?;
    account::send_verification(
        &deps.store,
        &deps.mail,
        &deps.config.app_base_url,
        &user,
        Utc::now(),
    )
    .await?;
    Ok(Reply::accepted(Text::new(
        "验证邮件已发送，24 小时内有效",
        "Verification email sent; the link works for 24 hours",
    )))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"new_email": "xiaowang@example.com", "password": "Sheji-2026-safe"}))]
pub(crate) struct EmailChangeRequest {
    #[schema(required = true, nullable = false)]
    new_email: Option<String>,
    /// The account's password (required when it has one).
    password: Option<String>,
}

/// `POST /users/profile/email` [user-email-change]: emails a confirmation link to the new
/// address → 202; the account moves there when the link is used (`POST /auth/verify-email`).
pub async fn email_change(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let body: EmailChangeRequest = json_body(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let mut errors = FieldErrors::new();
    let email = errors
        .required("new_email", body.new_email.as_deref())
        .and_then(|e| errors.check("new_email", crate::domain::Email::parse(e)));
    errors.finish()?;
    let Some(email) = email else {
        return Err(ApiError::internal("required field vanished"));
    };
    account::request_email_change(
        &deps.store,
        (&deps.mail, &deps.config.app_base_url),
        &user,
        &email,
        body.password.as_deref(),
        Utc::now(),
    )
    .await?;
    Ok(Reply::accepted(Text::new(
        "确认链接已发送到新邮箱，24 小时内有效",
        "A confirmation link was sent to the new address; it works for 24 hours",
    )))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct TokenRequest {
    #[schema(required = true, nullable = false)]
    token: Option<String>,
}

/// `POST /auth/verify-email` [auth-verify-email]: `{token}` → 200 with the user.
pub async fn verify_email(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let body: TokenRequest = json_body(&req)?;
    let mut errors = FieldErrors::new();
    let token = errors
        .required("token", body.token.as_deref())
        .map(|t| t.trim().to_owned());
    errors.finish()?;
    let token = token.ok_or_else(|| ApiError::internal("required field vanished"))?;
    let user = account::verify_email(&deps.store, &token, Utc::now()).await?;
    if !user.is_active() {
        return Err(account_disabled());
    }
    Ok(Reply::ok(
        Text::new("邮箱验证成功", "Email verified"),
        OwnUserView::from(&user),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ResetRequest {
    email: Option<String>,
    phone: Option<String>,
}

/// `POST /auth/password-reset` [auth-password-reset]: `{email}` or `{phone}` → 202, the same
/// answer whether or not an account exists.
pub async fn password_reset(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let body: ResetRequest = json_body(&req)?;
    let present = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let mut errors = FieldErrors::new();
    let target = match (present(&body.email), present(&body.phone)) {
        (Some(e), None) => errors
            .check("email", Email::parse(&e))
            .map(ResetTarget::Email),
        (None, Some(p)) => errors
            .check("phone", Phone::parse(&p))
            .map(ResetTarget::Phone),
        _ => {
            errors.add(
                "email",
                Text::new("请提供邮箱或手机号（二选一）", "Give either email or phone"),
            );
            None
        }
    };
    errors.finish()?;
    let target = target.ok_or_else(|| ApiError::internal("required field vanished"))?;
    account::request_reset(
        &deps.store,
        &deps.keys,
        &deps.mail,
        &deps.sms,
        &deps.config.app_base_url,
        &target,
        &client_info(deps, &req),
        Utc::now(),
    )
    .await?;
    Ok(Reply::accepted(Text::new(
        "如果该账号存在，我们已发送重置密码的链接或验证码",
        "If an account exists for it, we have sent a reset link or code",
    )))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ResetConfirmRequest {
    token: Option<String>,
    phone: Option<String>,
    code: Option<String>,
    #[schema(required = true, nullable = false)]
    new_password: Option<String>,
}

impl From<ResetConfirmError> for ApiError {
    fn from(e: ResetConfirmError) -> ApiError {
        match e {
            ResetConfirmError::Account(a) => a.into(),
            ResetConfirmError::WeakPassword(t) => {
                let mut f = FieldErrors::new();
                f.add("new_password", t);
                ApiError::validation(f)
            }
        }
    }
}

/// `POST /auth/password-reset/confirm` [auth-password-reset-confirm]: `{token, new_password}`
/// or `{phone, code, new_password}` → 200; every session of the account is signed out.
pub async fn password_reset_confirm(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let body: ResetConfirmRequest = json_body(&req)?;
    let mut errors = FieldErrors::new();
    let new_password = errors
        .required("new_password", body.new_password.as_deref())
        .map(str::to_owned);
    let proof = match body
        .token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(token) => Some(ResetProof::Token(token.to_owned())),
        None => {
            let phone = errors
                .required("phone", body.phone.as_deref())
                .and_then(|p| errors.check("phone", Phone::parse(p)));
            let code = parse_code(&mut errors, body.code.as_deref());
            match (phone, code) {
                (Some(phone), Some(code)) => Some(ResetProof::Code { phone, code }),
                _ => None,
            }
        }
    };
    errors.finish()?;
    let (Some(proof), Some(new_password)) = (proof, new_password) else {
        return Err(ApiError::internal("required field vanished"));
    };
    account::confirm_reset(
        &deps.store,
        &deps.keys,
        &proof,
        &new_password,
        &client_info(deps, &req),
        Utc::now(),
    )
    .await?;
    Ok(Reply::ok(
        Text::new(
            "密码已重置，请使用新密码登录",
            "Password reset; sign in with your new password",
        ),
        ResetDone {
            signed_out_everywhere: true,
        },
    ))
}

/// A confirmed password reset: every session of the account was ended.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ResetDone {
    signed_out_everywhere: bool,
}

/// This module's routes: what each of its handlers takes and answers (`api::openapi`
/// assembles them into the document).
pub(crate) fn routes() -> Vec<r::Route> {
    use r::Access::*;
    vec![
        r::route(
            "POST",
            "/auth/sms-code",
            "auth-sms-code",
            Public,
            "auth",
            "发送短信验证码 / Send an SMS code",
        )
        .body(r::one::<SmsCodeRequest>)
        .out(r::Out::Accepted)
        .errors(&[409, 503]),
        r::route(
            "POST",
            "/auth/login/sms",
            "auth-login-sms",
            Public,
            "auth",
            "短信验证码登录 / Sign in with an SMS code",
        )
        .body(r::one::<SmsLoginRequest>)
        .ok(r::one::<SignedInView>)
        .errors(&[401, 403, 409]),
        r::route(
            "POST",
            "/auth/verify-email/send",
            "auth-verify-email-send",
            User,
            "auth",
            "发送邮箱验证邮件 / Send the email verification link",
        )
        .out(r::Out::Accepted)
        .errors(&[409, 503]),
        r::route(
            "POST",
            "/users/profile/email",
            "user-email-change",
            User,
            "users",
            "更换邮箱 / Change my email address",
        )
        .body(r::one::<EmailChangeRequest>)
        .out(r::Out::Accepted)
        .errors(&[409, 503]),
        r::route(
            "POST",
            "/auth/verify-email",
            "auth-verify-email",
            Public,
            "auth",
            "验证邮箱 / Verify an email address",
        )
        .body(r::one::<TokenRequest>)
        .ok(r::one::<crate::api::views::OwnUserView>)
        .errors(&[401, 404, 409]),
        r::route(
            "POST",
            "/auth/password-reset",
            "auth-password-reset",
            Public,
            "auth",
            "申请重置密码 / Ask for a password reset",
        )
        .body(r::one::<ResetRequest>)
        .out(r::Out::Accepted)
        .errors(&[503]),
        r::route(
            "POST",
            "/auth/password-reset/confirm",
            "auth-password-reset-confirm",
            Public,
            "auth",
            "重置密码 / Reset the password",
        )
        .body(r::one::<ResetConfirmRequest>)
        .ok(r::one::<ResetDone>)
        .errors(&[401, 404]),
    ]
}
