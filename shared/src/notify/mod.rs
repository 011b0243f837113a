//! Outgoing SMS and email. Each is a port with its real gateways (Aliyun SMS; Amazon SES in the
//! global regions, Aliyun DirectMail in China, where SES is not offered) in production, and an
//! outbox — JSON lines in a local folder — on a developer's
//! machine and in tests, where nothing may leave the machine. The outbox is the only place a
//! code or link is written in the clear; logs never see one.

pub(crate) mod aliyun;
mod directmail;
mod mail;
mod outbox;
mod sms;

pub use aliyun::{AliyunSms, AliyunSmsConfig, SignedRequest};
pub use directmail::{DirectMailConfig, DirectMailer};
pub use mail::{Mail, Mailer, SesMailer};
pub use outbox::Outbox;
pub use sms::{SmsMessage, SmsSender, SmsTemplate};

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{channel} is not configured")]
    NotConfigured { channel: &'static str },
    #[error("{channel} gateway refused the message: {code}: {message}")]
    Refused {
        channel: &'static str,
        code: String,
        message: String,
    },
    #[error("{channel} transport failed: {source}")]
    Transport {
        channel: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}
