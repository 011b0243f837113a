use super::{AliyunSms, NotifyError, Outbox};
use crate::domain::Phone;

/// The text templates registered with the SMS gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsTemplate {
    /// Sign-in or sign-up code.
    SignInCode,
    /// Password-reset code.
    ResetCode,
    /// An order needs the user (new order, delivery, dispute) while they are offline:
    /// `code` carries the order number, `event` what happened.
    OrderNotice,
}

impl SmsTemplate {
    pub fn as_str(&self) -> &'static str {
        match self {
            SmsTemplate::SignInCode => "signin_code",
            SmsTemplate::ResetCode => "reset_code",
            SmsTemplate::OrderNotice => "order_notice",
        }
    }
}

/// One verification-code text.
#[derive(Debug, Clone)]
pub struct SmsMessage<'a> {
    pub phone: &'a Phone,
    pub template: SmsTemplate,
    pub code: &'a str,
    /// For notices: a short name of what happened (`order.delivered`).
    pub event: Option<&'a str>,
}

impl SmsMessage<'_> {
    /// The template's variables: `{code}` for codes, `{order, event}` for notices.
    pub fn template_param(&self) -> serde_json::Value {
        match self.template {
            SmsTemplate::OrderNotice => serde_json::json!({
                "order": self.code,
                "event": self.event.unwrap_or_default(),
            }),
            _ => serde_json::json!({ "code": self.code }),
        }
    }
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
            SmsSender::Outbox(o) => {
                let mut line = serde_json::json!({
                    "to": msg.phone.as_str(),
                    "template": msg.template.as_str(),
                    "at": chrono::Utc::now().to_rfc3339(),
                });
                if let (Some(l), serde_json::Value::Object(p)) =
                    (line.as_object_mut(), msg.template_param())
                {
                    l.extend(p);
                }
                o.append("sms", &line)
            }
            SmsSender::Aliyun(a) => a.send(msg).await,
        }
    }
}
