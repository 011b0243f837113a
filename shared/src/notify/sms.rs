use super::{AliyunSms, NotifyError, Outbox};
use crate::domain::Phone;

/// The text templates registered with the SMS gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsTemplate {
    /// Sign-in or sign-up code.
    SignInCode,
    /// Password-reset code.
    ResetCode,
}

impl SmsTemplate {
    pub fn as_str(&self) -> &'static str {
        match self {
            SmsTemplate::SignInCode => "signin_code",
            SmsTemplate::ResetCode => "reset_code",
        }
    }
}

/// One verification-code text.
#[derive(Debug, Clone)]
pub struct SmsMessage<'a> {
    pub phone: &'a Phone,
    pub template: SmsTemplate,
    pub code: &'a str,
}

/// The SMS port.
#[derive(Debug, Clone)]
pub enum SmsSender {
    /// No provider configured: sending fails loudly instead of silently dropping codes.
    Disabled,
    Outbox(Outbox),
    Aliyun(AliyunSms),
}

impl SmsSender {
    pub async fn send(&self, msg: &SmsMessage<'_>) -> Result<(), NotifyError> {
        match self {
            SmsSender::Disabled => Err(NotifyError::NotConfigured { channel: "sms" }),
            SmsSender::Outbox(o) => o.append(
                "sms",
                &serde_json::json!({
                    "to": msg.phone.as_str(),
                    "template": msg.template.as_str(),
                    "code": msg.code,
                    "at": chrono::Utc::now().to_rfc3339(),
                }),
            ),
            SmsSender::Aliyun(a) => a.send(msg).await,
        }
    }
}
