use chrono::Utc;
use lambda_http::Request;
use serde::Deserialize;

use super::common::client_info;
use super::views::SignedInView;
use crate::app::auth::{self, LoginError, NewAccount, RefreshError, RegisterError};
use crate::app::social_login::{self, PhoneProof, SocialCode, SocialSignInError};
use crate::auth::{ProviderError, Tokens};
use crate::deps::Deps;
use crate::domain::user::Social;
use crate::domain::{Email, Password, Phone, UserType, Username};
use crate::http::route as r;
use crate::http::{ApiError, FieldErrors, Reply, json_body};
use crate::i18n::Text;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct RegisterRequest {
    #[schema(required = true, nullable = false)]
    username: Option<String>,
    #[schema(required = true, nullable = false)]
    password: Option<String>,
    #[schema(required = true, nullable = false)]
    user_type: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

impl TryFrom<RegisterRequest> for NewAccount {
    type Error = ApiError;

    fn try_from(r: RegisterRequest) -> Result<NewAccount, ApiError> {
        let mut errors = FieldErrors::new();
        let username = errors
            .required("username", r.username.as_deref())
            .and_then(|u| errors.check("username", Username::parse(u)));
        let password = errors
            .required("password", r.password.as_deref())
            .and_then(|p| errors.check("password", Password::parse(p, r.username.as_deref())));
        let user_type = errors
            .required("user_type", r.user_type.as_deref())
            .and_then(|t| match UserType::parse(t) {
                Some(t @ (UserType::Freelancer | UserType::Client)) => Some(t),
                _ => {
                    errors.add(
                        "user_type",
                        Text::new(
                            "用户类型须为 freelancer 或 client",
                            "user_type must be freelancer or client",
                        ),
                    );
                    None
                }
            });
        let present = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let email = present(&r.email).and_then(|e| errors.check("email", Email::parse(&e)));
        let phone = present(&r.phone).and_then(|p| errors.check("phone", Phone::parse(&p)));
        let (Some(username), Some(password), Some(user_type)) = (username, password, user_type)
        else {
            return Err(ApiError::validation(errors));
        };
        errors.finish()?;
        Ok(NewAccount {
            username,
            password,
            user_type,
            email,
            phone,
        })
    }
}

impl From<RegisterError> for ApiError {
    fn from(e: RegisterError) -> ApiError {
        match e {
            RegisterError::Taken(fields) => {
                let mut err = ApiError::conflict(
                    "auth.already_registered",
                    Text::new(
                        "该账号信息已被注册",
                        "An account with these details already exists",
                    ),
                );
                for f in fields {
                    let text = match f.name() {
                        "username" => Text::new("用户名已被占用", "This username is already taken"),
                        "email" => Text::new("该邮箱已被注册", "This email is already registered"),
                        _ => Text::new(
                            "该手机号已被注册",
                            "This phone number is already registered",
                        ),
                    };
                    err = err.with_field(f.name(), text);
                }
                err
            }
            RegisterError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

/// `POST /auth/register` [auth-register] → 201 `{user, access, refresh}`.
pub async fn register(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let account = NewAccount::try_from(json_body::<RegisterRequest>(&req)?)?;
    let signed_in = auth::register(
        &deps.store,
        &deps.keys,
        account,
        &client_info(deps, &req),
        Utc::now(),
    )
    .await?;
    Ok(Reply::created(
        Text::new("注册成功", "Registered"),
        SignedInView::from(signed_in),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct LoginRequest {
    #[schema(required = true, nullable = false)]
    login: Option<String>,
    #[schema(required = true, nullable = false)]
    password: Option<String>,
}

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> ApiError {
        match e {
            LoginError::RateLimited(secs) => ApiError {
                code: "auth.too_many_attempts",
                message: Text::new(
                    "登录尝试次数过多，请稍后再试",
                    "Too many login attempts; please try again later",
                ),
                ..ApiError::rate_limited(secs)
            },
            LoginError::InvalidCredentials => ApiError::unauthorized(
                "auth.invalid_credentials",
                Text::new("账号或密码错误", "Incorrect login or password"),
            ),
            LoginError::Disabled => super::session::account_disabled(),
            LoginError::Store(e) => ApiError::internal(e),
            LoginError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// `POST /auth/login` [auth-login]: `{login, password}` where login is a username, email or phone.
pub async fn login(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let body: LoginRequest = json_body(&req)?;
    let mut errors = FieldErrors::new();
    let login = errors
        .required("login", body.login.as_deref())
        .map(str::to_owned);
    let password = errors
        .required("password", body.password.as_deref())
        .map(str::to_owned);
    let (Some(login), Some(password)) = (login, password) else {
        return Err(ApiError::validation(errors));
    };
    let signed_in = auth::login(
        &deps.store,
        &deps.keys,
        login.trim(),
        &password,
        &client_info(deps, &req),
        Utc::now(),
    )
    .await?;
    Ok(Reply::ok(
        Text::new("登录成功", "Signed in"),
        SignedInView::from(signed_in),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct RefreshRequest {
    #[schema(required = true, nullable = false)]
    refresh: Option<String>,
}

impl From<RefreshError> for ApiError {
    fn from(e: RefreshError) -> ApiError {
        match e {
            RefreshError::Invalid => ApiError::unauthorized(
                "auth.invalid_refresh_token",
                Text::new(
                    "刷新凭证无效，请重新登录",
                    "Invalid refresh token; please sign in again",
                ),
            ),
            RefreshError::Revoked => ApiError::unauthorized(
                "auth.session_revoked",
                Text::new(
                    "登录已失效，请重新登录",
                    "This session has ended; please sign in again",
                ),
            ),
            RefreshError::Expired => ApiError::unauthorized(
                "auth.refresh_token_expired",
                Text::new(
                    "登录已过期，请重新登录",
                    "Refresh token expired; please sign in again",
                ),
            ),
            RefreshError::Reused => ApiError::unauthorized(
                "auth.refresh_token_reused",
                Text::new(
                    "检测到刷新凭证被重复使用，为保护账号安全已退出该登录，请重新登录",
                    "This refresh token was already used; the session has been revoked for your safety. Please sign in again",
                ),
            ),
            RefreshError::Store(e) => ApiError::internal(e),
            RefreshError::Internal(e) => ApiError::internal(e),
        }
    }
}

fn refresh_field(req: &Request) -> Result<String, ApiError> {
    let body: RefreshRequest = json_body(req)?;
    let mut errors = FieldErrors::new();
    let token = errors
        .required("refresh", body.refresh.as_deref())
        .map(str::to_owned);
    errors.finish()?;
    token.ok_or_else(|| ApiError::internal("required field vanished"))
}

/// `POST /auth/refresh-token` [auth-refresh]: `{refresh}` → `{access, refresh}`.
pub async fn refresh(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let token = refresh_field(&req)?;
    let tokens: Tokens = auth::refresh(&deps.store, &deps.keys, &token, Utc::now()).await?;
    Ok(Reply::ok(Text::new("已刷新", "Refreshed"), tokens))
}

/// `POST /auth/logout` [auth-logout]: `{refresh}` → 204; the session is revoked.
pub async fn logout(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let token = refresh_field(&req)?;
    auth::logout(&deps.store, &deps.keys, &token).await?;
    Ok(Reply::no_content())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"client": "mini_program", "code": "0a3Xq2000kC3ZQ1hB3400xJ8mB2Xq20x", "phone_code": "e31968a7f94cc5ee25fafc2aef2773f0bb8c3937b22520eb8ee345274d00c144"}))]
pub(crate) struct WechatLoginRequest {
    /// `mini_program` (the code of `wx.login()`) or `web` (the QR-code OAuth code).
    #[schema(required = true, nullable = false)]
    client: Option<String>,
    #[schema(required = true, nullable = false)]
    code: Option<String>,
    /// First sign-in in the mini-program: the code of the phone-number button
    /// (`getPhoneNumber`).
    phone_code: Option<String>,
    /// First sign-in elsewhere: a number and the `login` SMS code sent to it.
    phone: Option<String>,
    sms_code: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"client": "mini_program", "code": "4b203fe6c11548bcabd8da5bb087a83b", "phone_response": "{\"response\":\"igATcyTqqgv1AFpBiHJyVf94zn4d80DWhHrnUhty+8RANJYRclz7h18/tips8L5UTuMmNV7rHGCs+h7uZSZZQQ==\",\"sign\":\"…\",\"sign_type\":\"RSA2\",\"encrypt_type\":\"AES\",\"charset\":\"UTF-8\"}"}))]
pub(crate) struct AlipayLoginRequest {
    /// `mini_program` (the `auth_code` of `my.getAuthCode()`) or `web` (the authorisation
    /// page's `auth_code`).
    #[schema(required = true, nullable = false)]
    client: Option<String>,
    #[schema(required = true, nullable = false)]
    code: Option<String>,
    /// First sign-in in the mini-program: the answer of `my.getPhoneNumber()` as the client got
    /// it (signed and encrypted by Alipay).
    phone_response: Option<String>,
    /// First sign-in elsewhere: a number and the `login` SMS code sent to it.
    phone: Option<String>,
    sms_code: Option<String>,
}

/// `{provider}.{what}` as a stable code.
fn social_code(social: Social, what: &str) -> &'static str {
    match (social, what) {
        (Social::Wechat, "invalid_code") => "wechat.invalid_code",
        (Social::Wechat, "unavailable") => "wechat.unavailable",
        (Social::Wechat, "busy") => "wechat.busy",
        (Social::Wechat, "phone_required") => "wechat.phone_required",
        (Social::Wechat, "phone_code") => "wechat.phone_code_mini_program_only",
        (Social::Wechat, "phone_bound_elsewhere") => "wechat.phone_bound_elsewhere",
        (Social::Wechat, _) => "wechat.bound_elsewhere",
        (Social::Alipay, "invalid_code") => "alipay.invalid_code",
        (Social::Alipay, "unavailable") => "alipay.unavailable",
        (Social::Alipay, "busy") => "alipay.busy",
        (Social::Alipay, "phone_required") => "alipay.phone_required",
        (Social::Alipay, "phone_code") => "alipay.phone_response_mini_program_only",
        (Social::Alipay, "phone_bound_elsewhere") => "alipay.phone_bound_elsewhere",
        (Social::Alipay, _) => "alipay.bound_elsewhere",
    }
}

impl From<SocialSignInError> for ApiError {
    fn from(e: SocialSignInError) -> ApiError {
        use lambda_http::http::StatusCode;
        let name = |s: Social| match s {
            Social::Wechat => ("微信", "WeChat"),
            Social::Alipay => ("支付宝", "Alipay"),
        };
        let phone_field = |s: Social| match s {
            Social::Wechat => "phone_code",
            Social::Alipay => "phone_response",
        };
        match e {
            SocialSignInError::RateLimited(s) => ApiError::rate_limited(s),
            SocialSignInError::Provider(s, ProviderError::InvalidCode(_)) => {
                let (zh, en) = name(s);
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    social_code(s, "invalid_code"),
                    Text::owned(
                        format!("{zh}授权已失效或无效，请重新授权登录"),
                        format!(
                            "The {en} authorisation is invalid or used; sign in with {en} again"
                        ),
                    ),
                )
            }
            SocialSignInError::Provider(s, ProviderError::NotConfigured) => {
                let (zh, en) = name(s);
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    social_code(s, "unavailable"),
                    Text::owned(
                        format!("暂不支持此方式的{zh}登录"),
                        format!("This way of signing in with {en} is not available"),
                    ),
                )
                .with_field("client", Text::new("暂不可用", "Not available"))
            }
            SocialSignInError::Provider(s, ProviderError::Provider(cause)) => {
                let (zh, en) = name(s);
                ApiError {
                    cause: Some(cause.into()),
                    ..ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        social_code(s, "busy"),
                        Text::owned(
                            format!("{zh}服务暂时不可用，请稍后重试"),
                            format!("{en} could not answer; try again shortly"),
                        ),
                    )
                }
            }
            SocialSignInError::PhoneRequired(s) => {
                let (zh, en) = name(s);
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    social_code(s, "phone_required"),
                    Text::owned(
                        format!("首次{zh}登录需要验证手机号"),
                        format!("A first {en} sign-in needs your phone number"),
                    ),
                )
                .with_field(
                    phone_field(s),
                    Text::new(
                        "请授权手机号，或提供手机号和短信验证码",
                        "Share your number, or give a number and its SMS code",
                    ),
                )
            }
            SocialSignInError::PhoneCodeNotHere(s) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                social_code(s, "phone_code"),
                Text::new(
                    "手机号授权仅适用于小程序，请改用短信验证码",
                    "The phone-number button works in the mini-program only; use an SMS code",
                ),
            )
            .with_field(
                phone_field(s),
                Text::new("仅小程序可用", "Mini-program only"),
            ),
            SocialSignInError::PhoneBoundElsewhere(s) => {
                let (zh, en) = name(s);
                ApiError::conflict(
                    social_code(s, "phone_bound_elsewhere"),
                    Text::owned(
                        format!("该手机号的账号已绑定其他{zh}"),
                        format!("The account of this number is bound to another {en} user"),
                    ),
                )
            }
            SocialSignInError::BoundElsewhere(s) => {
                let (zh, en) = name(s);
                ApiError::conflict(
                    social_code(s, "bound_elsewhere"),
                    Text::owned(
                        format!("该{zh}已绑定其他账号"),
                        format!("This {en} user is bound to another account"),
                    ),
                )
            }
            SocialSignInError::Disabled => ApiError::forbidden(
                "account.disabled",
                Text::new("账号已被停用", "This account is disabled"),
            ),
            SocialSignInError::Code(c) => super::common::code_refused(c, StatusCode::UNAUTHORIZED),
            SocialSignInError::Store(e) => ApiError::internal(e),
            SocialSignInError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// The fields both sign-ins share: where the code comes from, and how a first-time user proves
/// a number (`button`: the mini-program's phone-number answer under its field `button_field`).
fn social_fields(
    (client, code): (Option<&str>, Option<&str>),
    (button_field, button): (&'static str, Option<&str>),
    (phone, sms_code): (Option<&str>, Option<&str>),
) -> Result<(SocialCode, PhoneProof), ApiError> {
    let mut errors = FieldErrors::new();
    let client = errors.required("client", client);
    let code = errors.required("code", code).map(str::trim);
    let how = match (client, code) {
        (Some("mini_program"), Some(c)) => Some(SocialCode::MiniProgram(c.to_owned())),
        (Some("web"), Some(c)) => Some(SocialCode::Web(c.to_owned())),
        (Some(_), _) => {
            errors.add(
                "client",
                Text::new("须为 mini_program 或 web", "Must be mini_program or web"),
            );
            None
        }
        _ => None,
    };
    let proof = match (button, phone, sms_code) {
        (Some(c), None, None) if !c.trim().is_empty() => {
            PhoneProof::MiniProgram(c.trim().to_owned())
        }
        (None, Some(p), Some(c)) => match errors.check("phone", Phone::parse(p)) {
            Some(phone) => PhoneProof::Sms {
                phone,
                code: c.trim().to_owned(),
            },
            None => PhoneProof::None,
        },
        (None, None, None) => PhoneProof::None,
        _ => {
            errors.add(
                button_field,
                Text::owned(
                    "手机号授权，或手机号加短信验证码，二选一".to_owned(),
                    format!("Either {button_field}, or phone with sms_code"),
                ),
            );
            PhoneProof::None
        }
    };
    errors.finish()?;
    match how {
        Some(how) => Ok((how, proof)),
        None => Err(ApiError::internal("required field vanished")),
    }
}

/// `POST /auth/login/wechat` [auth-login-wechat]: 微信登录 from the mini-program or the website →
/// 200 with tokens; a new WeChat user proves a phone number once (bound to that number's account,
/// or a new client account).
pub async fn login_wechat(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let body: WechatLoginRequest = json_body(&req)?;
    let (how, proof) = social_fields(
        (body.client.as_deref(), body.code.as_deref()),
        ("phone_code", body.phone_code.as_deref()),
        (body.phone.as_deref(), body.sms_code.as_deref()),
    )?;
    let wechat = deps
        .wechat_login
        .as_ref()
        .ok_or(SocialSignInError::Provider(
            Social::Wechat,
            ProviderError::NotConfigured,
        ))?;
    let signed = social_login::login_wechat(
        &deps.store,
        &deps.keys,
        wechat,
        (&how, &proof),
        &client_info(deps, &req),
        Utc::now(),
    )
    .await?;
    Ok(Reply::ok(
        Text::new("登录成功", "Signed in"),
        SignedInView::from(signed),
    ))
}

/// `POST /auth/login/alipay` [auth-login-alipay]: 支付宝登录 from the mini-program or the
/// website → 200 with tokens; the same binding rules as WeChat.
pub async fn login_alipay(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let body: AlipayLoginRequest = json_body(&req)?;
    let (how, proof) = social_fields(
        (body.client.as_deref(), body.code.as_deref()),
        ("phone_response", body.phone_response.as_deref()),
        (body.phone.as_deref(), body.sms_code.as_deref()),
    )?;
    let alipay = deps
        .alipay_login
        .as_ref()
        .ok_or(SocialSignInError::Provider(
            Social::Alipay,
            ProviderError::NotConfigured,
        ))?;
    let signed = social_login::login_alipay(
        &deps.store,
        &deps.keys,
        alipay,
        (&how, &proof),
        &client_info(deps, &req),
        Utc::now(),
    )
    .await?;
    Ok(Reply::ok(
        Text::new("登录成功", "Signed in"),
        SignedInView::from(signed),
    ))
}

/// This module's routes: what each of its handlers takes and answers (`api::openapi`
/// assembles them into the document).
pub(crate) fn routes() -> Vec<r::Route> {
    use r::Access::*;
    vec![
        r::route(
            "POST",
            "/auth/register",
            "auth-register",
            Public,
            "auth",
            "注册 / Register",
        )
        .body(r::one::<RegisterRequest>)
        .created(r::one::<SignedInView>)
        .errors(&[409]),
        r::route(
            "POST",
            "/auth/login",
            "auth-login",
            Public,
            "auth",
            "登录 / Sign in",
        )
        .body(r::one::<LoginRequest>)
        .ok(r::one::<SignedInView>)
        .errors(&[401, 403]),
        r::route(
            "POST",
            "/auth/login/wechat",
            "auth-login-wechat",
            Public,
            "auth",
            "微信登录 / Sign in with WeChat",
        )
        .body(r::one::<WechatLoginRequest>)
        .ok(r::one::<SignedInView>)
        .errors(&[401, 403, 409, 503]),
        r::route(
            "POST",
            "/auth/login/alipay",
            "auth-login-alipay",
            Public,
            "auth",
            "支付宝登录 / Sign in with Alipay",
        )
        .body(r::one::<AlipayLoginRequest>)
        .ok(r::one::<SignedInView>)
        .errors(&[401, 403, 409, 503]),
        r::route(
            "POST",
            "/auth/refresh-token",
            "auth-refresh",
            Public,
            "auth",
            "刷新令牌 / Refresh tokens",
        )
        .body(r::one::<RefreshRequest>)
        .ok(r::one::<crate::auth::Tokens>)
        .errors(&[401, 403]),
        r::route(
            "POST",
            "/auth/logout",
            "auth-logout",
            Public,
            "auth",
            "退出登录 / Sign out",
        )
        .body(r::one::<RefreshRequest>)
        .out(r::Out::NoContent)
        .errors(&[401]),
    ]
}
